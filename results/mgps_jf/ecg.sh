#!/usr/bin/env bash
# mgps_jf against MGPS on the ECG tasks (missing block, missing leads): 6 held-out windows,
# 4 samples each, 50 steps each (MGPS with its ECG settings, ECG_DEFAULTS); the same windows,
# observations and seeds in every run, so the records pair by window (paired.py). The Gaussian
# variant with its own defaults (2 Adam iterations a step in its warm start, not ECG_DEFAULTS' 5).
set -euo pipefail
D=results/mgps_jf/ecg
python -m mgps ecg table --out $D/gaussian --n-windows 6 --n-samples 4 --samplers mgps,mgps_jf \
  --param mgps_jf:num_steps=50 --param mgps_jf:jacobian=gaussian --param mgps_jf:num_gradient_steps=2 \
  --param mgps_jf:num_gradient_steps_periodic=2 --device cpu --quiet
python -m mgps ecg table --out $D/forward_difference --n-windows 6 --n-samples 4 --samplers mgps_jf \
  --param mgps_jf:num_steps=50 --param mgps_jf:jacobian=forward_difference \
  --param mgps_jf:lr=0.03 --param mgps_jf:num_gradient_steps=5 \
  --param mgps_jf:num_gradient_steps_initial=10 --param mgps_jf:num_gradient_steps_periodic=5 \
  --device cpu --quiet
