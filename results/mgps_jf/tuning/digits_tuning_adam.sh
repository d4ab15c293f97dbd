#!/usr/bin/env bash
# Candidate (a): the Gaussian-case Jacobian with MGPS's own Adam fit (step=adam) and MGPS's
# image presets (lr 0.1; eta 1 late on SR), on the same tuning digits 0-9, 50 steps.
set -euo pipefail
CONFIGS=()
for ds in 1.0 100.0; do
  CONFIGS+=("jf_adam_ds${ds}:mgps_jf:num_steps=50,jacobian=gaussian,midpoint_late=none,step=adam,lr=0.1,data_std=${ds}")
done
python scripts/digits_mgps_sweep.py --operators box sr4 --first 0 --n-images 10 \
  --config "mgps50:mgps:num_steps=50" "${CONFIGS[@]}" --out results/mgps_jf/tuning/digits_adam
