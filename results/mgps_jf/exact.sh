#!/usr/bin/env bash
# digits-exact (a digits prior with an exact posterior): SW and mean RMSE to exact posterior
# samples, 5 held-out digits x 16 samples, box and SR x4, at MGPS's 100 steps; the Gaussian
# variant (its tuned midpoint 0.9) and the forward-difference default (the presets: MGPS's)
# in separate folders on the same digits and seeds (paired.py pairs them by image). Then
# `mgps validate` of the default on every exact problem.
set -euo pipefail
D=results/mgps_jf/digits_exact
python -m mgps images exact --out $D/gaussian --operators box,sr4 --samplers mgps,mgps_jf \
  --steps mgps_jf=100 --param mgps_jf:jacobian=gaussian --param mgps_jf:midpoint=0.9 \
  --device cpu --quiet
python -m mgps images exact --out $D/forward_difference --operators box,sr4 --samplers mgps_jf \
  --steps mgps_jf=100 --device cpu --quiet
python -m mgps validate --sampler mgps_jf --compare mgps --device cpu \
  --out results/mgps_jf/validate_forward_difference
