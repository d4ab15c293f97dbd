#!/usr/bin/env bash
# Candidate (c): jacobian=forward_difference, MGPS's Adam fit on its own loss with each VJP
# replaced by a forward difference (one forward call), with MGPS's image presets (lr 0.1;
# midpoint_late 1 on SR x4), on tuning digits 0-9, 50 steps: the step h, and one Adam
# iteration per step instead of MGPS's 2 (fewer calls); "fast": no warm start and 2 Adam
# iterations (not 10) in the first 10 steps, about half the calls.
set -euo pipefail
for op in box sr4; do
  P="num_steps=50,jacobian=forward_difference,lr=0.1,midpoint=0.5"
  [ "$op" = sr4 ] && P="$P,midpoint_late=1.0"
  python scripts/digits_mgps_sweep.py --operators $op --first 0 --n-images 10 \
    --config "mgps50:mgps:num_steps=50" "fd_h0.001:mgps_jf:$P,fd_step=0.001" \
    "fd_h0.01:mgps_jf:$P,fd_step=0.01" "fd_h0.1:mgps_jf:$P,fd_step=0.1" \
    "fd_h0.01_m1:mgps_jf:$P,fd_step=0.01,num_gradient_steps=1,num_gradient_steps_periodic=1" \
    "fd_h0.01_fast:mgps_jf:$P,fd_step=0.01,num_gradient_steps_initial=2,warm_start=false" \
    --out results/mgps_jf/tuning/digits_fd_$op
done
