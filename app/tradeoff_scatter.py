"""The trade-off tab's pictures of one run (:mod:`app.tradeoff_runs`): the scatter of its
samples against the exact posterior, and each snapshot of its animation.

Plain functions returning plotly figures (SVG scatter only: WebGL plots would take one of the
browser's few WebGL contexts per redraw, which the image editors need). No gradio import.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from .tradeoff_runs import Snapshots, TradeoffRun
from .tradeoff_text import frame_caption

__all__ = ["COLOURS", "scatter_figure", "animation_figure"]

COLOURS = {
    "prior": "#b0b0b0",
    "posterior": "#1f77b4",
    "sampler": "#d62728",
    "moving": "#ff7f0e",
    "midpoint": "#9467bd",
    "star": "#2ca02c",
}


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


def scatter_figure(run: TradeoffRun) -> go.Figure:
    """The prior, the exact posterior, the run's samples, the observation line and ``x_star``."""
    fig = go.Figure(
        [
            _points("prior", run.prior, COLOURS["prior"], 3, 0.5),
            _points("exact posterior", run.posterior, COLOURS["posterior"], 4, 0.5),
            _points(run.label, run.samples, COLOURS["sampler"], 4, 0.6),
            _line_trace(run.line),
            go.Scatter(
                x=run.x_star[:, 0],
                y=run.x_star[:, 1],
                mode="markers",
                name="x*",
                marker=dict(symbol="star", size=14, color=COLOURS["star"]),
            ),
        ]
    )
    title = f"{run.label}: SW to the exact posterior = {run.sw:.2f} (problem {run.seed})"
    _layout(fig, title, "scatter")
    _square_axes(fig, run.xrange, run.yrange)
    return fig


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
