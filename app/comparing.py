"""Compare samplers: several samplers on one problem, from one initial noise, stepped in turn
and streamed together (their current x̂0, their data-consistency curves, a metrics table),
and on an exact prior the exact posterior mean and std beside them.

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
from mgps.pipeline import Progress, RestoreSetup, Result, restore_stream
from mgps.presets import BEST_OF

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
]

DEFAULT_SAMPLERS = ("mgps", "dps", "ddnm", "reddiff")


@dataclass(frozen=True)
class CompareRequest:
    """Several samplers on one problem, from the same initial noise.

    Attributes are those of :class:`~app.restoring.RestoreRequest`, with ``samplers`` (names)
    and one ``num_steps`` for all of them (their other parameters: defaults and per-task
    presets).
    """

    image: Any
    samplers: tuple[str, ...]
    operator: str = catalog.DEFAULT_OPERATOR
    prior: str = catalog.DEFAULT_PRIOR
    operator_params: dict[str, Any] = field(default_factory=dict)
    num_steps: int = 50
    sigma_y: float = 0.05
    num_samples: int = 2
    seed: int = 0


TABLE_COLUMNS = [
    "sampler",
    "status",
    "steps",
    "PSNR samples (dB)",
    "PSNR mean (dB)",
    "PSNR best fit (dB)",
    "SSIM samples",
    "‖y − A(x̂)‖",
    "seconds",
    "network calls",
    "RMSE of mean vs exact mean",
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


@dataclass
class _Run:
    name: str
    label: str
    stream: Iterator[Progress | Result]
    num_steps: int
    residuals: list[float] = field(default_factory=list)
    steps: list[int] = field(default_factory=list)
    image: np.ndarray | None = None
    seconds: float = 0.0
    status: str = "running"
    result: Result | None = None
    done: int = 0


def _residual_figure(runs: list[_Run], expected: float, steps: int) -> go.Figure:
    """‖y − A(x̂0)‖ per step on a log axis, and the noise level σ_y√m as a dotted line with
    its label just under the line's left end (where the curves are still far above it)."""
    fig = go.Figure()
    for r in runs:
        if r.residuals:
            fig.add_trace(go.Scatter(x=r.steps, y=r.residuals, mode="lines", name=r.label))
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
    fig.update_layout(
        title="Data consistency ‖y − A(x̂0)‖ per step (mean over samples)",
        xaxis=dict(title="step", range=[0, steps + 1]),
        yaxis_title="‖y − A(x̂0)‖",
        yaxis_type="log",
        height=360,
        margin=dict(l=50, r=20, t=50, b=40),
        legend=dict(orientation="h", y=-0.2),
    )
    return fig


def _row(r: _Run, exact_mean: torch.Tensor | None) -> list[Any]:
    if r.result is None:
        head = [r.label, r.status, f"{r.done}/{r.num_steps}"]
        return [*head, None, None, None, None, None, round(r.seconds, 2), None, None]
    m = r.result.metrics
    rmse = None
    if exact_mean is not None:
        diff = r.result.mean.reshape(-1).double().cpu() - exact_mean.reshape(-1).double().cpu()
        rmse = round(float(diff.pow(2).mean().sqrt()), 4)
    return [
        r.label,
        r.status,
        f"{r.done}/{r.num_steps}",
        round(float(np.mean(m["psnr"])), 2),
        round(float(m["psnr_mean_image"]), 2),
        round(float(m["psnr"][m["best_by_data_consistency"]]), 2),
        round(float(np.mean(m["ssim"])), 3),
        round(float(np.mean(m["residual_norm"])), 3),
        round(r.seconds, 2),
        m.get("network_calls"),
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
    posterior_for = getattr(setup.prior, "posterior_for", None)
    if posterior_for is None or not getattr(setup.operator, "linear", False):
        return None
    posterior = posterior_for(setup.problem)
    shape = (1, *setup.image_shape)
    mean = posterior.mean().reshape(shape)
    std = posterior.covariance().diagonal().clamp_min(0).sqrt().reshape(shape)
    return mean.float(), std.float()


def compare(request: CompareRequest) -> Iterator[CompareFrame]:
    """Run several samplers on one problem from one initial noise, step by step in turn, and
    stream their current estimates, the residual curves and a metrics table.

    The initial noise is drawn once from the seed, ``x_init = randn((N, *prior.shape))``, and
    every sampler starts from it. Wall time is the time spent inside each sampler's steps.

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
    x_init = torch.randn((n, *setup.prior.shape), generator=torch.Generator().manual_seed(seed))
    runs = [
        _Run(
            name,
            mgps.SAMPLERS[name].label,
            restore_stream(
                setup,
                name,
                num_samples=n,
                params={"num_steps": steps},
                seed=seed,
                every=1,
                x_init=x_init,
            ),
            steps,
        )
        for name in runnable
    ]
    expected = float(setup.problem.sigma_y) * math.sqrt(setup.problem.y[0].numel())
    observation = display(setup.observation_image()[:1])
    label = "Compare"
    yield CompareFrame(
        status.starting(
            label, f"({', '.join(r.label for r in runs)} from the same noise, seed {seed})"
        ),
        table=[_row(r, None) for r in runs],
        observation=observation,
        notes=notes,
    )
    stride = max(1, steps // DISPLAY_FRAMES)
    total_steps = sum(r.num_steps for r in runs)
    remaining = status.Remaining(total_steps)
    rounds = 0
    while any(r.status == "running" for r in runs):
        rounds += 1
        for r in runs:
            if r.status != "running":
                continue
            t0 = time.perf_counter()
            try:
                update = next(r.stream)
            except StopIteration:
                r.status = "done" if r.result is not None else "stopped"
                continue
            except mgps.SamplerDivergedError as err:
                r.status = status.failed(f"diverged: {err}")
                continue
            except ValueError as err:  # e.g. a capability the tags did not show
                r.status = status.failed(f"cannot run: {err}")
                continue
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
        show = rounds % stride == 0 or not any(r.status == "running" for r in runs)
        done_steps = sum(r.done if r.status == "running" else r.num_steps for r in runs)
        elapsed = sum(r.seconds for r in runs)
        yield CompareFrame(
            status.running(
                label,
                max(r.done for r in runs),
                steps,
                time.perf_counter() - begin,
                remaining.update(done_steps, elapsed),
            ),
            live=_live(runs) if show else None,
            figure=_residual_figure(runs, expected, steps) if show else None,
            table=[_row(r, None) for r in runs] if show else None,
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
    exact_mean = None
    final_status = "done"
    if "exact" in mgps.PRIORS[request.prior].tags:
        yield CompareFrame("computing the exact posterior…", progress=1.0)
        exact = exact_posterior(setup)
        if exact is not None:
            exact_mean, exact_std = exact
            std_img, peak = display_std(exact_std)
            summary.append((display(exact_mean), "exact posterior mean"))
            summary.append((std_img, f"exact posterior std (white = {peak:.2f})"))
        else:
            final_status = "done (no exact posterior: the degradation is nonlinear)"
    yield CompareFrame(
        final_status,
        live=_live(runs),
        summary=summary,
        figure=_residual_figure(runs, expected, steps),
        table=[_row(r, exact_mean) for r in runs],
        progress=1.0,
        final=True,
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
