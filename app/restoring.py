"""Restore one image: read the editor's value, check it, build the problem and stream the
library's run as display-ready frames (numpy images, a markdown table).

Nothing here computes a sampler update; the library's ``restore_stream`` does the work. No
gradio import: the Restore tab turns the frames into component updates.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

import mgps
from mgps.pipeline import Progress, RestoreSetup, Result, prepare, restore_stream
from mgps.presets import settings
from mgps.samplers.common import is_latent, start

from . import catalog, status
from .checks import check_common, clean_params, int_in
from .convert import check_size, display, display_std, editor_image, editor_mask
from .device import DEVICE

__all__ = [
    "RestoreRequest",
    "Frame",
    "Final",
    "restore",
    "setup_for",
    "initial_estimate",
    "estimate_note",
    "DISPLAY_FRAMES",
]

DISPLAY_FRAMES = 25  # streamed images per run (about)


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
    """A streamed update. Image fields are None when unchanged since the last frame.

    The first frame (``step == 0``) carries the observation and ``x0_prior``: the prior's own
    estimate of the clean image from the initial noise x_T, before y has guided anything."""

    step: int  # steps done (0 before sampling)
    num_steps: int
    t: int | None = None
    seconds: float = 0.0
    left: float | None = None  # seconds left (estimated from the last steps)
    x0_hat: np.ndarray | None = None
    midpoint: np.ndarray | None = None
    x_t: np.ndarray | None = None
    observation: np.ndarray | None = None
    residual: float | None = None
    x0_prior: np.ndarray | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def has_images(self) -> bool:
        images = (self.x0_hat, self.midpoint, self.x_t, self.observation, self.x0_prior)
        return any(v is not None for v in images)

    def status(self, label: str) -> str:
        if self.step == 0:
            note = "(x̂0: the prior's guess from the initial noise, before guidance)"
            return status.starting(label, note if self.x0_prior is not None else "")
        text = status.running(label, self.step, self.num_steps, self.seconds, self.left)
        if self.residual is not None:
            text += f" · ‖y − A(x̂0)‖ = {self.residual:.3g}"
        return text


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

    def status(self, label: str) -> str:
        return status.done(label, self.seconds)


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
    params = clean_params(entry, operator_params)
    drawn = editor_mask(image)
    if operator == "mask":
        if drawn is None:
            raise ValueError(
                "Nothing to restore: draw over the part of the image to restore with the brush "
                "(or choose another degradation, e.g. box or half)."
            )
        check_size(drawn, "the mask")
    choice = catalog.prior_choice(prior)
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


def initial_estimate(setup: RestoreSetup, sampler: str, num_steps: int, n: int, seed: int):
    """The prior's own x̂0 = D_T(x_T) of the initial noise x_T that ``sampler`` will start from
    with this seed (the library's ``start`` draws it), as images in [-1, 1]: what the chain
    looks like before the observation has guided it. One network call."""
    generator = torch.Generator().manual_seed(seed)
    timesteps, x_init = start(sampler, setup.prior, setup.problem, num_steps, n, None, generator)
    with torch.no_grad():
        x0 = setup.prior.x0_pred(x_init, int(timesteps[-1]))
        images = setup.prior.decode(x0) if is_latent(setup.prior) else x0
    return images.reshape(n, *setup.image_shape).clamp(-1, 1)


def _stream_every(setup: RestoreSetup, num_steps: int) -> tuple[int, int]:
    """(library ``every``, display stride): the library yields every step for pixel priors
    (so Stop acts within one step); images are rendered every ``stride`` steps."""
    stride = max(1, num_steps // DISPLAY_FRAMES)
    return (stride if is_latent(setup.prior) else 1), stride


def restore(request: RestoreRequest) -> Iterator[Frame | Final]:
    """Restore one image and stream it: a first :class:`Frame` with the observation and the
    prior's x̂0 of the initial noise, then one per step (images every few steps), then a
    :class:`Final`.

    Raises:
        ValueError: bad input or an impossible combination (the library's message).
        mgps.SamplerDivergedError: the sampler produced NaN/inf.
    """
    sigma, n, seed = check_common(request.sigma_y, request.num_samples, request.seed)
    entry = mgps.SAMPLERS[request.sampler]
    why = catalog.incompatibility(request.sampler, request.operator, request.prior)
    if why is not None:
        raise ValueError(why)
    params = clean_params(entry, request.sampler_params)
    table = settings(request.sampler, request.operator, "app")  # what runs unless set
    num_steps = int(params.get("num_steps") or table.get("num_steps", 1))
    int_in("the number of steps", num_steps, 1, catalog.MAX_STEPS)
    begin = time.perf_counter()
    setup = setup_for(
        request.image, request.operator, request.prior, request.operator_params, sigma, seed
    )
    observation = display(setup.observation_image()[:1])
    first = initial_estimate(setup, request.sampler, num_steps, n, seed)
    yield Frame(
        0,
        num_steps,
        observation=observation,
        x0_prior=display(first[:1]),
        notes=list(setup.notes),
    )
    every, stride = _stream_every(setup, num_steps)
    remaining = status.Remaining(num_steps)
    step_seconds: list[float] = []
    last_seconds, last_done = 0.0, 0
    result: Result | None = None
    for update in restore_stream(
        setup, request.sampler, num_samples=n, params=params, seed=seed, every=every, context="app"
    ):
        if isinstance(update, Result):
            result = update
            break
        assert isinstance(update, Progress)
        done = update.index + 1
        k = max(1, done - last_done)  # steps since the last update (latent priors: several)
        step_seconds += [(update.seconds - last_seconds) / k] * k
        last_seconds, last_done = update.seconds, done
        show = update.index % stride == 0 or done == update.num_steps
        yield Frame(
            done,
            update.num_steps,
            t=update.t,
            seconds=update.seconds,
            left=remaining.update(done, update.seconds),
            x0_hat=display(update.x0_hat[:1]) if show else None,
            midpoint=(
                display(update.midpoint[:1]) if show and update.midpoint is not None else None
            ),
            x_t=display(update.x_t[:1]) if show and update.x_t is not None else None,
            residual=float(update.residual_norm.mean()),
        )
    # a finished run teaches the rate (a stopped one would: its first steps cost more)
    status.RATES.record(request.prior, request.sampler, step_seconds, n)
    assert result is not None
    yield _final(result, entry.label, time.perf_counter() - begin)


def estimate_note(prior: str, sampler: str, num_steps: Any, num_samples: Any) -> str:
    """One line before Run: how long the run should take here, from earlier runs of the same
    sampler on the same prior in this process; or when the estimate will appear."""
    try:
        steps = int(num_steps)
        n = int(num_samples)
    except (TypeError, ValueError):
        return ""
    label = mgps.SAMPLERS[sampler].label if sampler in mgps.SAMPLERS else str(sampler)
    seconds = status.RATES.estimate(
        prior, sampler, steps, n, linear_in_samples=DEVICE.type == "cpu"
    )
    what = f"{steps} steps × {n} sample{'s' if n != 1 else ''}"
    if seconds is None:
        return (
            f"{label}, {what}: the time left shows after the first steps; Stop acts within a step."
        )
    long = " — a long run" if seconds > 120 else ""
    return (
        f"{label}, {what}: about **{status.duration(seconds)}** on this {DEVICE.type.upper()}"
        f"{long} (from the last {label} run on this prior here)."
    )


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
            f"sample {i + 1} · {m['psnr'][i]:.1f} dB · ‖y − A(x)‖ {m['residual_norm'][i]:.2f}",
        )
        for i in range(result.samples.shape[0])
    ]
    if result.samples.shape[0] > 1:  # one sample has no spread
        std_img, peak = display_std(result.std)
        gallery.append(
            (
                display(result.mean),
                f"mean of {result.samples.shape[0]} · {m['psnr_mean_image']:.1f} dB",
            )
        )
        gallery.append((std_img, f"per-pixel std (white = {peak:.2f})"))
    up_to = f", up to {m['psnr_up_to']}" if m.get("psnr_up_to") else ""  # phase retrieval
    table = "\n".join(
        [
            f"**{label}** on {m['operator']} with the {m['prior']} prior, "
            f"{result.samples.shape[0]} sample(s), {m.get('network_calls', '?')} network calls",
            "",
            "| metric | value |",
            "|---|---|",
            f"| PSNR of the samples (dB{up_to}) | {_fmt(m['psnr'])} |",
            f"| PSNR of their mean (dB{up_to}) | {m['psnr_mean_image']:.2f} |",
            f"| PSNR of the restoration, the sample that fits y best (as the paper scores phase retrieval) (dB{up_to}) | {m['psnr'][best]:.2f} |",
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
