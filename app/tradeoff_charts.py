"""The trade-off tab's two charts against η, with words computed from their data:

* SW against η on the 2-D problem, from the committed teaching sweep
  (``results/tradeoff_teaching/teaching.json``, made by ``mgps tradeoff sweep``; loaded once, the same
  for every visitor), with the visitor's own runs drawn over it (passed in: the tab keeps them
  per visitor);
* why: Example 3.2's exact W2 split into its two sources (``mgps.tradeoff.decomposition``),
  the error of the likelihood at the midpoint and that of the Gaussian backward transition,
  and both together (the surrogate).

No gradio import.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import plotly.graph_objects as go

from mgps.mixture2d import EtaSweep, EtaVerdict, TeachingSettings, eta_verdict
from mgps.tradeoff import Decomposition, decomposition

from .tradeoff_scatter import COLOURS

__all__ = [
    "SWEEP_PATH",
    "SWEEP_COMMAND",
    "YourRun",
    "load_sweep",
    "sweep_settings",
    "sw_figure",
    "sw_words",
    "DECOMPOSITION_CONFIG",
    "decomposition_points",
    "decomposition_figure",
    "decomposition_words",
]

ROOT = Path(__file__).resolve().parents[1]
SWEEP_PATH = ROOT / "results" / "tradeoff_teaching" / "teaching.json"
SWEEP_COMMAND = "mgps tradeoff sweep --out results/tradeoff_teaching/ --name teaching"

_lock = threading.Lock()
_sweep: dict[Path, EtaSweep | str] = {}


def load_sweep(path: Path | None = None) -> EtaSweep | str:
    """The committed teaching sweep (``path``, default :data:`SWEEP_PATH`), or (a string) why
    it cannot be shown; read once."""
    path = SWEEP_PATH if path is None else path
    with _lock:
        if path not in _sweep:
            try:
                _sweep[path] = EtaSweep.load(path)
            except FileNotFoundError:
                _sweep[path] = (
                    f"The teaching sweep `{path.name}` is missing: make it with `{SWEEP_COMMAND}`."
                )
            except (ValueError, KeyError, TypeError) as err:
                _sweep[path] = f"The teaching sweep `{path.name}` cannot be read ({err})."
        return _sweep[path]


def sweep_settings() -> TeachingSettings:
    """The settings of the committed sweep (the tab's defaults), or the library's defaults."""
    sweep = load_sweep()
    return sweep.settings if isinstance(sweep, EtaSweep) else TeachingSettings()


@dataclass(frozen=True)
class YourRun:
    """One MGPS run of a visitor: its η, problem, settings and SW."""

    eta: float
    problem: int
    settings: TeachingSettings
    sw: float


def _eta_axes(fig: go.Figure, title: str, y_title: str, eta: float | None) -> None:
    if eta is not None:
        fig.add_vline(x=float(eta), line_dash="dot", line_color="#555555")
    fig.update_layout(
        title=dict(text=title, font=dict(size=13)),
        xaxis=dict(title="η (midpoint ℓ = ⌊η t⌋)", range=[-0.03, 1.03]),
        yaxis=dict(title=y_title, rangemode="tozero"),
        height=400,
        margin=dict(l=50, r=20, t=60, b=40),
        legend=dict(orientation="h", y=-0.2, font=dict(size=11)),
    )


def _settings_text(s: TeachingSettings) -> str:
    angle = "a random direction per problem" if s.angle is None else f"direction {s.angle:g} rad"
    return f"{s.num_steps} steps, σ_y = {s.sigma_y:g}, modes {s.spacing:g} apart, {angle}"


def sw_figure(
    sweep: EtaSweep | str, eta: float | None = None, yours: list[YourRun] | tuple = ()
) -> go.Figure:
    """MGPS's SW against η from the sweep: each problem (grey), the mean with its 95 %
    interval (red), the visitor's own MGPS runs with the sweep's settings (black crosses),
    a dotted line at ``eta``."""
    fig = go.Figure()
    if isinstance(sweep, str):
        _eta_axes(fig, "SW against η: no sweep to show", "sliced Wasserstein", eta)
        return fig
    v = eta_verdict(sweep)
    for j, problem in enumerate(sweep.problems):
        fig.add_trace(
            go.Scatter(
                x=sweep.etas,
                y=np.round(sweep.sw[:, j], 3),
                mode="lines",
                name=f"each of the {len(sweep.problems)} problems",
                line=dict(color="#cccccc", width=1),
                legendgroup="each",
                showlegend=j == 0,
                hovertemplate=f"problem {problem}: η %{{x}}, SW %{{y}}<extra></extra>",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=v.etas,
            y=np.round(v.mean, 3),
            error_y=dict(type="data", array=np.round(v.half, 3), visible=True),
            mode="lines+markers",
            name="mean and 95 % interval",
            line=dict(color=COLOURS["sampler"], width=2),
            marker=dict(size=7),
        )
    )
    mine = [r for r in yours if r.settings == sweep.settings]
    fig.add_trace(
        go.Scatter(
            x=[r.eta for r in mine],
            y=[round(r.sw, 3) for r in mine],
            mode="markers",
            name="your runs (this page only)",
            marker=dict(symbol="x", size=10, color="black"),
            text=[f"problem {r.problem}" for r in mine],
            hovertemplate="%{text}: η %{x}, SW %{y}<extra></extra>",
        )
    )
    _eta_axes(
        fig,
        f"2-D mixture: SW of MGPS to the exact posterior<br>{_settings_text(sweep.settings)}",
        "sliced Wasserstein (lower is better)",
        eta,
    )
    return fig


def _etas(values: list[float]) -> str:
    return ", ".join(f"{e:g}" for e in sorted(values))


def sw_words(sweep: EtaSweep | str, settings: TeachingSettings | None = None) -> str:
    """What the SW chart shows, from its data: the lowest mean, which η are clearly worse than
    it (paired over problems) and which cannot be told apart from it, and whether an η in
    between is measurably best; a note where the visitor's settings are not the sweep's."""
    if isinstance(sweep, str):
        return sweep
    v: EtaVerdict = eta_verdict(sweep)
    k = v.etas.index(v.best)
    n = len(sweep.problems)
    tied = [e for e in v.etas if e != v.best and e not in v.worse]
    text = (
        f"**What the sweep shows** (MGPS, {_settings_text(sweep.settings)}; {n} problems × "
        f"{sweep.runs} run(s), mean ± 95 % interval): the lowest mean SW is at η = {v.best:g} "
        f"({v.mean[k]:.2f} ± {v.half[k]:.2f})."
    )
    if v.worse:
        text += f" Clearly worse on the same problems (paired 95 % interval): η = {_etas(v.worse)}."
    if tied:
        text += f" Not distinguishable from it with {n} problems: η = {_etas(tied)}."
    if v.in_between:
        text += (
            f" **An η in between is measurably best here**: η = 0 and η = 1 are both clearly "
            f"worse than η = {v.best:g}, as in the paper."
        )
    elif 0.0 < v.best < 1.0:
        text += (
            " The lowest mean is in between, but the intervals do **not** separate it from "
            "both ends: these data do not show an in-between optimum."
        )
    else:
        text += (
            " The best η is an end of the range: on this 2-D problem the data do **not** show "
            "the paper's in-between optimum (the exact Gaussian example beside does)."
        )
    text += f" Made by `{sweep.command or SWEEP_COMMAND}`"
    if settings is not None and settings != sweep.settings:
        text += (
            f"\n\nYour settings ({_settings_text(settings)}) are not the sweep's: the chart "
            "stays the sweep's, and your runs are not drawn on it."
        )
    return text


# ---------------------------------------------------------------------------- why: Example 3.2
DECOMPOSITION_CONFIG = dict(dim=20, obs_dim=10, sigma_y=0.1, num_steps=100)
DECOMPOSITION_ETAS = tuple(float(e) for e in np.linspace(0.05, 1.0, 20))
DECOMPOSITION_SEEDS = (0, 1, 2)
_decomposition: list[Decomposition] = []


def decomposition_points() -> Decomposition:
    """The decomposition on Example 3.2's instances (about 10 s on one CPU thread, once)."""
    with _lock:
        if not _decomposition:
            _decomposition.append(
                decomposition(
                    list(DECOMPOSITION_ETAS), list(DECOMPOSITION_SEEDS), **DECOMPOSITION_CONFIG
                )
            )
        return _decomposition[0]


_CURVES = {  # name: (legend, colour, width, dash)
    "likelihood": ("likelihood approximated at ℓ (exact transition)", "#ff7f0e", 2, "solid"),
    "transition": ("Gaussian transition t → ℓ (exact likelihood)", "#9467bd", 2, "solid"),
    "surrogate": ("both: the MGPS surrogate (Example 3.2)", "#1f77b4", 4, "solid"),
    "exact": ("neither: the final denoising step alone", "#7f7f7f", 1, "dot"),
}


def decomposition_figure(eta: float | None = None) -> go.Figure:
    """W2 to the posterior against η: each error alone, both (the surrogate), neither (the
    floor); means over the instances; a dotted line at ``eta``."""
    d = decomposition_points()
    fig = go.Figure()
    for name, (label, colour, width, dash) in _CURVES.items():
        fig.add_trace(
            go.Scatter(
                x=d.etas,
                y=np.round(d.mean(name), 4),
                mode="lines+markers" if name != "exact" else "lines",
                name=label,
                line=dict(color=colour, width=width, dash=dash),
                marker=dict(size=5),
            )
        )
    c = DECOMPOSITION_CONFIG
    _eta_axes(
        fig,
        f"Why: Example 3.2's error split into its two sources<br>Gaussian prior, d = {c['dim']}, "
        f"{c['obs_dim']} observations, {c['num_steps']} steps; exact, no sampling",
        "W2 to the posterior (exact)",
        eta,
    )
    return fig


def decomposition_words() -> str:
    """What the decomposition shows, from its values."""
    d = decomposition_points()
    e = d.etas
    like, trans, both = d.mean("likelihood"), d.mean("transition"), d.mean("surrogate")
    k = int(np.argmin(both))
    cross = d.crossing()
    text = (
        f"**Why there is a trade-off** (exact, on {len(d.seeds)} Gaussian instances): with the "
        f"exact transition, the error of the likelihood guessed at the midpoint grows from "
        f"{like[0]:.2f} at η = {e[0]:.2f} to {like[-1]:.2f} at η = {e[-1]:.2f} (a guess made "
        f"at a noisier midpoint is cruder); with the exact likelihood, the error of the Gaussian "
        f"jump from t to ℓ falls from {trans[0]:.2f} to {trans[-1]:.2f} (a shorter jump is "
        f"closer to Gaussian)."
    )
    if cross is not None:
        text += f" The two curves cross at η ≈ {cross:.2f}."
    if 0 < k < len(e) - 1:
        text += (
            f" With both approximations (MGPS's surrogate) the error is a U: lowest at "
            f"**η ≈ {e[k]:.2f}** ({both[k]:.3f}), against {both[0]:.2f} at η = {e[0]:.2f} and "
            f"{both[-1]:.2f} at the DPS-like η = {e[-1]:.2f}. This reproduces the paper's "
            f"Example 3.2."
        )
    else:
        text += (
            f" With both approximations the error is lowest at an end (η = {e[k]:.2f}): "
            f"unlike the paper's Example 3.2."
        )
    return text
