#!/usr/bin/env bash
# mgps_jf against MGPS at equal steps (50) with each one's presets, on fresh digits 900-907
# (never used for tuning), box and SR x4; paired differences to MGPS. (Stage 1: mgps_jf then
# defaulted to jacobian=gaussian, with midpoint 0.9 as its box and SR x4 preset.)
set -euo pipefail
python scripts/digits_mgps_sweep.py --operators box sr4 --first 900 --n-images 8 \
  --config "mgps50:mgps:num_steps=50" "mgps_jf50:mgps_jf:num_steps=50,jacobian=gaussian,midpoint=0.9" --out results/mgps_jf/digits
