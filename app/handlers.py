"""Plain, typed handlers over the library: they convert inputs, call ``mgps.pipeline`` and
yield display-ready frames (numpy images, plotly figures, tables). No gradio import: the
``ui`` module turns the frames into component updates and library errors into ``gr.Error``.

Nothing here computes a sampler update; the library's ``restore_stream`` does the work.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

import mgps
from mgps.pipeline import Progress, RestoreSetup, Result, prepare, restore_stream
from mgps.samplers.common import is_latent

from . import catalog
from .convert import check_size, display, display_std, editor_image, editor_mask
from .device import DEVICE

__all__ = [
    "RestoreRequest",
    "Frame",
    "Final",
    "restore",
    "CompareRequest",
    "CompareFrame",
    "compare",
    "setup_for",
]

DISPLAY_FRAMES = 25  # streamed images per run (about)


# ---------------------------------------------------------------------------- requests
@dataclass(frozen=True)
class RestoreRequest:
    """One restoration.

    Attributes:
        image: a ``gr.ImageEditor`` value (dict with ``background`` and ``layers``), or an
            image (path, PIL, numpy).
        operator: registered operator name (``"mask"`` uses the strokes drawn on the image).
        prior: registered prior name.
        sampler: registered sampler name.
        operator_params: keyword parameters of the operator.
        sampler_params: keyword parameters of the sampler (``num_steps`` ...).
        sigma_y: observation noise std, in [-1, 1] image units.
        num_samples: posterior samples drawn at once.
        seed: seed of the observation noise and of the sampler.
    """

    image: Any
    operator: str = catalog.DEFAULT_OPERATOR
    prior: str = catalog.DEFAULT_PRIOR
    sampler: str = catalog.DEFAULT_SAMPLER
    operator_params: dict[str, Any] = field(default_factory=dict)
    sampler_params: dict[str, Any] = field(default_factory=dict)
    sigma_y: float = 0.05
    num_samples: int = catalog.DEFAULT_SAMPLES
    seed: int = 0


@dataclass
class Frame:
    """A streamed update. Image fields are None when unchanged since the last frame."""

    step: int  # steps done (0 before sampling)
    num_steps: int
    t: int | None = None
    seconds: float = 0.0
    x0_hat: np.ndarray | None = None
    midpoint: np.ndarray | None = None
    x_t: np.ndarray | None = None
    observation: np.ndarray | None = None
    residual: float | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def has_images(self) -> bool:
        return any(v is not None for v in (self.x0_hat, self.midpoint, self.x_t, self.observation))

    def status(self, label: str) -> str:
        if self.step == 0:
            return f"{label}: starting…"
        text = f"{label}: step {self.step}/{self.num_steps}"
        if self.t is not None:
            text += f" · t = {self.t}"
        if self.residual is not None:
            text += f" · ‖y − A(x̂0)‖ = {self.residual:.3g}"
        return text + f" · {self.seconds:.1f} s"


@dataclass
class Final:
    """The end of a restoration."""

    restoration: np.ndarray
    observation: np.ndarray
    gallery: list[tuple[np.ndarray, str]]
    metrics: dict[str, Any]
    table: str  # markdown
    seconds: float
    restoration_index: int


# ---------------------------------------------------------------------------- checks
def _int_in(name: str, value: Any, low: int, high: int) -> int:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a whole number, got {value!r}") from None
    if not math.isfinite(number) or number != int(number):
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    if not low <= number <= high:
        raise ValueError(f"{name} must be between {low} and {high}; got {int(number)}")
    return int(number)


def _clean_params(entry: mgps.Entry, values: dict[str, Any]) -> dict[str, Any]:
    """Drop unset values (None / empty), coerce ints, and check ranges with the registry."""
    out: dict[str, Any] = {}
    names = {p.name: p for p in entry.params}
    for name, value in values.items():
        if name not in names:
            raise ValueError(
                f"{entry.label} has no parameter {name!r}; its parameters are: {', '.join(names)}"
            )
        p = names[name]
        if value is None or (isinstance(value, str) and not value.strip()):
            if p.default is None:
                out[name] = None
            continue
        if isinstance(p.default, bool):
            value = bool(value)
        elif isinstance(p.default, int):
            value = _int_in(
                f"{entry.label} {name}",
                value,
                int(p.low if p.low is not None else -(2**31)),
                int(p.high if p.high is not None else 2**31),
            )
        elif isinstance(p.default, float) or p.default is None:
            try:
                value = float(value)
            except (TypeError, ValueError):
                raise ValueError(f"{entry.label} {name} must be a number, got {value!r}") from None
            if not math.isfinite(value):
                raise ValueError(f"{entry.label} {name} must be a finite number, got {value}")
        p.check(value)
        out[name] = value
    return out


def _check_common(sigma_y: Any, num_samples: Any, seed: Any) -> tuple[float, int, int]:
    try:
        sigma = float(sigma_y)
    except (TypeError, ValueError):
        raise ValueError(f"σ_y must be a number, got {sigma_y!r}") from None
    if not math.isfinite(sigma) or not 0 < sigma <= 2:
        raise ValueError(f"σ_y must be in (0, 2] (image units in [-1, 1]); got {sigma_y}")
    n = _int_in("the number of samples", num_samples, 1, catalog.MAX_SAMPLES)
    s = _int_in("the seed", seed, 0, 2**31 - 1)
    return sigma, n, s


def setup_for(
    image: Any,
    operator: str,
    prior: str,
    operator_params: dict[str, Any],
    sigma_y: float,
    seed: int,
) -> RestoreSetup:
    """Read the editor value, check limits and build the problem (``mgps.pipeline.prepare``).

    Raises:
        ValueError: with a message for the user (no image, too large, empty/full mask, ...).
    """
    source = editor_image(image)
    if source is None:
        raise ValueError("Upload an image (or pick an example) first.")
    check_size(source)
    entry = mgps.OPERATORS[operator]
    if "image" not in entry.tags or "needs-weights" in entry.tags:
        raise ValueError(f"{entry.label} is not offered by this app")
    params = _clean_params(entry, operator_params)
    drawn = editor_mask(image)
    if operator == "mask":
        if drawn is None:
            raise ValueError(
                "Nothing to restore: draw over the part of the image to restore with the brush "
                "(or choose another degradation, e.g. box or half)."
            )
        check_size(drawn, "the mask")
    choice = next((p for p in catalog.priors() if p.name == prior), None)
    if choice is None:
        raise ValueError(f"unknown prior {prior!r}")
    if not choice.available:
        raise ValueError(f"The prior {choice.label} is unavailable: {choice.why}.")
    setup = prepare(
        prior,
        source,
        operator,
        operator_params=params,
        mask=drawn if operator == "mask" else None,
        mask_drawn_means="missing",
        sigma_y=sigma_y,
        seed=seed,
        device=DEVICE,
    )
    if drawn is not None and operator != "mask":
        setup.notes.append(
            f"the strokes drawn on the image are ignored: the degradation is {entry.label}"
        )
    return setup


def _stream_every(setup: RestoreSetup, num_steps: int) -> tuple[int, int]:
    """(library ``every``, display stride): the library yields every step for pixel priors
    (so Stop acts within one step); images are rendered every ``stride`` steps."""
    stride = max(1, num_steps // DISPLAY_FRAMES)
    return (stride if is_latent(setup.prior) else 1), stride


# ---------------------------------------------------------------------------- restore
def restore(request: RestoreRequest) -> Iterator[Frame | Final]:
    """Restore one image and stream it: a first :class:`Frame` with the observation, then
    one per step (images every few steps), then a :class:`Final`.

    Raises:
        ValueError: bad input or an impossible combination (the library's message).
        mgps.SamplerDivergedError: the sampler produced NaN/inf.
    """
    sigma, n, seed = _check_common(request.sigma_y, request.num_samples, request.seed)
    entry = mgps.SAMPLERS[request.sampler]
    why = catalog.incompatibility(request.sampler, request.operator, request.prior)
    if why is not None:
        raise ValueError(why)
    params = _clean_params(entry, request.sampler_params)
    num_steps = params.get("num_steps") or entry.defaults().get("num_steps", 1)
    _int_in("the number of steps", num_steps, 1, catalog.MAX_STEPS)
    start = time.perf_counter()
    setup = setup_for(
        request.image, request.operator, request.prior, request.operator_params, sigma, seed
    )
    observation = display(setup.observation_image()[:1])
    yield Frame(0, int(num_steps), observation=observation, notes=list(setup.notes))
    every, stride = _stream_every(setup, int(num_steps))
    result: Result | None = None
    for update in restore_stream(
        setup, request.sampler, num_samples=n, params=params, seed=seed, every=every
    ):
        if isinstance(update, Result):
            result = update
            break
        assert isinstance(update, Progress)
        done = update.index + 1
        show = update.index % stride == 0 or done == update.num_steps
        x_t = getattr(update, "x_t", None)  # newer library versions stream x_t too
        yield Frame(
            done,
            update.num_steps,
            t=update.t,
            seconds=update.seconds,
            x0_hat=display(update.x0_hat[:1]) if show else None,
            midpoint=display(update.midpoint[:1]) if show and update.midpoint is not None else None,
            x_t=display(x_t[:1]) if show and x_t is not None else None,
            residual=float(update.residual_norm.mean()),
        )
    assert result is not None
    yield _final(result, entry.label, time.perf_counter() - start)


def _fmt(values: list[float], digits: int = 2) -> str:
    a = np.asarray(values, dtype=float)
    if a.size == 1:
        return f"{a[0]:.{digits}f}"
    return f"{a.mean():.{digits}f} ± {a.std():.{digits}f}"


def _final(result: Result, label: str, seconds: float) -> Final:
    m = result.metrics
    best = result.best_index
    gallery = [
        (
            display(result.samples[i : i + 1]),
            f"sample {i + 1} · PSNR {m['psnr'][i]:.1f} dB · ‖y − A(x)‖ {m['residual_norm'][i]:.2f}",
        )
        for i in range(result.samples.shape[0])
    ]
    if result.samples.shape[0] > 1:  # one sample has no spread
        std_img, peak = display_std(result.std)
        gallery.append(
            (
                display(result.mean),
                f"mean of {result.samples.shape[0]} · PSNR {m['psnr_mean_image']:.1f} dB",
            )
        )
        gallery.append((std_img, f"per-pixel std (white = {peak:.2f})"))
    table = "\n".join(
        [
            f"**{label}** on {m['operator']} with the {m['prior']} prior, "
            f"{result.samples.shape[0]} sample(s), {m.get('network_calls', '?')} network calls",
            "",
            "| metric | value |",
            "|---|---|",
            f"| PSNR of the samples (dB) | {_fmt(m['psnr'])} |",
            f"| PSNR of their mean (dB) | {m['psnr_mean_image']:.2f} |",
            f"| SSIM of the samples | {_fmt(m['ssim'], 3)} |",
            f"| SSIM of their mean | {m['ssim_mean_image']:.3f} |",
            f"| data consistency ‖y − A(x̂)‖ | {_fmt(m['residual_norm'])} "
            f"(noise alone: ≈ {m['expected_residual_norm']:.2f}) |",
            f"| seconds (sampling / whole job) | {m.get('seconds', float('nan')):.1f} / {seconds:.1f} |",
        ]
    )
    metrics = {k: v for k, v in m.items() if k != "params"}
    metrics["params"] = {k: v for k, v in (m.get("params") or {}).items()}
    return Final(
        restoration=display(result.samples[best : best + 1]),
        observation=display(result.observation[:1]),
        gallery=gallery,
        metrics=metrics,
        table=table,
        seconds=seconds,
        restoration_index=best,
    )


# ---------------------------------------------------------------------------- compare
@dataclass(frozen=True)
class CompareRequest:
    """Several samplers on one problem, from the same initial noise.

    Attributes are those of :class:`RestoreRequest`, with ``samplers`` (names) and one
    ``num_steps`` for all of them (their other parameters: defaults and per-task presets).
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
    "SSIM samples",
    "‖y − A(x̂)‖",
    "seconds",
    "network calls",
    "RMSE of mean vs exact mean",
]


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


def _residual_figure(runs: list[_Run], expected: float) -> Any:
    import plotly.graph_objects as go

    fig = go.Figure()
    for r in runs:
        if r.residuals:
            fig.add_trace(go.Scatter(x=r.steps, y=r.residuals, mode="lines", name=r.label))
    fig.add_hline(
        y=expected,
        line_dash="dot",
        line_color="grey",
        annotation_text="noise level σ_y√m",
        annotation_position="bottom right",
    )
    fig.update_layout(
        title="Data consistency ‖y − A(x̂0)‖ per step (mean over samples)",
        xaxis_title="step",
        yaxis_title="‖y − A(x̂0)‖",
        yaxis_type="log",
        height=360,
        margin=dict(l=50, r=20, t=50, b=40),
        legend=dict(orientation="h", y=-0.2),
    )
    return fig


def _row(r: _Run, exact_mean: torch.Tensor | None) -> list[Any]:
    if r.result is None:
        return [
            r.label,
            r.status,
            f"{r.done}/{r.num_steps}",
            None,
            None,
            None,
            None,
            round(r.seconds, 2),
            None,
            None,
        ]
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
        round(float(np.mean(m["ssim"])), 3),
        round(float(np.mean(m["residual_norm"])), 3),
        round(r.seconds, 2),
        m.get("network_calls"),
        rmse,
    ]


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
    sigma, n, seed = _check_common(request.sigma_y, request.num_samples, request.seed)
    names = list(dict.fromkeys(request.samplers or ()))
    if not names:
        raise ValueError("Pick at least one sampler to compare.")
    if len(names) > catalog.MAX_COMPARE:
        raise ValueError(
            f"Compare at most {catalog.MAX_COMPARE} samplers at once (got {len(names)})."
        )
    steps = _int_in("the number of steps", request.num_steps, 2, catalog.MAX_STEPS)
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
    yield CompareFrame(
        f"running {', '.join(r.label for r in runs)} from the same noise (seed {seed})",
        table=[_row(r, None) for r in runs],
        observation=observation,
        notes=notes,
    )
    stride = max(1, steps // DISPLAY_FRAMES)
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
                r.status = f"diverged: {err}"
                continue
            except ValueError as err:  # e.g. a capability the tags did not show
                r.status = f"cannot run: {err}"
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
        total = sum(r.done for r in runs) / max(1, sum(r.num_steps for r in runs))
        yield CompareFrame(
            f"step {max(r.done for r in runs)}/{steps}",
            live=_live(runs) if show else None,
            figure=_residual_figure(runs, expected) if show else None,
            table=[_row(r, None) for r in runs] if show else None,
            progress=total,
        )
    summary: list[tuple[np.ndarray, str]] = []
    for r in runs:
        if r.result is not None:
            summary.append((display(r.result.mean), f"{r.label} · mean of {n}"))
            if n > 1:  # one sample has no spread
                std_img, peak = display_std(r.result.std)
                summary.append((std_img, f"{r.label} · std (white = {peak:.2f})"))
    exact_mean = None
    status = "done"
    if "exact" in mgps.PRIORS[request.prior].tags:
        yield CompareFrame("computing the exact posterior…", progress=1.0)
        exact = exact_posterior(setup)
        if exact is not None:
            exact_mean, exact_std = exact
            std_img, peak = display_std(exact_std)
            summary.append((display(exact_mean), "exact posterior mean"))
            summary.append((std_img, f"exact posterior std (white = {peak:.2f})"))
        else:
            status = "done (no exact posterior: the degradation is nonlinear)"
    yield CompareFrame(
        status,
        live=_live(runs),
        summary=summary,
        figure=_residual_figure(runs, expected),
        table=[_row(r, exact_mean) for r in runs],
        progress=1.0,
        final=True,
    )


def _live(runs: list[_Run]) -> list[tuple[np.ndarray, str]]:
    return [
        (
            r.image,
            f"{r.label} · step {r.done}/{r.num_steps}"
            + ("" if r.status in ("running", "done") else f" · {r.status[:40]}"),
        )
        for r in runs
        if r.image is not None
    ]
