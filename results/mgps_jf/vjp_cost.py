"""CPU seconds of one forward call, one forward call that records the graph, and its VJP, for the
digits UNet at batch 4 and 10 (one torch thread; the process's CPU seconds, which other jobs on
a shared machine do not inflate). A forward difference replaces the VJP by a plain forward call.

    python results/mgps_jf/vjp_cost.py > results/mgps_jf/vjp_cost.txt
"""

from __future__ import annotations

import time

import torch

from mgps.priors.loading import load_prior


def main() -> None:
    torch.set_num_threads(1)
    prior = load_prior("digits", device=torch.device("cpu"))
    n = 20
    for batch in (4, 10):
        x = torch.randn(batch, *prior.shape, generator=torch.Generator().manual_seed(0))
        with torch.no_grad():
            prior.x0_pred(x, 500)  # warm-up
        start = time.process_time()
        with torch.no_grad():
            for _ in range(n):
                prior.x0_pred(x, 500)
        forward = (time.process_time() - start) / n
        start = time.process_time()
        for _ in range(n):
            prior.x0_pred(x.clone().requires_grad_(True), 500)
        graph = (time.process_time() - start) / n
        start = time.process_time()
        for _ in range(n):
            z = x.clone().requires_grad_(True)
            d = prior.x0_pred(z, 500)
            torch.autograd.grad(d, z, torch.ones_like(d))
        both = (time.process_time() - start) / n
        print(
            f"batch {batch}: forward {1e3 * forward:.1f} ms, forward with graph {1e3 * graph:.1f} ms, "
            f"its VJP {1e3 * (both - graph):.1f} ms; an Adam iteration: MGPS (forward + VJP) "
            f"{1e3 * both:.1f} ms, forward difference (2 forward calls) {2e3 * forward:.1f} ms"
        )


if __name__ == "__main__":
    main()
