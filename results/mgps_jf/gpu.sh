#!/usr/bin/env bash
# The GPU half of the cost comparison (not run: no GPU was lent to this task). Seconds and
# torch.cuda.max_memory_allocated of MGPS and both mgps_jf variants on the 256² UNet (random
# weights; 10 steps, MGPS's full schedule: warm start, 10 Adam iterations in the first steps)
# and on the digits UNet, each in its own subprocess.
set -euo pipefail
D=runs/mgps_jf_gpu  # nothing committed yet: move its files into results/mgps_jf/ when run
mkdir -p $D
G="mgps_jf:jacobian=gaussian,midpoint=0.9"
python scripts/mgps_jf_cost.py --device cuda --prior unet256 --operator box --steps 10 \
  --n-samples 1 --samplers mgps mgps_jf "$G" --out $D/cost_unet256_box.json
for op in box sr4; do
  python scripts/mgps_jf_cost.py --device cuda --prior digits --operator $op --steps 50 \
    --n-samples 4 --samplers mgps mgps_jf "$G" --out $D/cost_digits_$op.json
done
