#!/usr/bin/env bash
# Table 1's mixtures (d = 20 and 200, d_y = 1, sigma_y = 0.05) with paired instances: MGPS with
# its GMM configuration, the Gaussian variant with its own (data_std 2, eta 0.7; no warm start and
# the rest of MGPS's, which the closed form does not use) and the forward-difference default
# with MGPS's (GMM_DEFAULTS); 10 instances, 1000 samples each; same seed, so the runs
# pair by instance (paired.py).
set -euo pipefail
D=results/mgps_jf/gmm
python -m mgps gmm table --out $D/gaussian --settings 20x1,200x1 --n-instances 10 --n-samples 1000 \
  --samplers mgps,mgps_jf --param mgps_jf:jacobian=gaussian --param mgps_jf:data_std=2 \
  --param mgps_jf:midpoint=0.7 --device cpu --quiet
python -m mgps gmm table --out $D/forward_difference --settings 20x1,200x1 --n-instances 10 \
  --n-samples 1000 --samplers mgps_jf --param mgps_jf:jacobian=forward_difference \
  --param mgps_jf:lr=0.1 --param mgps_jf:midpoint=0.5 --param mgps_jf:num_gradient_steps=2 \
  --param mgps_jf:num_gradient_steps_initial=20 --param mgps_jf:num_gradient_steps_periodic=20 \
  --device cpu --quiet
