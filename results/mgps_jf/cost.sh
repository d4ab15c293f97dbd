#!/usr/bin/env bash
# Network calls, seconds and peak memory of MGPS and mgps_jf at equal steps (one torch thread).
set -euo pipefail
D=results/mgps_jf
python scripts/mgps_jf_cost.py --prior digits --operator sr4 --steps 50 --samples 4 --out $D/cost_digits_sr4.json
python scripts/mgps_jf_cost.py --prior digits --operator box --steps 50 --samples 4 --out $D/cost_digits_box.json
python scripts/mgps_jf_cost.py --prior unet256 --operator box --steps 3 --samples 1 --set warm_start=false --out $D/cost_unet256_box.json
