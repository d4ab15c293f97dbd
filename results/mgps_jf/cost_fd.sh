#!/usr/bin/env bash
# Network calls, seconds (wall, and the process's CPU seconds, which other jobs on a shared
# machine do not inflate) and peak memory of MGPS and both mgps_jf variants at equal steps, one
# torch thread, each run in its own subprocess, each with its presets (mgps_jf's default, forward
# differences, has MGPS's; the Gaussian variant its tuned midpoint 0.9). "fast": forward
# differences without warm start and 2 (not 10) Adam iterations in the first 10 steps.
# 256²: random weights, 3 steps (two iterations), no warm start, 2 Adam iterations (VJPs or
# forward differences) per step, as in cost.sh.
set -euo pipefail
D=results/mgps_jf
G="mgps_jf:jacobian=gaussian,midpoint=0.9"
F="mgps_jf:num_gradient_steps_initial=2,warm_start=false"
for op in box sr4; do
  python scripts/mgps_jf_cost.py --prior digits --operator $op --steps 50 --n-samples 4 \
    --samplers mgps mgps_jf "$G" "$F" --out $D/cost_fd_digits_$op.json
done
python scripts/mgps_jf_cost.py --prior unet256 --operator box --steps 3 --n-samples 1 \
  --param warm_start=false --param num_gradient_steps_initial=2 --samplers mgps mgps_jf "$G" \
  --out $D/cost_fd_unet256_box.json
