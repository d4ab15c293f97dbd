"""Example 3.2 / Appendix B for ``results/``: the exact W2 of the MGPS surrogate against η
(the computation is the library's, :mod:`mgps.tradeoff`), written as CSV and a plot."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from ..tradeoff import GaussianInstance, eta_curve, random_instance, surrogate_moments

__all__ = [
    "GaussianInstance",
    "random_instance",
    "surrogate_moments",
    "eta_curve",
    "write_eta_curve",
]


def write_eta_curve(
    out: str | Path,
    *,
    etas: np.ndarray | None = None,
    seeds: list[int] | None = None,
    plot: bool = True,
    **kwargs,
) -> np.ndarray:
    """Compute the η curve, write ``eta, w2_seed<k>..., w2_mean`` as CSV and a plotly figure
    (``<out>.html``) beside it. Returns the table."""
    etas = np.linspace(0, 1, 22)[1:-1] if etas is None else np.asarray(etas)
    seeds = [0, 1, 2] if seeds is None else list(seeds)
    w2 = eta_curve(etas, seeds, **kwargs)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["eta", *[f"w2_seed{s}" for s in seeds], "w2_mean"])
        for k, eta in enumerate(etas):
            writer.writerow([f"{eta:.6f}", *[f"{v:.6f}" for v in w2[k]], f"{w2[k].mean():.6f}"])
    if plot:
        import plotly.graph_objects as go

        fig = go.Figure()
        for j, s in enumerate(seeds):
            fig.add_trace(
                go.Scatter(
                    x=etas,
                    y=w2[:, j],
                    mode="lines",
                    name=f"seed {s}",
                    line={"width": 1},
                    opacity=0.5,
                )
            )
        fig.add_trace(
            go.Scatter(x=etas, y=w2.mean(1), mode="lines+markers", name="mean", line={"width": 3})
        )
        fig.update_layout(
            title="Example 3.2: W2(MGPS surrogate, exact posterior) against the midpoint η",
            xaxis_title="η (midpoint ℓ = ⌊η t⌋)",
            yaxis_title="W2",
            yaxis_type="log",
        )
        fig.write_html(out.with_suffix(".html"), include_plotlyjs="cdn")
    return w2
