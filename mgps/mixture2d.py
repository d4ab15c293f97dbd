"""The 2-D teaching problem: the 25-component mixture observed through one random projection.

Everything the midpoint trade-off visualiser needs, as plain library calls (the app only draws):
prior samples, exact posterior samples, a sampler's samples with its midpoint trajectory, and
the sliced Wasserstein distance to the exact posterior.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from .metrics import sliced_wasserstein, t_interval
from .operators.matrix import MatrixOperator
from .priors.gaussian_mixture import GaussianMixturePrior, gmm25
from .samplers.common import run
from .types import InverseProblem

__all__ = [
    "ToyProblem",
    "toy_problem",
    "ToyRun",
    "run_toy",
    "TeachingSettings",
    "sweep_sw",
    "EtaSweep",
    "EtaVerdict",
    "eta_verdict",
]


@dataclass
class ToyProblem:
    """A 2-D mixture prior, a 1-D observation y = ⟨a, x*⟩ + σ_y ε and its exact posterior."""

    prior: GaussianMixturePrior
    problem: InverseProblem
    posterior: GaussianMixturePrior
    x_star: Tensor
    direction: Tensor


def toy_problem(
    seed: int = 0, sigma_y: float = 0.5, angle: float | None = None, spacing: float = 8.0
) -> ToyProblem:
    """The 25-mode grid in 2-D (modes ``spacing`` apart, unit covariances) with a random (or
    given, in radians) projection direction."""
    g = torch.Generator().manual_seed(seed)
    prior = gmm25(2, g, spacing=spacing)
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
    """Samples of one sampler run, with snapshots along the way (for an animation): the start
    (t = T: x_T pure noise, x̂0 = D_T(x_T)), about ``snapshots`` intermediate states and the
    end (t = 0: the samples). ``midpoints[k]`` is MGPS's midpoint sample x_ℓ and
    ``midpoint_times[k]`` its ℓ at snapshot k (None at the start, at the end and for other
    samplers)."""

    samples: Tensor
    sw: float
    snapshot_times: list[int] = field(default_factory=list)
    x0_hat: list[Tensor] = field(default_factory=list)
    x_t: list[Tensor] = field(default_factory=list)
    midpoints: list[Tensor | None] = field(default_factory=list)
    midpoint_times: list[int | None] = field(default_factory=list)

    def keep(self, t: int, x_t: Tensor, x0_hat: Tensor, mid: Tensor | None, ell: int | None):
        self.snapshot_times.append(int(t))
        self.x_t.append(x_t.detach().clone())
        self.x0_hat.append(x0_hat.detach().clone())
        self.midpoints.append(None if mid is None else mid.detach().clone())
        self.midpoint_times.append(None if ell is None else int(ell))


def run_toy(
    toy: ToyProblem,
    sampler: str = "mgps",
    *,
    num_samples: int = 1000,
    seed: int = 0,
    snapshots: int = 20,
    **params: Any,
) -> ToyRun:
    """Run a sampler on the toy problem, keeping the start, about ``snapshots`` intermediate
    states and the end.

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
    generator = torch.Generator().manual_seed(seed)
    # the initial noise drawn as the samplers draw it, so that it can be shown as the start
    x_init = torch.randn((num_samples, *toy.prior.shape), generator=generator, dtype=torch.float64)
    T = toy.prior.alphas_cumprod.numel() - 1
    result = ToyRun(samples=torch.empty(0), sw=float("nan"))
    with torch.no_grad():
        result.keep(T, x_init, toy.prior.x0_pred(x_init, T), None, None)
    step = None
    for step in run(
        sampler,
        toy.prior,
        toy.problem,
        num_samples=num_samples,
        generator=generator,
        x_init=x_init,
        **params,
    ):
        every = max(1, step.num_steps // snapshots)
        if step.index % every == 0 or step.index == step.num_steps - 1:
            mid = step.extras.get("midpoint")
            ell = step.extras.get("midpoint_time")
            result.keep(step.t, step.x_t, step.x0_hat, mid, ell)
    assert step is not None
    result.samples = step.x0_hat.detach()
    result.sw = sliced_wasserstein(result.samples, reference)
    return result


# ---------------------------------------------------------------------------- SW against η
@dataclass(frozen=True)
class TeachingSettings:
    """One setting of the 2-D problem for an η sweep: the noise σ_y, MGPS's diffusion steps,
    the distance between neighbouring prior modes, the observation direction (radians; None:
    a random one per problem) and the samples per run."""

    sigma_y: float = 0.5
    num_steps: int = 100
    spacing: float = 8.0
    angle: float | None = None
    num_samples: int = 500


def sweep_sw(settings: TeachingSettings, problem: int, eta: float, run: int = 0) -> float:
    """MGPS's SW to the exact posterior on problem ``problem`` (its direction, x* and noise) at
    midpoint ``eta``; ``run`` picks the sampler's noise (and the reference samples')."""
    toy = toy_problem(problem, settings.sigma_y, settings.angle, settings.spacing)
    result = run_toy(
        toy,
        "mgps",
        num_samples=settings.num_samples,
        seed=1000 * run + problem,
        snapshots=1,
        num_steps=settings.num_steps,
        midpoint=eta,
    )
    return float(result.sw)


@dataclass
class EtaSweep:
    """MGPS's SW over problems × runs × an η grid for one :class:`TeachingSettings`:
    ``sw[i, j]`` is the mean over the runs of problem ``problems[j]`` at ``etas[i]``."""

    settings: TeachingSettings
    etas: list[float]
    problems: list[int]
    runs: int
    sw: np.ndarray
    command: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "settings": asdict(self.settings),
            "etas": self.etas,
            "problems": self.problems,
            "runs": self.runs,
            "sw": np.round(self.sw, 5).tolist(),
            "command": self.command,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EtaSweep:
        sw = np.asarray(data["sw"], dtype=float)
        etas, problems = [float(e) for e in data["etas"]], [int(p) for p in data["problems"]]
        if sw.shape != (len(etas), len(problems)) or len(etas) < 2 or len(problems) < 2:
            raise ValueError(
                f"an η sweep needs sw of shape (η, problems) with at least 2 of each; got "
                f"{sw.shape} for {len(etas)} η and {len(problems)} problems"
            )
        return cls(
            TeachingSettings(**data["settings"]),
            etas,
            problems,
            int(data["runs"]),
            sw,
            str(data.get("command", "")),
        )

    @classmethod
    def load(cls, path: str | Path) -> EtaSweep:
        return cls.from_json(json.loads(Path(path).read_text()))


@dataclass
class EtaVerdict:
    """What an :class:`EtaSweep` shows. ``mean``/``half``: the mean SW at each η and its 95 %
    interval's half-width; ``best``: the η of the lowest mean; ``diff``/``diff_half``: the
    paired difference SW(η) − SW(best) over the problems (the same problem at two η) and its
    interval; ``worse``: the η whose difference interval lies above 0 (clearly worse than the
    best); ``in_between``: the best is strictly inside (0, 1) and clearly better than every
    end point measured."""

    etas: list[float]
    mean: list[float]
    half: list[float]
    best: float
    diff: list[float]
    diff_half: list[float]
    worse: list[float]
    in_between: bool


def eta_verdict(sweep: EtaSweep) -> EtaVerdict:
    """The best η of a sweep, and which η are separated from it by a paired 95 % interval."""
    stats = [t_interval(row) for row in sweep.sw]
    k = int(np.argmin([m for m, _ in stats]))
    paired = [
        t_interval(row - sweep.sw[k]) if i != k else (0.0, 0.0) for i, row in enumerate(sweep.sw)
    ]
    worse = [e for e, (d, h) in zip(sweep.etas, paired) if d - h > 0]
    best = sweep.etas[k]
    ends = [e for e in sweep.etas if e in (0.0, 1.0)]
    in_between = 0.0 < best < 1.0 and bool(ends) and all(e in worse for e in ends)
    return EtaVerdict(
        list(sweep.etas),
        [m for m, _ in stats],
        [h for _, h in stats],
        best,
        [d for d, _ in paired],
        [h for _, h in paired],
        worse,
        in_between,
    )
