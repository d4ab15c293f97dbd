#!/usr/bin/env bash
# Network calls, seconds and peak memory of MGPS and mgps_jf at equal steps (one torch thread).
# 256²: random weights, 3 steps (two iterations), no warm start, MGPS with 2 VJPs per step
# (its steady-state count; 10 in the first iterations would take ~25 min on a shared CPU)
# (Stage 1, when mgps_jf defaulted to jacobian=gaussian; the call counts do not depend on its
# other settings.)
set -euo pipefail
D=results/mgps_jf
python scripts/mgps_jf_cost.py --prior digits --operator sr4 --steps 50 --n-samples 4 --samplers mgps mgps_jf:jacobian=gaussian --out $D/cost_digits_sr4.json
python scripts/mgps_jf_cost.py --prior digits --operator box --steps 50 --n-samples 4 --samplers mgps mgps_jf:jacobian=gaussian --out $D/cost_digits_box.json
python scripts/mgps_jf_cost.py --prior unet256 --operator box --steps 3 --n-samples 1 --param warm_start=false --param num_gradient_steps_initial=2 --samplers mgps mgps_jf:jacobian=gaussian --out $D/cost_unet256_box.json
