"""Choose a sampler's step sizes for the Gaussian-mixture table on instances it does not use.

``mgps gmm table`` uses instances 0, 1, … of each setting (seed 0). This script runs one
sampler with several settings on two other instances (seeds 777 and 778) of the d = 20 and
d = 200 settings, 2000 samples each, and prints the SW to 2000 exact posterior samples with
the prior's for scale. ``GMM_DEFAULTS`` of DAPS, PnP-DM and DCPS (``mgps/paper/gmm.py``) were
chosen this way; the log is ``results/new_samplers/gmm_choice.log``.

    python scripts/gmm_choose_steps.py dcps "lr=0.2" "lr=0.5" "lr=1.5"
    python scripts/gmm_choose_steps.py pnpdm "" "rho_min=0.01" --dims 20
"""

from __future__ import annotations

import argparse
import time

import torch

import mgps
from mgps.arguments import parse_params
from mgps.metrics import random_directions
from mgps.paper.gmm import make_instance


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("sampler")
    p.add_argument(
        "configs", nargs="+", help="comma-separated name=value settings; '' for the defaults"
    )
    p.add_argument("--dims", type=int, nargs="+", default=[20, 200])
    p.add_argument("--seeds", type=int, nargs="+", default=[777, 778])
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    entry = mgps.SAMPLERS[args.sampler]
    configs = [parse_params(entry, [c for c in text.split(",") if c]) for text in args.configs]
    for dim in args.dims:
        directions = random_directions(dim, 100, seed=0)
        for seed in args.seeds:
            inst = make_instance(dim, 1, mgps.DEFAULT_SIGMA_Y, seed)
            g = torch.Generator().manual_seed(seed + 1)
            reference = inst.posterior.sample(2000, g)
            prior_sw = mgps.sliced_wasserstein(
                inst.prior.sample(2000, g), reference, directions=directions
            )
            for kwargs in configs:
                start = time.perf_counter()
                x = mgps.sample(
                    args.sampler,
                    inst.prior.to(dtype=torch.float32),
                    inst.problem,
                    num_samples=2000,
                    generator=torch.Generator().manual_seed(seed + 2),
                    **kwargs,
                )
                sw = mgps.sliced_wasserstein(x.double(), reference, directions=directions)
                print(
                    f"d={dim} seed={seed} prior={prior_sw:.2f} {kwargs}: SW {sw:.2f} "
                    f"({time.perf_counter() - start:.1f} s)",
                    flush=True,
                )


if __name__ == "__main__":
    main()
