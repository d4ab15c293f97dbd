"""Two facts behind the forward-difference variant, on the digits UNet (one torch thread):

1. how far the learned denoiser's Jacobian is from symmetric: ‖Jv − Jᵀv‖ / ‖Jᵀv‖ for random v
   and for the likelihood's pull v = Aᵀ(A D(z) − y) of SR ×4, at several noise levels (Jv by a
   forward difference with h = 0.01 and 0.001, Jᵀv by back-propagation; for the exact denoiser
   of any prior the ratio is 0);
2. whether forward-mode automatic differentiation (an exact Jv, the issue's other candidate)
   runs through the network at all.

    python results/mgps_jf/jacobian_probe.py > results/mgps_jf/jacobian_probe.txt
"""

from __future__ import annotations

import torch
import torch.autograd.forward_ad as fwAD

import mgps
from mgps.operators.base import measure
from mgps.priors.loading import load_prior
from mgps.samplers.mgps_jf import fd_denoiser


def main() -> None:
    torch.set_num_threads(1)
    prior = load_prior("digits", device=torch.device("cpu"))
    g = torch.Generator().manual_seed(0)
    truth = torch.rand(4, *prior.shape, generator=g) * 2 - 1
    op = mgps.OPERATORS["sr4"].obj(prior.shape)
    problem = measure(truth, op, 0.05, g)
    acp = prior.alphas_cumprod
    for t in (100, 300, 600, 900):
        a = float(acp[t])
        z = a**0.5 * truth + (1 - a) ** 0.5 * torch.randn(truth.shape, generator=g)
        with torch.no_grad():
            pull = op.A_adjoint(op.A(prior.x0_pred(z, t)) - problem.y)  # Aᵀ(A D(z) − y)
        for name, v in (("random", torch.randn(truth.shape, generator=g)), ("pull", pull)):
            zz = z.clone().requires_grad_(True)
            (vjp,) = torch.autograd.grad(prior.x0_pred(zz, t), zz, v)
            out = [f"t={t} v={name}:"]
            for h in (0.01, 0.001):
                zz = z.clone().requires_grad_(True)
                (jv,) = torch.autograd.grad(fd_denoiser(prior, zz, t, h), zz, v)
                out.append(f"h={h} ‖Jv−Jᵀv‖/‖Jᵀv‖ = {float((jv - vjp).norm() / vjp.norm()):.3f}")
            print(" ".join(out), flush=True)
    try:
        with torch.no_grad(), fwAD.dual_level():
            prior.x0_pred(fwAD.make_dual(z, torch.randn_like(z)), 500)
        print("forward-mode AD: runs")
    except (NotImplementedError, RuntimeError) as error:
        print(f"forward-mode AD: fails: {type(error).__name__}: {str(error).splitlines()[0]}")


if __name__ == "__main__":
    main()
