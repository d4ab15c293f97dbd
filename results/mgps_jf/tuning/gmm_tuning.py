"""Tuning grid for mgps_jf's Gaussian-mixture configuration, on instances never reported
(make_instance seeds 1-3 for d = 10, d_y = 3, σ_y = 0.5 and d = 20, d_y = 1, σ_y = 0.05; the
reported problems use seeds 0, 20000 and 100). 500 samples, 100 steps, no warm start."""

import itertools

import torch

import mgps
from mgps.paper.gmm import make_instance

torch.set_num_threads(1)
for (dim, obs, sy), seed in itertools.product(((10, 3, 0.5), (20, 1, 0.05)), (1, 2, 3)):
    inst = make_instance(dim, obs, sy, seed)
    ref = inst.posterior.sample(500, torch.Generator().manual_seed(10)).reshape(500, -1)
    for ds, eta in itertools.product((0.6, 1.0, 2.0), (0.5, 0.7, 0.9)):
        x = mgps.sample(
            "mgps_jf",
            inst.prior,
            inst.problem,
            num_samples=500,
            num_steps=100,
            warm_start=False,
            jacobian="gaussian",  # the default until stage 2
            data_std=ds,
            midpoint=eta,
            generator=torch.Generator().manual_seed(11),
        )
        sw = float(mgps.sliced_wasserstein(x.reshape(500, -1), ref))
        print(f"d={dim} seed={seed} data_std={ds} midpoint={eta} SW={sw:.3f}", flush=True)
