"""The 2-D teaching problem: the 25-component mixture observed through one random projection.

Everything the midpoint trade-off visualiser needs, as plain library calls (the app only draws):
prior samples, exact posterior samples, a sampler's samples with its midpoint trajectory, and
the sliced Wasserstein distance to the exact posterior.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from .metrics import sliced_wasserstein
from .operators.matrix import MatrixOperator
from .priors.gaussian_mixture import GaussianMixturePrior, gmm25
from .samplers.common import run
from .types import InverseProblem

__all__ = ["ToyProblem", "toy_problem", "ToyRun", "run_toy"]


@dataclass
class ToyProblem:
    """A 2-D mixture prior, a 1-D observation y = ⟨a, x*⟩ + σ_y ε and its exact posterior."""

    prior: GaussianMixturePrior
    problem: InverseProblem
    posterior: GaussianMixturePrior
    x_star: Tensor
    direction: Tensor


def toy_problem(seed: int = 0, sigma_y: float = 0.5, angle: float | None = None) -> ToyProblem:
    """The 25-mode grid in 2-D with a random (or given, in radians) projection direction."""
    g = torch.Generator().manual_seed(seed)
    prior = gmm25(2, g)
    if angle is None:
        angle = float(torch.rand(1, generator=g, dtype=torch.float64)) * torch.pi
    direction = torch.tensor(
        [[torch.cos(torch.tensor(angle)), torch.sin(torch.tensor(angle))]], dtype=torch.float64
    )
    operator = MatrixOperator(direction, name="projection")
    x_star = prior.sample(1, g)
    y = operator.A(x_star) + sigma_y * torch.randn(1, 1, generator=g, dtype=torch.float64)
    problem = InverseProblem(operator, y, sigma_y)
    return ToyProblem(prior, problem, prior.posterior(direction, y, sigma_y), x_star, direction[0])


@dataclass
class ToyRun:
    """Samples of one sampler run, with snapshots along the way (for an animation)."""

    samples: Tensor
    sw: float
    snapshot_times: list[int] = field(default_factory=list)
    x0_hat: list[Tensor] = field(default_factory=list)
    x_t: list[Tensor] = field(default_factory=list)
    midpoints: list[Tensor] = field(default_factory=list)
    midpoint_times: list[int] = field(default_factory=list)


def run_toy(
    toy: ToyProblem,
    sampler: str = "mgps",
    *,
    num_samples: int = 1000,
    seed: int = 0,
    snapshots: int = 20,
    **params: Any,
) -> ToyRun:
    """Run a sampler on the toy problem, keeping about ``snapshots`` intermediate states.

    MGPS defaults to the paper's GMM configuration (lr 0.1, no warm start) unless overridden.
    """
    if sampler == "mgps":
        params = {
            "lr": 0.1,
            "warm_start": False,
            "num_gradient_steps_initial": 20,
            "num_gradient_steps_periodic": 20,
            **params,
        }
    reference = toy.posterior.sample(num_samples, torch.Generator().manual_seed(seed + 1))
    result = ToyRun(samples=torch.empty(0), sw=float("nan"))
    step = None
    for step in run(
        sampler,
        toy.prior,
        toy.problem,
        num_samples=num_samples,
        generator=torch.Generator().manual_seed(seed),
        **params,
    ):
        every = max(1, step.num_steps // snapshots)
        if step.index % every == 0 or step.index == step.num_steps - 1:
            result.snapshot_times.append(step.t)
            result.x0_hat.append(step.x0_hat.detach().clone())
            result.x_t.append(step.x_t.detach().clone())
            if "midpoint" in step.extras:
                result.midpoints.append(step.extras["midpoint"].detach().clone())
                result.midpoint_times.append(int(step.extras["midpoint_time"]))
    assert step is not None
    result.samples = step.x0_hat.detach()
    result.sw = sliced_wasserstein(result.samples, reference)
    return result
