#!/usr/bin/env bash
# mgps_jf's image settings chosen on tuning digits 0-9 (the project's tuning range), 50 steps.
# (A first grid, data_std 0.5/1/2 with the network linearised at the mean, diverged at eta 0.9:
# off the data manifold the network's Jacobian is near 1/sqrt(a), far above sqrt(a) sd^2.)
set -euo pipefail
CONFIGS=()
for ds in 2.0 10.0 100.0; do for eta in 0.5 0.9; do
  CONFIGS+=("jf_ds${ds}_eta${eta}:mgps_jf:num_steps=50,jacobian=gaussian,lr=0.03,data_std=${ds},midpoint=${eta},midpoint_late=none")
done; done
python scripts/digits_mgps_sweep.py --operators box sr4 --first 0 --n-images 10 \
  --config "mgps50:mgps:num_steps=50" "${CONFIGS[@]}" --out results/mgps_jf/tuning/digits
