"""One run on the trade-off tab's 2-D problem (``mgps.toy``: the 25-component mixture observed
through one projection): its scatter against the exact posterior, and the snapshots of its
animation. The charts against η are in :mod:`app.toy_charts`.

Plain functions returning plotly figures (SVG scatter only: WebGL plots would take one of the
browser's few WebGL contexts per redraw, which the image editors need) and markdown text.
Nothing here is kept between calls but caches of pure functions of their arguments: what one
visitor runs is never shown to another. No gradio import.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

import numpy as np
import plotly.graph_objects as go
import torch

import mgps
from mgps.toy import TeachingSettings, ToyProblem, ToyRun, run_toy, toy_problem

__all__ = [
    "ToyView",
    "Snapshots",
    "toy_view",
    "toy_samplers",
    "settings_of",
    "animation_figure",
    "frame_caption",
    "COLOURS",
]

SNAPSHOTS = 20
PRIOR_POINTS = 1000
COLOURS = {
    "prior": "#b0b0b0",
    "posterior": "#1f77b4",
    "sampler": "#d62728",
    "moving": "#ff7f0e",
    "midpoint": "#9467bd",
    "star": "#2ca02c",
}
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
    """The tab's controls as :class:`~mgps.toy.TeachingSettings` (the direction and the
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


# ---------------------------------------------------------------------------- one run
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


@dataclass
class ToyView:
    """What the tab shows for one run."""

    scatter: go.Figure
    snapshots: Snapshots
    sw: float
    summary: str


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


def _r(v: np.ndarray) -> np.ndarray:
    """Round coordinates for the browser (smaller JSON, nothing visible lost)."""
    return np.round(np.asarray(v, dtype=np.float64), 3)


def _points(
    name: str, pts: np.ndarray, colour: str, size: float = 4, opacity: float = 0.6
) -> go.Scatter:
    return go.Scatter(
        x=_r(pts[:, 0]),
        y=_r(pts[:, 1]),
        mode="markers",
        name=name,
        marker=dict(size=size, color=colour, opacity=opacity),
        hoverinfo="skip",
    )


def _square_axes(fig: go.Figure, xrange: list[float], yrange: list[float]) -> None:
    """Equal scales on both axes, the plot area (not the ranges) adapting to the figure's
    shape: the axes span the data whatever the width of the page."""
    fig.update_layout(
        xaxis=dict(range=xrange, title="x₁", constrain="domain", autorange=False),
        yaxis=dict(
            range=yrange,
            title="x₂",
            scaleanchor="x",
            scaleratio=1,
            constrain="domain",
            autorange=False,
        ),
    )


PLOT_HEIGHT = 420  # the scatter, its line and legend within a 1366×768 window


def _layout(fig: go.Figure, title: str, revision: str) -> None:
    fig.update_layout(
        title=dict(text=title, font=dict(size=13)),
        height=PLOT_HEIGHT,
        margin=dict(l=40, r=10, t=50, b=30),
        legend=dict(orientation="h", y=-0.12, font=dict(size=11)),
        uirevision=revision,
    )


def _line_trace(line: tuple[list[float], list[float]]) -> go.Scatter:
    return go.Scatter(
        x=line[0],
        y=line[1],
        mode="lines",
        name="⟨a, x⟩ = y",
        line=dict(color="black", dash="dash", width=1.5),
        hoverinfo="skip",
    )


def toy_view(
    sampler: str = "mgps",
    eta: float = 0.5,
    seed: int = 0,
    settings: TeachingSettings | None = None,
) -> ToyView:
    """Run ``sampler`` on the 2-D problem ``seed`` (η is MGPS's midpoint) and draw the prior,
    the exact posterior and its samples; keep the snapshots for the animation.

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
    star = toy.x_star.numpy()
    fig = go.Figure(
        [
            _points("prior", prior_pts, COLOURS["prior"], 3, 0.5),
            _points("exact posterior", post_pts, COLOURS["posterior"], 4, 0.5),
            _points(label, samples, COLOURS["sampler"], 4, 0.6),
            _line_trace(_observation_line(toy, max(xr[1] - xr[0], yr[1] - yr[0]))),
            go.Scatter(
                x=star[:, 0],
                y=star[:, 1],
                mode="markers",
                name="x*",
                marker=dict(symbol="star", size=14, color=COLOURS["star"]),
            ),
        ]
    )
    _layout(fig, f"{label}: SW to the exact posterior = {run.sw:.2f} (problem {seed})", "scatter")
    _square_axes(fig, xr, yr)
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
    s = settings
    summary = (
        f"**{label}** on problem {seed}: sliced Wasserstein distance (SW) to the exact "
        f"posterior **{run.sw:.2f}** ({s.num_samples} samples, {s.num_steps} steps, "
        f"σ_y = {s.sigma_y:g}, modes {s.spacing:g} apart)."
    )
    return ToyView(fig, snapshots, float(run.sw), summary)


def frame_caption(snap: Snapshots, k: int) -> str:
    """What snapshot ``k`` draws, in words: the start, a step (with its midpoint), the end."""
    t = snap.times[k]
    if k == 0:
        return f"the start, t = {t}: x_T is pure noise; x̂0 = D_T(x_T), its denoised guess"
    if k == len(snap) - 1:
        return "the end, t = 0: the samples"
    ell = snap.midpoint_times[k]
    return f"t = {t}" + (f", midpoint ℓ = {ell}" if ell is not None else "")


def animation_figure(snap: Snapshots, k: int) -> go.Figure:
    """Snapshot ``k`` of a run: the chain's state x_t (orange), MGPS's midpoint samples x_ℓ
    (purple) and x̂0 (red) over the prior, the exact posterior and the observation line, on
    the same axes at every snapshot (the traces are the same at every snapshot, empty where
    there is nothing to draw)."""
    k = int(min(max(int(k), 0), len(snap) - 1))
    empty = np.zeros((0, 2))
    traces = [
        _points("prior", snap.prior, COLOURS["prior"], 3, 0.35),
        _points("exact posterior", snap.posterior, COLOURS["posterior"], 3, 0.35),
        _line_trace(snap.line),
        _points("x_t (the chain)", snap.x_t[k], COLOURS["moving"], 4, 0.6),
    ]
    if snap.mgps:
        mid = snap.midpoints[k]
        traces.append(
            _points("midpoint x_ℓ", empty if mid is None else mid, COLOURS["midpoint"], 4, 0.6)
        )
    traces.append(_points("x̂0", snap.x0[k], COLOURS["sampler"], 4, 0.6))
    fig = go.Figure(traces)
    title = f"{snap.label}, snapshot {k}/{len(snap) - 1}<br>{frame_caption(snap, k)}"
    _layout(fig, title, "animation")
    _square_axes(fig, snap.xrange, snap.yrange)
    return fig
