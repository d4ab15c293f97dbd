#!/usr/bin/env bash
# mgps_jf against MGPS-50 and DPS-1000 on the five digit tasks, fresh digits 900-907 (never
# used for tuning), each sampler with its presets; paired differences to MGPS-50. Configurations
# are added to the same --out as they are measured (a rerun computes only the missing cells).
set -euo pipefail
python scripts/digits_mgps_sweep.py --operators box sr4 half gaussian_blur jpeg --first 900 --n 8 \
  --config "mgps50:mgps:num_steps=50" "mgps_jf50:mgps_jf:num_steps=50" \
  "dps1000:dps:num_steps=1000" "$@" --out results/mgps_jf/digits_all
