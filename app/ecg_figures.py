"""The 12-lead ECG figure of the ECG tab: the true signal, the observation and each sample
(or the current x̂0) on the 12 leads (aVR, aVL, aVF rebuilt from I, II, III), as plotly
figures built from a validated base so that streamed frames are cheap. No gradio import.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from mgps.ecg.leads import LEADS_12, twelve_leads

__all__ = ["ecg_base", "ecg_figure"]

# 12 subplots: limb leads on the left, chest leads on the right (a common 6 × 2 layout)
_ROWS, _COLS = 6, 2
_POSITION = {name: (k % 6 + 1, k // 6 + 1) for k, name in enumerate(LEADS_12)}
_COLOURS = (
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#9467bd",
    "#ff7f0e",
    "#17becf",
    "#e377c2",
    "#8c564b",
    "#bcbd22",
    "#7f7f7f",
)
_OBSERVED = "rgba(255, 170, 0, 0.45)"
_SHADE = "rgba(255, 170, 0, 0.12)"


def _f32(v: np.ndarray) -> np.ndarray:
    """Float32 values for the browser (plotly sends them as compact binary)."""
    return np.asarray(v, dtype=np.float32)


def _observed_ranges(observed: np.ndarray) -> list[tuple[int, int]]:
    """Time ranges ``[t0, t1)`` observed on every lead (the observed half of the block task);
    none when the whole window is observed on every lead or no time is."""
    full = np.isfinite(observed).all(axis=0)
    if full.all() or not full.any():
        return []
    edges = np.flatnonzero(np.diff(np.concatenate([[0], full.astype(int), [0]])))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def ecg_base(x_true: np.ndarray, observed: np.ndarray, sampling_rate: int = 100) -> dict:
    """The figure without samples, as a plotly dict (built and validated once per run): 12
    subplots (limb leads left, chest leads right), the true signal in black, the observation
    (y where observed, and the rebuilt leads it determines) as a thick orange band, the time
    range observed on every lead shaded. ``meta["axes"]`` lists each lead's (xaxis, yaxis)."""
    truth12 = twelve_leads(np.asarray(x_true, dtype=np.float64))
    obs12 = twelve_leads(np.asarray(observed, dtype=np.float64))  # NaN where not determined
    length = truth12.shape[-1]
    dx = 1.0 / sampling_rate
    fig = make_subplots(
        rows=_ROWS, cols=_COLS, shared_xaxes=True, vertical_spacing=0.025, horizontal_spacing=0.06
    )
    obs_legend = True
    for k, name in enumerate(LEADS_12):
        row, col = _POSITION[name]
        if np.isfinite(obs12[k]).any():
            fig.add_trace(
                go.Scatter(
                    y=_f32(obs12[k]),
                    x0=0,
                    dx=dx,
                    mode="lines",
                    name="observed y",
                    legendgroup="observed",
                    showlegend=obs_legend,
                    line=dict(color=_OBSERVED, width=6),
                    hoverinfo="skip",
                ),
                row=row,
                col=col,
            )
            obs_legend = False
        fig.add_trace(
            go.Scatter(
                y=_f32(truth12[k]),
                x0=0,
                dx=dx,
                mode="lines",
                name="true signal",
                legendgroup="truth",
                showlegend=k == 0,
                line=dict(color="black", width=1.4),
                meta=name,
            ),
            row=row,
            col=col,
        )
        lo, hi = float(np.min(truth12[k])), float(np.max(truth12[k]))
        pad = 0.3 * (hi - lo) + 0.1
        fig.update_yaxes(range=[lo - pad, hi + pad], row=row, col=col)
        fig.add_annotation(
            text=f"<b>{name}</b>",
            xref="x domain",
            yref="y domain",
            x=0.005,
            y=0.98,
            showarrow=False,
            xanchor="left",
            yanchor="top",
            font=dict(size=12),
            row=row,
            col=col,
        )
    for t0, t1 in _observed_ranges(observed):
        fig.add_vrect(
            x0=t0 * dx,
            x1=(t1 - 1) * dx,
            fillcolor=_SHADE,
            line_width=0,
            layer="below",
            row="all",
            col="all",
        )
    fig.update_xaxes(range=[0, (length - 1) * dx], gridcolor="#eeeeee", zeroline=False)
    fig.update_yaxes(gridcolor="#eeeeee", zeroline=False)
    for col in range(1, _COLS + 1):
        fig.update_xaxes(title_text="time (s)", row=_ROWS, col=col)
    fig.update_layout(
        height=820,
        margin=dict(l=40, r=10, t=70, b=40),
        legend=dict(orientation="h", y=1.0, yanchor="bottom", x=0.5, xanchor="center"),
        plot_bgcolor="white",
        hovermode="x unified",
    )
    base = fig.to_dict()
    axes = {
        t["meta"]: (t.get("xaxis", "x"), t.get("yaxis", "y")) for t in base["data"] if "meta" in t
    }
    base["meta"] = {"axes": [axes[name] for name in LEADS_12], "dx": dx}
    return base


def ecg_figure(
    base: dict,
    samples: np.ndarray | None = None,
    *,
    title: str = "",
    sample_label: str = "sample",
    validate: bool = True,
) -> go.Figure:
    """``base`` (:func:`ecg_base`) with each sample as a thin coloured line on the 12 leads.

    Args:
        base: the figure without samples.
        samples: ``(S, 9, L)`` samples (or current x̂0), or None.
        title: the figure's title.
        sample_label: legend name of the samples (``"sample"``, ``"x̂0"``).
        validate: let plotly check the traces (the streamed frames skip it: it costs 0.1–0.3 s
            a frame, and they are built exactly as the validated final figure).
    """
    data = list(base["data"])
    if samples is not None:
        s12 = twelve_leads(np.asarray(samples, dtype=np.float64))
        dx = base["meta"]["dx"]
        for k, (xaxis, yaxis) in enumerate(base["meta"]["axes"]):
            for j in range(s12.shape[0]):
                data.append(
                    dict(
                        type="scatter",
                        y=_f32(s12[j, k]),
                        x0=0,
                        dx=dx,
                        xaxis=xaxis,
                        yaxis=yaxis,
                        mode="lines",
                        name=f"{sample_label} {j + 1}",
                        legendgroup=f"s{j}",
                        showlegend=k == 0,
                        line=dict(color=_COLOURS[j % len(_COLOURS)], width=1),
                        opacity=0.85,
                    )
                )
    layout = {**base["layout"], "title": dict(text=title, x=0.5, xanchor="center")}
    return go.Figure(dict(data=data, layout=layout), _validate=validate)
