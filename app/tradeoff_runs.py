"""One run on the trade-off tab's 2-D problem (``mgps.mixture2d``: the 25-component mixture
observed through one projection): its settings checked, the run made with the sweep's seeds,
and what its pictures show (the prior and the exact posterior, the samples, the snapshots of
the animation), each with axes fitted to its points. The pictures are drawn by
:mod:`app.tradeoff_scatter`, the words written by :mod:`app.tradeoff_text`; the charts against
η are :mod:`app.tradeoff_charts`.

Nothing here is kept between calls but caches of pure functions of their arguments: what one
visitor runs is never shown to another. No gradio import.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

import numpy as np
import torch

import mgps
from mgps.mixture2d import TeachingSettings, ToyProblem, ToyRun, run_toy, toy_problem

__all__ = [
    "SNAPSHOTS",
    "Snapshots",
    "TradeoffRun",
    "tradeoff_run",
    "toy_samplers",
    "settings_of",
]

SNAPSHOTS = 20
PRIOR_POINTS = 1000
_LOCK = threading.Lock()  # one toy run at a time: they are CPU-bound


def toy_samplers() -> list[tuple[str, str]]:
    """Samplers that run on the toy (pixel-space samplers that accept a matrix with an SVD)."""
    from mgps.capabilities import operator_supports

    toy = _toy(0, TeachingSettings())
    return [
        (e.label, e.name)
        for e in mgps.SAMPLERS
        if "pixel" in e.tags and operator_supports(e.tags, toy.problem.operator)
    ]


@lru_cache(maxsize=32)
def _toy(seed: int, settings: TeachingSettings) -> ToyProblem:
    return toy_problem(seed, settings.sigma_y, settings.angle, settings.spacing)


@lru_cache(maxsize=16)
def _reference(seed: int, settings: TeachingSettings) -> tuple[np.ndarray, np.ndarray]:
    toy = _toy(seed, settings)
    g = torch.Generator().manual_seed(seed + 7)
    prior = toy.prior.sample(PRIOR_POINTS, g).numpy()
    posterior = toy.posterior.sample(settings.num_samples, g).numpy()
    return prior, posterior


def settings_of(
    sigma_y: Any, num_steps: Any, spacing: Any, base: TeachingSettings | None = None
) -> TeachingSettings:
    """The tab's controls as :class:`~mgps.mixture2d.TeachingSettings` (the direction and the
    samples per run from ``base``), checked.

    Raises:
        ValueError: a value that is not a number or out of range, named.
    """
    base = base or TeachingSettings()
    try:
        sigma_y, num_steps, spacing = float(sigma_y), int(num_steps), float(spacing)
    except (TypeError, ValueError):
        raise ValueError(
            f"σ_y, steps and the mode spacing must be numbers; got {sigma_y!r}, "
            f"{num_steps!r}, {spacing!r}"
        ) from None
    if not 0.05 <= sigma_y <= 5:
        raise ValueError(f"σ_y must lie in [0.05, 5] for the 2-D problem, got {sigma_y}")
    if not 2 <= num_steps <= 1000:
        raise ValueError(f"steps must lie in [2, 1000], got {num_steps}")
    if not 1 <= spacing <= 20:
        raise ValueError(f"the distance between modes must lie in [1, 20], got {spacing}")
    return replace(base, sigma_y=sigma_y, num_steps=num_steps, spacing=spacing)


def _check(eta: Any, seed: Any) -> tuple[float, int]:
    try:
        eta, seed = float(eta), int(seed)
    except (TypeError, ValueError):
        raise ValueError(f"η and the problem must be numbers; got {eta!r}, {seed!r}") from None
    if not 0.0 <= eta <= 1.0:
        raise ValueError(f"η must lie in [0, 1], got {eta}")
    if not 0 <= seed <= 10_000:
        raise ValueError(f"the problem (seed) must lie in [0, 10000], got {seed}")
    return eta, seed


def _run(sampler: str, eta: float, seed: int, settings: TeachingSettings) -> ToyRun:
    """The run the sweep makes for this problem and η (same seeds), with snapshots."""
    params: dict[str, Any] = {"num_steps": settings.num_steps}
    if sampler == "mgps":
        params["midpoint"] = eta
    with _LOCK:
        return run_toy(
            _toy(seed, settings),
            sampler,
            num_samples=settings.num_samples,
            seed=seed,
            snapshots=SNAPSHOTS,
            **params,
        )


@dataclass
class Snapshots:
    """What the animation draws: the prior, the exact posterior and the observation line
    (fixed), and at each snapshot the chain's state x_t, MGPS's midpoint samples x_ℓ (None
    where there are none: the start, the end, other samplers) and x̂0, on axes fitted to all
    of it. ``times[0]`` is the start (x_T, pure noise), ``times[-1] == 0`` the samples."""

    label: str
    times: list[int]
    midpoint_times: list[int | None]
    x_t: list[np.ndarray]
    midpoints: list[np.ndarray | None]
    x0: list[np.ndarray]
    prior: np.ndarray
    posterior: np.ndarray
    line: tuple[list[float], list[float]]
    xrange: list[float]
    yrange: list[float]
    mgps: bool

    def __len__(self) -> int:
        return len(self.times)


def _fit(*clouds: np.ndarray, robust: tuple[np.ndarray, ...] = ()) -> tuple[list, list]:
    """Axis ranges holding every point of ``clouds`` and the central 98 % of ``robust`` (a
    diverging sampler's stray points do not shrink the picture), padded by 5 %."""
    parts = [c.reshape(-1, 2) for c in clouds]
    for r in robust:
        r = r.reshape(-1, 2)
        r = r[np.isfinite(r).all(axis=1)]
        if len(r):
            parts.append(np.quantile(r, [0.01, 0.99], axis=0))
    pts = np.concatenate(parts)
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    pad = 0.05 * (hi - lo).max()
    return [float(lo[0] - pad), float(hi[0] + pad)], [float(lo[1] - pad), float(hi[1] + pad)]


def _observation_line(toy: ToyProblem, span: float) -> tuple[list[float], list[float]]:
    """The set {x : ⟨a, x⟩ = y} (noise-free reading of the observation), long enough to
    cross the view (the axes' fixed ranges clip it)."""
    a = toy.direction.numpy()
    y = float(toy.problem.y.reshape(-1)[0])
    p0 = a * y  # closest point to the origin
    d = np.array([-a[1], a[0]])
    s = np.array([-3.0, 3.0]) * span
    pts = p0[None, :] + s[:, None] * d[None, :]
    return pts[:, 0].tolist(), pts[:, 1].tolist()


@dataclass
class TradeoffRun:
    """One run, ready to draw: the prior's and the exact posterior's points, the samples and
    the true ``x_star``, with the observation line and the axes that fit them (the scatter),
    and the run's :class:`Snapshots` (the animation)."""

    label: str
    seed: int
    settings: TeachingSettings
    sw: float
    prior: np.ndarray
    posterior: np.ndarray
    samples: np.ndarray
    x_star: np.ndarray
    line: tuple[list[float], list[float]]
    xrange: list[float]
    yrange: list[float]
    snapshots: Snapshots


def tradeoff_run(
    sampler: str = "mgps",
    eta: float = 0.5,
    seed: int = 0,
    settings: TeachingSettings | None = None,
) -> TradeoffRun:
    """Run ``sampler`` on the 2-D problem ``seed`` (η is MGPS's midpoint), beside the prior and
    the exact posterior; keep the snapshots for the animation.

    Raises:
        ValueError: bad settings (the library's message for an unknown sampler).
    """
    eta, seed = _check(eta, seed)
    settings = settings or TeachingSettings()
    entry = mgps.SAMPLERS[sampler]
    toy = _toy(seed, settings)
    prior_pts, post_pts = _reference(seed, settings)
    run = _run(sampler, eta, seed, settings)
    samples = run.samples.numpy()
    label = entry.label + (f" (η = {eta:.2f})" if sampler == "mgps" else "")
    xr, yr = _fit(prior_pts, post_pts, robust=(samples,))
    x_t = [x.numpy() for x in run.x_t]
    mids = [None if m is None else m.numpy() for m in run.midpoints]
    x0 = [x.numpy() for x in run.x0_hat]
    clouds = tuple(x_t) + tuple(m for m in mids if m is not None) + tuple(x0)
    axr, ayr = _fit(prior_pts, post_pts, robust=clouds)
    snapshots = Snapshots(
        label=label,
        times=list(run.snapshot_times),
        midpoint_times=list(run.midpoint_times),
        x_t=x_t,
        midpoints=mids,
        x0=x0,
        prior=prior_pts,
        posterior=post_pts,
        line=_observation_line(toy, max(axr[1] - axr[0], ayr[1] - ayr[0])),
        xrange=axr,
        yrange=ayr,
        mgps=sampler == "mgps",
    )
    return TradeoffRun(
        label=label,
        seed=seed,
        settings=settings,
        sw=float(run.sw),
        prior=prior_pts,
        posterior=post_pts,
        samples=samples,
        x_star=toy.x_star.numpy(),
        line=_observation_line(toy, max(xr[1] - xr[0], yr[1] - yr[0])),
        xrange=xr,
        yrange=yr,
        snapshots=snapshots,
    )
