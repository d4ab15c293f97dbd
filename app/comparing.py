"""Compare samplers: several samplers on one problem, from one initial noise, under one budget
(equal cost by :func:`mgps.budget.plan`, equal steps, or their defaults), stepped in turn and
streamed together (their current x̂0, their data-consistency curves, a table of costs and
metrics with 95 % intervals), then a verdict (:mod:`mgps.verdict`); on an exact prior the exact
posterior mean and std beside them and the samplers ranked by their distance to it.

No gradio import: the Compare tab turns the frames into component updates.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import plotly.graph_objects as go
import torch

import mgps
from mgps import budget as budgets
from mgps.metrics import energy_terms
from mgps.pipeline import Progress, RestoreSetup, Result, restore_stream
from mgps.presets import BEST_OF
from mgps.verdict import interval, rank, verdict

from . import catalog, status
from .checks import check_common, int_in
from .convert import display, display_std
from .restoring import DISPLAY_FRAMES, setup_for

__all__ = [
    "CompareRequest",
    "CompareFrame",
    "compare",
    "exact_posterior",
    "stopped_table",
    "TABLE_COLUMNS",
    "DEFAULT_SAMPLERS",
    "BUDGET_CHOICES",
    "EXACT_DRAWS",
]

DEFAULT_SAMPLERS = ("mgps", "dps", "daps")
BUDGET_CHOICES = (  # (label, value) of the budget control
    ("Equal cost", "cost"),
    ("Equal steps", "steps"),
    ("Each sampler's defaults", "defaults"),
)
EXACT_DRAWS = 256  # exact posterior draws the distance to the exact posterior is measured on


@dataclass(frozen=True)
class CompareRequest:
    """Several samplers on one problem, from the same initial noise.

    Attributes are those of :class:`~app.restoring.RestoreRequest`, with ``samplers`` (names),
    ``budget`` (:data:`mgps.budget.BUDGETS`: ``"cost"``, the first sampler runs ``num_steps``
    and the others the steps that cost the same; ``"steps"``, all run ``num_steps``;
    ``"defaults"``, each its app default) and ``num_steps``. Their other parameters: defaults
    and per-task presets.
    """

    image: Any
    samplers: tuple[str, ...]
    operator: str = catalog.DEFAULT_OPERATOR
    prior: str = catalog.DEFAULT_PRIOR
    operator_params: dict[str, Any] = field(default_factory=dict)
    num_steps: int = 50
    sigma_y: float = mgps.DEFAULT_SIGMA_Y
    num_samples: int = catalog.DEFAULT_SAMPLES
    seed: int = 0
    budget: str = "cost"


TABLE_COLUMNS = [
    "sampler",
    "status",
    "steps",
    "forward calls",
    "VJPs",
    "cost (forward calls)",
    "seconds",
    "PSNR (dB)",
    "PSNR of the mean (dB)",
    "PSNR best fit (dB)",
    "SSIM",
    "‖y − A(x̂)‖",
    "energy distance to the exact posterior",
    "RMSE of the mean to the exact mean",
]
_STATUS, _STEPS = 1, 2  # columns of the table


@dataclass
class CompareFrame:
    """A streamed comparison update; None fields are unchanged."""

    status: str
    live: list[tuple[np.ndarray, str]] | None = None  # current x̂0 of each sampler
    summary: list[tuple[np.ndarray, str]] | None = None  # means and stds (and the exact ones)
    figure: Any = None  # plotly figure: ‖y − A(x̂0)‖ per step
    table: list[list[Any]] | None = None
    observation: np.ndarray | None = None
    notes: list[str] = field(default_factory=list)
    progress: float = 0.0  # fraction done
    final: bool = False
    verdict: str | None = None  # Markdown: who is best on which measure (the final frame)
    results: dict[str, dict[str, Any]] | None = None  # final: per sampler, steps, cost, metrics


@dataclass
class _Run:
    name: str
    label: str
    stream: Iterator[Progress | Result]
    num_steps: int
    cost: budgets.Cost  # counted before the run
    residuals: list[float] = field(default_factory=list)
    steps: list[int] = field(default_factory=list)
    image: np.ndarray | None = None
    seconds: float = 0.0
    status: str = "running"
    result: Result | None = None
    done: int = 0


def log_ticks(low: float, high: float) -> list[float]:
    """Tick values of a log axis from ``low`` to ``high``: 1, 2, 5 × 10^k when that makes at
    most 8 ticks, else the powers of ten (one label per tick, all in the same style)."""
    low, high = max(low, 1e-12), max(high, low * 1.0001)
    first, last = math.floor(math.log10(low)), math.ceil(math.log10(high))
    for mantissas in ((1, 2, 5), (1,)):
        ticks = [
            m * 10.0**k
            for k in range(first, last + 1)
            for m in mantissas
            if low <= m * 10.0**k <= high
        ]
        if len(ticks) <= 8:
            break
    if len(ticks) < 2:  # a narrow range: its ends
        ticks = [low, high]
    return ticks


def _tick_text(v: float) -> str:
    return f"{v:.3g}" if v < 1000 else f"{v:,.0f}"


def _residual_figure(runs: list[_Run], expected: float) -> go.Figure:
    """‖y − A(x̂0)‖ along each run on a log axis, against the share of the run done (under a
    budget the samplers run different numbers of steps: all end at 100 %), and the noise level
    σ_y√m as a dotted line with its label just under the line's left end (where the curves are
    still far above it). The axis is labelled 1, 2, 5 × 10^k (plotly's own log labels mix "2",
    "5" and "10")."""
    fig = go.Figure()
    values = [expected]
    for r in runs:
        if r.residuals:
            share = [100.0 * k / r.num_steps for k in r.steps]
            fig.add_trace(
                go.Scatter(
                    x=share,
                    y=r.residuals,
                    mode="lines",
                    name=f"{r.label} ({r.num_steps} steps)",
                    customdata=r.steps,
                    hovertemplate="step %{customdata}: %{y:.3g}",
                )
            )
            values += [v for v in r.residuals if v > 0 and math.isfinite(v)]
    fig.add_hline(y=expected, line_dash="dot", line_color="grey")
    fig.add_annotation(  # on a log axis an annotation's y is log10 of the value
        x=0.005,
        xref="paper",
        y=math.log10(expected),
        text="noise level σ_y√m",
        showarrow=False,
        xanchor="left",
        yanchor="top",
        font=dict(color="#555555"),
        bgcolor="rgba(255, 255, 255, 0.7)",
    )
    low, high = min(values) / 1.3, max(values) * 1.3
    ticks = log_ticks(low, high)
    fig.update_layout(
        title="Data consistency ‖y − A(x̂0)‖ along each run (mean over samples)",
        xaxis=dict(title="share of the sampler's steps done (%)", range=[0, 101]),
        yaxis=dict(
            title="‖y − A(x̂0)‖",
            type="log",
            range=[math.log10(low), math.log10(high)],
            tickvals=ticks,
            ticktext=[_tick_text(v) for v in ticks],
        ),
        height=360,
        margin=dict(l=60, r=20, t=50, b=40),
        legend=dict(orientation="h", y=-0.2),
    )
    return fig


def _cost_cells(cost: budgets.Cost, price: float) -> list[Any]:
    return [cost.forward_calls, cost.vjps, round(cost.units(price))]


def _row(
    r: _Run, price: float, exact: tuple[torch.Tensor, torch.Tensor] | None = None
) -> list[Any]:
    """A row of the table. While running, the counted cost; at the end, the run's own counts
    and its per-sample means with 95 % intervals. ``exact``: exact posterior draws and mean."""
    head = [r.label, r.status, f"{r.done}/{r.num_steps}"]
    if r.result is None:
        return [*head, *_cost_cells(r.cost, price), round(r.seconds, 2)] + [None] * 7
    m = r.result.metrics
    counted = budgets.Cost(m.get("network_calls", 0), m.get("vjps", 0))
    distance = rmse = None
    if exact is not None and r.result.samples.shape[0] > 1:
        draws, exact_mean = exact
        samples = r.result.samples.reshape(r.result.samples.shape[0], -1).double().cpu()
        distance = interval(energy_terms(samples, draws)).text(3)
        diff = samples.mean(0) - exact_mean.reshape(-1).double().cpu()
        rmse = round(float(diff.pow(2).mean().sqrt()), 4)
    return [
        *head,
        *_cost_cells(counted, price),
        round(r.seconds, 2),
        interval(m["psnr"]).text(),
        round(float(m["psnr_mean_image"]), 2),
        round(float(m["psnr"][m["best_by_data_consistency"]]), 2),
        interval(m["ssim"]).text(3),
        interval(m["residual_norm"]).text(),
        distance,
        rmse,
    ]


def stopped_table(rows: list[list[Any]] | None) -> list[list[Any]] | None:
    """The table after Stop: each row still ``running`` says where it stopped."""
    if not rows:
        return rows
    out = []
    for row in rows:
        row = list(row)
        if len(row) > _STEPS and row[_STATUS] == "running":
            row[_STATUS] = f"stopped at step {row[_STEPS]}"
        out.append(row)
    return out


def exact_posterior(setup: RestoreSetup) -> tuple[torch.Tensor, torch.Tensor] | None:
    """Exact posterior mean and per-pixel std, as images ``(1, C, H, W)``, when the prior is
    an exact mixture and the operator linear; None otherwise."""
    posterior = _exact_posterior_law(setup)
    if posterior is None:
        return None
    shape = (1, *setup.image_shape)
    mean = posterior.mean().reshape(shape)
    std = posterior.covariance().diagonal().clamp_min(0).sqrt().reshape(shape)
    return mean.float(), std.float()


def _exact_posterior_law(setup: RestoreSetup) -> Any:
    posterior_for = getattr(setup.prior, "posterior_for", None)
    if posterior_for is None or not getattr(setup.operator, "linear", False):
        return None
    return posterior_for(setup.problem)


def budget_note(
    budget: str, plan: dict[str, tuple[int, budgets.Cost]], target: float | None, price: float
) -> str:
    """What the budget gave each sampler, in a line."""
    labels = {n: mgps.SAMPLERS[n].label for n in plan}
    steps = ", ".join(f"{labels[n]} {k}" for n, (k, _) in plan.items())
    price_text = f"a VJP costs {price:.1f} forward calls here (measured)"
    if budget == "cost" and target is not None:
        first = next(iter(plan))
        off = [
            f"{labels[n]} costs {cost.units(price):,.0f} at {k} steps"
            for n, (k, cost) in plan.items()
            if abs(cost.units(price) - target) > 0.1 * target
        ]
        return (
            f"Equal cost: {target:,.0f} forward calls each (the cost of {labels[first]} at "
            f"{plan[first][0]} steps; {price_text}); steps: {steps}."
            + (f" Off the budget by more than 10 %: {'; '.join(off)}." if off else "")
        )
    kind = "Equal steps" if budget == "steps" else "Each sampler's defaults"
    return f"{kind}: steps {steps}; {price_text}."


def compare(request: CompareRequest) -> Iterator[CompareFrame]:
    """Run several samplers on one problem from one initial noise, step by step in turn, and
    stream their current estimates, the residual curves and a metrics table; at the end, a
    verdict from the per-sample measures.

    The initial noise is drawn once from the seed (``mgps.initial_noise`` on a generator
    seeded with it: the x_T a Restore with this seed starts from) and every sampler starts
    from it; each sampler's later noise comes from its own generator seeded with the seed. The steps of each come from the budget
    (:func:`mgps.budget.plan`, a VJP at its price measured on this device). Wall time is the
    time spent inside each sampler's steps.

    Raises:
        ValueError: bad input, or no sampler that can run this problem.
    """
    sigma, n, seed = check_common(request.sigma_y, request.num_samples, request.seed)
    names = list(dict.fromkeys(request.samplers or ()))
    if not names:
        raise ValueError("Pick at least one sampler to compare.")
    if len(names) > catalog.MAX_COMPARE:
        raise ValueError(
            f"Compare at most {catalog.MAX_COMPARE} samplers at once (got {len(names)})."
        )
    if request.budget not in budgets.BUDGETS:
        choices = ", ".join(v for _, v in BUDGET_CHOICES)
        raise ValueError(f"The budget must be one of {choices}; got {request.budget!r}.")
    steps = int_in("the number of steps", request.num_steps, 2, catalog.MAX_STEPS)
    notes: list[str] = []
    runnable = []
    for name in names:
        why = catalog.incompatibility(name, request.operator, request.prior)
        if why is None:
            runnable.append(name)
        else:
            notes.append(f"skipped {mgps.SAMPLERS[name].label}: {why}")
    if not runnable:
        raise ValueError("None of the chosen samplers can run this problem. " + " ".join(notes))
    begin = time.perf_counter()
    setup = setup_for(
        request.image, request.operator, request.prior, request.operator_params, sigma, seed
    )
    notes = list(setup.notes) + notes
    label = "Compare"
    observation = display(setup.observation_image()[:1])
    yield CompareFrame(
        status.starting(label, "(counting each sampler's network calls for the budget…)"),
        observation=observation,
        notes=notes,
    )
    price = budgets.vjp_price(setup.prior, key=request.prior, num_samples=n)
    defaults = {s: catalog.app_default(s, mgps.SAMPLERS[s].param("num_steps")) for s in runnable}
    try:
        plan, target = budgets.plan(
            runnable,
            setup.prior,
            setup.problem,
            request.operator,
            budget=request.budget,
            num_steps=steps,
            default_steps=defaults,
            price=price,
            high=catalog.MAX_STEPS,
        )
    except ValueError as err:
        raise ValueError(f"Could not count the samplers' network calls: {err}") from None
    note = budget_note(request.budget, plan, target, price)
    x_init = mgps.initial_noise(setup.prior, n, torch.Generator().manual_seed(seed))
    runs = [
        _Run(
            name,
            mgps.SAMPLERS[name].label,
            restore_stream(
                setup,
                name,
                num_samples=n,
                params={"num_steps": k},
                seed=seed,
                every=1,
                x_init=x_init,
            ),
            k,
            cost,
        )
        for name, (k, cost) in plan.items()
    ]
    expected = float(setup.problem.sigma_y) * math.sqrt(setup.problem.y[0].numel())
    yield CompareFrame(
        status.starting(
            label, f"({', '.join(r.label for r in runs)} from the same noise, seed {seed})"
        ),
        table=[_row(r, price) for r in runs],
        verdict=note,
    )
    most = max(r.num_steps for r in runs)
    stride = max(1, most // DISPLAY_FRAMES)
    total_steps = sum(r.num_steps for r in runs)
    remaining = status.Remaining(total_steps)
    rounds = 0
    while any(r.status == "running" for r in runs):
        rounds += 1
        for r in runs:
            # samplers with fewer steps advance less often, so that all end together
            if r.status != "running" or r.done * most >= rounds * r.num_steps:
                continue
            _advance(r, stride)
        show = rounds % stride == 0 or not any(r.status == "running" for r in runs)
        done_steps = sum(r.done if r.status == "running" else r.num_steps for r in runs)
        elapsed = sum(r.seconds for r in runs)
        yield CompareFrame(
            status.running(
                label,
                round(done_steps * most / max(1, total_steps)),
                most,
                time.perf_counter() - begin,
                remaining.update(done_steps, elapsed),
            ),
            live=_live(runs) if show else None,
            figure=_residual_figure(runs, expected) if show else None,
            table=[_row(r, price) for r in runs] if show else None,
            progress=done_steps / max(1, total_steps),
        )
    summary: list[tuple[np.ndarray, str]] = []
    best_of = request.operator in BEST_OF and n > 1  # phase retrieval: the best fit, not the mean
    for r in runs:
        if r.result is not None and best_of:
            i = r.result.metrics["best_by_data_consistency"]
            summary.append(
                (display(r.result.samples[i : i + 1]), f"{r.label} · best fit to y of {n}")
            )
        elif r.result is not None:
            summary.append((display(r.result.mean), f"{r.label} · mean of {n}"))
            if n > 1:  # one sample has no spread
                std_img, peak = display_std(r.result.std)
                summary.append((std_img, f"{r.label} · std (white = {peak:.2f})"))
    exact = None
    final_note = ""
    if "exact" in mgps.PRIORS[request.prior].tags:
        yield CompareFrame("computing the exact posterior…", progress=1.0)
        posterior = _exact_posterior_law(setup)
        if posterior is not None:
            shape = (1, *setup.image_shape)
            exact_mean = posterior.mean().reshape(shape).float()
            std = posterior.covariance().diagonal().clamp_min(0).sqrt().reshape(shape).float()
            std_img, peak = display_std(std)
            summary.append((display(exact_mean), "exact posterior mean"))
            summary.append((std_img, f"exact posterior std (white = {peak:.2f})"))
            draws = posterior.sample(EXACT_DRAWS, torch.Generator().manual_seed(seed + 1))
            exact = (draws.reshape(EXACT_DRAWS, -1).double().cpu(), exact_mean)
        else:
            final_note = " (no exact posterior: the degradation is nonlinear)"
    finished = [r for r in runs if r.result is not None]
    yield CompareFrame(
        status.done(label, time.perf_counter() - begin) + final_note,
        live=_live(runs),
        summary=summary,
        figure=_residual_figure(runs, expected),
        table=[_row(r, price, exact) for r in runs],
        progress=1.0,
        final=True,
        verdict=compare_verdict(finished, setup, note, exact),
        results={r.label: _numbers(r, price, exact) for r in finished},
    )


def _numbers(
    r: _Run, price: float, exact: tuple[torch.Tensor, torch.Tensor] | None
) -> dict[str, Any]:
    """A finished run's steps, counts, seconds and per-sample measures (for scripts)."""
    assert r.result is not None
    m = r.result.metrics
    cost = budgets.Cost(m.get("network_calls", 0), m.get("vjps", 0))
    out = {
        "steps": r.num_steps,
        "forward_calls": cost.forward_calls,
        "vjps": cost.vjps,
        "cost": cost.units(price),
        "vjp_price": price,
        "seconds": r.seconds,
        **{k: m[k] for k in ("psnr", "ssim", "residual_norm", "psnr_mean_image")},
        "expected_residual_norm": m["expected_residual_norm"],
    }
    if exact is not None and r.result.samples.shape[0] > 1:
        samples = r.result.samples.reshape(r.result.samples.shape[0], -1)
        out["energy_distance"] = [float(v) for v in energy_terms(samples, exact[0])]
    return out


def _advance(r: _Run, stride: int) -> None:
    """One step of a run (its result after the last), recording time, residual and image."""
    t0 = time.perf_counter()
    try:
        update = next(r.stream)
    except StopIteration:
        r.status = "done" if r.result is not None else "stopped"
        return
    except mgps.SamplerDivergedError as err:
        r.status = status.failed(f"diverged: {err}")
        return
    except ValueError as err:  # e.g. a capability the tags did not show
        r.status = status.failed(f"cannot run: {err}")
        return
    finally:
        r.seconds += time.perf_counter() - t0
    if isinstance(update, Result):
        r.result = update
        r.status = "done"
        r.image = display(update.samples[:1])
    else:
        r.done = update.index + 1
        r.steps.append(r.done)
        r.residuals.append(float(update.residual_norm.mean()))
        if update.index % stride == 0 or r.done == r.num_steps:
            r.image = display(update.x0_hat[:1])


def compare_verdict(
    runs: list[_Run],
    setup: RestoreSetup,
    preface: str,
    exact: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> str:
    """The verdict line from the finished runs' per-sample measures: on an exact prior the
    energy distance to the exact posterior first, then PSNR and SSIM to the true image; the
    samplers whose data fit is under the noise level are flagged."""
    if not runs:
        return preface + "\n\nNo sampler finished: no verdict."
    if runs[0].result is not None and runs[0].result.samples.shape[0] < 2:
        return (
            preface
            + "\n\nOne sample per sampler gives no interval: draw at least 2 (4 or more to tell samplers apart)."
        )
    rankings = []
    if exact is not None:
        draws = exact[0]
        distances = {
            r.label: energy_terms(r.result.samples.reshape(len(r.result.samples), -1), draws)
            for r in runs
            if r.result is not None
        }
        rankings.append(
            rank(
                "Energy distance to the exact posterior",
                f"RMS pixel units, {EXACT_DRAWS} exact draws; 0 for an exact sampler",
                distances,
                higher_is_better=False,
                digits=3,
            )
        )
    metrics = {r.label: r.result.metrics for r in runs if r.result is not None}
    rankings.append(rank("PSNR", "dB", {k: m["psnr"] for k, m in metrics.items()}))
    rankings.append(rank("SSIM", "", {k: m["ssim"] for k, m in metrics.items()}, digits=3))
    return verdict(
        rankings,
        fits={k: m["residual_norm"] for k, m in metrics.items()},
        sigma_y=float(setup.problem.sigma_y),
        num_observed=int(setup.problem.y[0].numel()),
        preface=preface,
    )


def _live(runs: list[_Run]) -> list[tuple[np.ndarray, str]]:
    return [
        (
            r.image,
            f"{r.label} · step {r.done}/{r.num_steps}"
            + ("" if r.status in ("running", "done") else f" · {r.status[:60]}"),
        )
        for r in runs
        if r.image is not None
    ]
