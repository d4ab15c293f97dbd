"""The midpoint trade-off visualiser: the 2-D 25-component mixture observed through one
random projection (``mgps.toy``), and the exact W2-vs-η curve of Example 3.2
(``mgps.benchmarks.gaussian_eta``). Plain functions returning plotly figures; no gradio.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import plotly.graph_objects as go
import torch

import mgps
from mgps.toy import ToyProblem, ToyRun, run_toy, toy_problem

__all__ = ["ToyView", "toy_view", "eta_curve_figure", "eta_curve_points", "toy_samplers"]

NUM_SAMPLES = 500
NUM_STEPS = 100
PRIOR_POINTS = 1000
_COLOURS = {"prior": "#b0b0b0", "posterior": "#1f77b4", "sampler": "#d62728", "star": "#2ca02c"}
_LOCK = threading.Lock()


def toy_samplers() -> list[tuple[str, str]]:
    """Samplers that run on the toy (pixel-space samplers that accept a matrix with an SVD)."""
    from mgps.samplers.common import operator_supports

    toy = _toy(0, 0.5)
    return [
        (e.label, e.name)
        for e in mgps.SAMPLERS
        if "pixel" in e.tags and operator_supports(e.tags, toy.problem.operator)
    ]


@lru_cache(maxsize=16)
def _toy(seed: int, sigma_y: float) -> ToyProblem:
    return toy_problem(seed=seed, sigma_y=sigma_y)


@lru_cache(maxsize=16)
def _reference(seed: int, sigma_y: float) -> tuple[np.ndarray, np.ndarray]:
    toy = _toy(seed, sigma_y)
    g = torch.Generator().manual_seed(seed + 7)
    prior = toy.prior.sample(PRIOR_POINTS, g).numpy()
    posterior = toy.posterior.sample(NUM_SAMPLES, g).numpy()
    return prior, posterior


@dataclass
class ToyView:
    """What the tab shows for one run."""

    scatter: go.Figure
    animation: go.Figure
    sw: float
    summary: str


def _axis_range(prior: np.ndarray) -> list[float]:
    lo, hi = float(prior.min()), float(prior.max())
    pad = 0.1 * (hi - lo)
    return [lo - pad, hi + pad]


def _observation_line(toy: ToyProblem, rng: list[float]) -> tuple[list[float], list[float]]:
    """The set {x : ⟨a, x⟩ = y} (noise-free reading of the observation), clipped to the view."""
    a = toy.direction.numpy()
    y = float(toy.problem.y.reshape(-1)[0])
    p0 = a * y  # closest point to the origin
    d = np.array([-a[1], a[0]])
    s = np.linspace(-3 * (rng[1] - rng[0]), 3 * (rng[1] - rng[0]), 2)
    pts = p0[None, :] + s[:, None] * d[None, :]
    return pts[:, 0].tolist(), pts[:, 1].tolist()


def _r(v: np.ndarray) -> np.ndarray:
    """Round coordinates for the browser (smaller JSON, nothing visible lost)."""
    return np.round(np.asarray(v, dtype=np.float64), 3)


def _scatter(
    name: str, pts: np.ndarray, colour: str, size: float = 4, opacity: float = 0.6
) -> go.Scattergl:
    return go.Scattergl(
        x=_r(pts[:, 0]),
        y=_r(pts[:, 1]),
        mode="markers",
        name=name,
        marker=dict(size=size, color=colour, opacity=opacity),
    )


def toy_view(
    sampler: str = "mgps",
    eta: float = 0.5,
    seed: int = 0,
    sigma_y: float = 0.5,
    num_steps: int = NUM_STEPS,
) -> ToyView:
    """Run ``sampler`` on the 2-D problem (η is MGPS's midpoint) and draw the prior, the exact
    posterior and its samples, plus an animation of the midpoint (or x_t) samples.

    Raises:
        ValueError: bad settings (the library's message).
    """
    if not 0.0 <= float(eta) <= 1.0:
        raise ValueError(f"η must lie in [0, 1], got {eta}")
    if not 0.05 <= float(sigma_y) <= 5:
        raise ValueError(f"σ_y must lie in [0.05, 5] for the 2-D problem, got {sigma_y}")
    if not 2 <= int(num_steps) <= 1000:
        raise ValueError(f"steps must lie in [2, 1000], got {num_steps}")
    seed, sigma_y = int(seed), float(sigma_y)
    toy = _toy(seed, sigma_y)
    prior_pts, post_pts = _reference(seed, sigma_y)
    params: dict[str, Any] = {"num_steps": int(num_steps)}
    if sampler == "mgps":
        params["midpoint"] = float(eta)
    with _LOCK:  # one toy run at a time: they are CPU-bound
        run: ToyRun = run_toy(
            toy, sampler, num_samples=NUM_SAMPLES, seed=seed, snapshots=20, **params
        )
    samples = run.samples.numpy()
    label = mgps.SAMPLERS[sampler].label + (f" (η = {eta:.2f})" if sampler == "mgps" else "")
    rng = _axis_range(prior_pts)
    lx, ly = _observation_line(toy, rng)
    star = toy.x_star.numpy()

    fig = go.Figure(
        [
            _scatter("prior", prior_pts, _COLOURS["prior"], 3, 0.5),
            _scatter("exact posterior", post_pts, _COLOURS["posterior"], 4, 0.5),
            _scatter(label, samples, _COLOURS["sampler"], 4, 0.6),
            go.Scatter(
                x=lx,
                y=ly,
                mode="lines",
                name="⟨a, x⟩ = y",
                line=dict(color="black", dash="dash", width=1),
            ),
            go.Scatter(
                x=star[:, 0],
                y=star[:, 1],
                mode="markers",
                name="x*",
                marker=dict(symbol="star", size=14, color=_COLOURS["star"]),
            ),
        ]
    )
    fig.update_layout(
        title=f"{label}: sliced Wasserstein to the exact posterior = {run.sw:.2f}",
        xaxis=dict(range=rng, title="x₁"),
        yaxis=dict(range=rng, title="x₂", scaleanchor="x"),
        height=480,
        margin=dict(l=40, r=10, t=50, b=40),
        legend=dict(orientation="h", y=-0.15),
    )
    anim = _animation(toy, run, sampler, prior_pts, post_pts, rng, (lx, ly))
    summary = (
        f"**{label}**: sliced Wasserstein distance to the exact posterior **{run.sw:.2f}** "
        f"({NUM_SAMPLES} samples, {num_steps} steps, seed {seed}, σ_y = {sigma_y})."
    )
    return ToyView(fig, anim, float(run.sw), summary)


def _animation(
    toy: ToyProblem,
    run: ToyRun,
    sampler: str,
    prior_pts: np.ndarray,
    post_pts: np.ndarray,
    rng: list[float],
    line: tuple[list[float], list[float]],
) -> go.Figure:
    """Plotly frames over the snapshots: the midpoint samples x_ℓ (MGPS) or x_t, and x̂0."""
    mids = run.midpoints if run.midpoints else run.x_t
    what = "midpoint samples x_ℓ" if run.midpoints else "x_t"
    times = run.midpoint_times if run.midpoints else run.snapshot_times
    n = min(len(mids), len(run.x0_hat), len(run.snapshot_times))
    base = [
        _scatter("prior", prior_pts, _COLOURS["prior"], 3, 0.4),
        _scatter("exact posterior", post_pts, _COLOURS["posterior"], 3, 0.4),
        go.Scatter(
            x=line[0],
            y=line[1],
            mode="lines",
            name="⟨a, x⟩ = y",
            line=dict(color="black", dash="dash", width=1),
        ),
    ]

    def moving(k: int) -> list[Any]:
        m = mids[k].numpy()
        x0 = run.x0_hat[k].numpy()
        return [
            go.Scatter(
                x=_r(m[:, 0]),
                y=_r(m[:, 1]),
                mode="markers",
                name=what,
                marker=dict(size=4, color="#ff7f0e", opacity=0.6),
            ),
            go.Scatter(
                x=_r(x0[:, 0]),
                y=_r(x0[:, 1]),
                mode="markers",
                name="x̂0",
                marker=dict(size=4, color=_COLOURS["sampler"], opacity=0.6),
            ),
        ]

    frames = [
        go.Frame(
            data=moving(k),
            traces=[3, 4],
            name=str(k),
            layout=go.Layout(
                title=f"step {k + 1}/{n}: t = {run.snapshot_times[k]}"
                + (f", ℓ = {times[k]}" if run.midpoints else "")
            ),
        )
        for k in range(n)
    ]
    fig = go.Figure(data=base + moving(0), frames=frames)
    steps = [
        dict(
            method="animate",
            label=str(run.snapshot_times[k]),
            args=[
                [str(k)],
                dict(
                    mode="immediate",
                    frame=dict(duration=0, redraw=True),
                    transition=dict(duration=0),
                ),
            ],
        )
        for k in range(n)
    ]
    fig.update_layout(
        title=dict(
            text=f"{what} and x̂0 through the diffusion (drag the slider or press ▶)",
            y=0.98,
            x=0.5,
            xanchor="center",
        ),
        xaxis=dict(range=rng, title="x₁"),
        yaxis=dict(range=rng, title="x₂", scaleanchor="x"),
        height=560,
        margin=dict(l=40, r=10, t=80, b=40),
        legend=dict(orientation="h", y=1.0, yanchor="bottom", x=0.5, xanchor="center"),
        sliders=[
            dict(
                active=0,
                steps=steps,
                currentvalue=dict(prefix="t = "),
                pad=dict(t=40),
                x=0.12,
                len=0.88,
            )
        ],
        updatemenus=[
            dict(
                type="buttons",
                direction="left",
                showactive=False,
                x=0,
                y=-0.12,
                xanchor="left",
                yanchor="top",
                pad=dict(t=40),
                buttons=[
                    dict(
                        label="▶",
                        method="animate",
                        args=[None, dict(frame=dict(duration=300, redraw=True), fromcurrent=True)],
                    ),
                    dict(
                        label="❚❚",
                        method="animate",
                        args=[[None], dict(mode="immediate", frame=dict(duration=0, redraw=False))],
                    ),
                ],
            )
        ],
    )
    return fig


# ---------------------------------------------------------------------------- Example 3.2
ETA_CONFIG = dict(dim=20, obs_dim=10, sigma_y=0.1, num_steps=100)
ETA_GRID = tuple(float(e) for e in np.linspace(0.05, 1.0, 20))
ETA_SEEDS = (0,)


@lru_cache(maxsize=1)
def eta_curve_points() -> tuple[np.ndarray, np.ndarray]:
    """(η grid, mean W2 over seeds) of Example 3.2, computed exactly (a few seconds, once)."""
    from mgps.paper.gaussian_eta import eta_curve

    w2 = eta_curve(list(ETA_GRID), list(ETA_SEEDS), **ETA_CONFIG)
    return np.asarray(ETA_GRID), w2.mean(axis=1)


def eta_curve_figure(
    eta: float | None = None, history: list[tuple[float, float]] | None = None
) -> go.Figure:
    """The exact W2-vs-η curve, a marker at ``eta``, and (right axis) the SW of the 2-D runs
    made so far at each η."""
    etas, w2 = eta_curve_points()
    fig = go.Figure(
        go.Scatter(
            x=etas, y=w2, mode="lines+markers", name="W2 to the posterior (Example 3.2, exact)"
        )
    )
    if eta is not None:
        fig.add_vline(x=float(eta), line_dash="dot", line_color="#d62728")
    if history:
        pts = sorted(history)
        fig.add_trace(
            go.Scatter(
                x=[p[0] for p in pts],
                y=[p[1] for p in pts],
                mode="markers",
                yaxis="y2",
                name="SW of your 2-D MGPS runs",
                marker=dict(color="#d62728", size=9, symbol="diamond"),
            )
        )
    d = ETA_CONFIG
    fig.update_layout(
        title=f"Example 3.2: Gaussian prior, d = {d['dim']}, {d['obs_dim']} observations, {d['num_steps']} steps",
        xaxis=dict(title="η (midpoint ℓ = ⌊η t⌋)", range=[0, 1.02]),
        yaxis=dict(title="W2"),
        yaxis2=dict(title="SW (2-D mixture)", overlaying="y", side="right", showgrid=False),
        height=480,
        margin=dict(l=50, r=50, t=50, b=40),
        legend=dict(orientation="h", y=-0.2),
    )
    return fig


def best_eta() -> float:
    etas, w2 = eta_curve_points()
    return float(etas[int(np.argmin(w2))])
