#!/usr/bin/env bash
# mgps_jf against MGPS-50 and DPS-1000 on the five digit tasks, fresh digits 900-907 (never
# used for tuning), each sampler with its presets; paired differences to MGPS-50.
# jf_fd: the default (forward differences, MGPS's presets); jf_gauss: jacobian=gaussian with
# its tuned midpoint 0.9 (tuning/digits_tuning.sh). Equal CPU time (cost_fd.sh: the Gaussian
# variant takes 0.5x MGPS's CPU time at equal steps, forward differences 1.16x): jf_gauss100,
# jf_fd43 and jf_fd37 (at batch 8 forward differences took 1.24-1.44x, so 37 steps).
# "fast" (tuning/digits_fd.sh): no warm start and 2 (not 10) Adam iterations in the first 10
# steps, for forward differences and, to tell the schedule's saving from the Jacobian's, for
# MGPS itself. A rerun computes only the cells missing under --out.
set -euo pipefail
python scripts/digits_mgps_sweep.py --operators box sr4 half gaussian_blur jpeg --first 900 --n-images 8 \
  --config "mgps50:mgps:num_steps=50" "dps1000:dps:num_steps=1000" "jf_fd50:mgps_jf:num_steps=50" \
  "jf_gauss50:mgps_jf:num_steps=50,jacobian=gaussian,midpoint=0.9" \
  "jf_fd43:mgps_jf:num_steps=43" "jf_fd37:mgps_jf:num_steps=37" \
  "jf_gauss100:mgps_jf:num_steps=100,jacobian=gaussian,midpoint=0.9" \
  "jf_fd_fast50:mgps_jf:num_steps=50,num_gradient_steps_initial=2,warm_start=false" \
  "mgps_fast50:mgps:num_steps=50,num_gradient_steps_initial=2,warm_start=false" \
  "$@" --out results/mgps_jf/digits_all
