"""Restore one image: read the editor's value, check it, build the problem (a clean image the
library degrades, or the user's image as the observation y) and stream the library's run as
display-ready frames (numpy images, a markdown table); at the end, or where Stop ends it, the
run's files (``mgps.pipeline.write_run``, as the command line writes them) in one zip.

Nothing here computes a sampler update; the library's ``restore_stream`` does the work. No
gradio import: the Restore tab turns the frames into component updates.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
import zipfile
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

import mgps
from mgps.pipeline import (
    Progress,
    RestoreSetup,
    Result,
    observation_refusal,
    prepare,
    prepare_observation,
    prior_estimate,
    restore_stream,
    summarise,
    write_run,
)
from mgps.presets import settings

from . import catalog, own_image, status
from .checks import check_common, clean_params, int_in
from .convert import check_size, display, display_std, editor_image, editor_mask
from .device import DEVICE

__all__ = [
    "RestoreRequest",
    "Frame",
    "Final",
    "restore",
    "Leftovers",
    "setup_for",
    "seeded_noise",
    "estimate_note",
    "DISPLAY_FRAMES",
]

DISPLAY_FRAMES = 25  # streamed images per run (about)
SCORE_EVERY_S = 1.0  # the x̂0 a Stop would keep are scored with each image, and this often


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
        input_mode: ``"degrade"`` (the library degrades the image) or ``"observation"`` (the
            image is y, already degraded).
        strokes: what the strokes drawn on the image are: ``"mask"`` (the part to restore) or
            ``"image"`` (white ink: a drawing).
        original: the uploaded file as it is, where the editor's image came from one (the
            editor re-encodes it as PNG): under JPEG, in observation mode, the file is read
            for its own quantisation tables and quality.
    """

    image: Any
    operator: str = catalog.DEFAULT_OPERATOR
    prior: str = catalog.DEFAULT_PRIOR
    sampler: str = catalog.DEFAULT_SAMPLER
    operator_params: dict[str, Any] = field(default_factory=dict)
    sampler_params: dict[str, Any] = field(default_factory=dict)
    sigma_y: float = mgps.DEFAULT_SIGMA_Y
    num_samples: int = catalog.DEFAULT_SAMPLES
    seed: int = 0
    input_mode: str = own_image.DEGRADE
    strokes: str = own_image.STROKES_MASK
    original: str | None = None


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
    # what a stopped run leaves (:class:`Leftovers`), on the CPU (ZeroGPU pickles frames):
    # the problem without the prior (first frame); the N x̂0 scored (frames with images, and
    # at least every SCORE_EVERY_S seconds)
    problem: RestoreSetup | None = field(default=None, repr=False)
    scored: Result | None = field(default=None, repr=False)

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
    archive: Path | None = None  # the run's files in one zip
    stopped_at: tuple[int, int] | None = None  # (k, K) when Stop ended the run at step k

    @property
    def before_after(self) -> tuple[np.ndarray, np.ndarray]:
        """The observation and the restoration, for a before/after slider."""
        return self.observation, self.restoration

    def status(self, label: str) -> str:
        if self.stopped_at is not None:
            return status.stopped_at(label, *self.stopped_at)
        return status.done(label, self.seconds)


def setup_for(
    image: Any,
    operator: str,
    prior: str,
    operator_params: dict[str, Any],
    sigma_y: float,
    seed: int,
    *,
    input_mode: str = own_image.DEGRADE,
    strokes: str = own_image.STROKES_MASK,
    original: str | None = None,
) -> RestoreSetup:
    """Read the editor value, check limits and build the problem: the clean image degraded
    (``mgps.pipeline.prepare``) or the image as the observation
    (``mgps.pipeline.prepare_observation``).

    Raises:
        ValueError: with a message for the user (no image, too large, empty/full mask, an
            operator that cannot take an already-degraded image, ...).
    """
    if input_mode not in (own_image.DEGRADE, own_image.OBSERVATION):
        raise ValueError(
            f"unknown input mode {input_mode!r}; use {own_image.DEGRADE!r} (the app degrades "
            f"a clean image) or {own_image.OBSERVATION!r} (the image is already degraded)"
        )
    if strokes not in (own_image.STROKES_MASK, own_image.STROKES_IMAGE):
        raise ValueError(f"unknown stroke mode {strokes!r}; use 'mask' or 'image'")
    if strokes == own_image.STROKES_IMAGE:  # the strokes are ink: part of the image
        source, drawn = own_image.drawn_image(image), None
    else:
        source, drawn = editor_image(image), editor_mask(image)
    if source is None:
        raise ValueError(
            "Upload an image (or pick an example, or draw one on a blank canvas) first."
        )
    check_size(source)
    entry = mgps.OPERATORS[operator]
    if "image" not in entry.tags or "needs-weights" in entry.tags:
        raise ValueError(f"{entry.label} is not offered by this app")
    observed = input_mode == own_image.OBSERVATION
    if observed:
        why = observation_refusal(operator)
        if why is not None:
            raise ValueError(why)
    params = clean_params(entry, operator_params)
    if operator == "mask":
        if drawn is None and strokes == own_image.STROKES_IMAGE:
            raise ValueError(
                "Your strokes are the image, so nothing marks the part to restore: set "
                "'Your strokes are' to the mask (the drawing stays as the image), then draw "
                "over the part to restore (or choose another degradation, e.g. box or half)."
            )
        if drawn is None:
            what = "damaged part of your image" if observed else "part of the image to restore"
            raise ValueError(
                f"Nothing to restore: draw over the {what} with the brush "
                "(or choose another degradation, e.g. box or half)."
            )
        check_size(drawn, "the mask")
    choice = catalog.prior_choice(prior)
    if not choice.available:
        raise ValueError(f"The prior {choice.label} is unavailable: {choice.why}.")
    mask = drawn if operator == "mask" else None
    if observed:
        # a JPEG's own tables and quality are in the file as it was uploaded (if the editor
        # still shows it)
        jpeg_file = None
        if operator == "jpeg" and original is not None and own_image.same_picture(original, source):
            jpeg_file = original
        setup = prepare_observation(
            prior,
            jpeg_file or source,
            operator,
            operator_params=params,
            mask=mask,
            mask_drawn_means="missing",
            sigma_y=sigma_y,
            device=DEVICE,
        )
    else:
        setup = prepare(
            prior,
            source,
            operator,
            operator_params=params,
            mask=mask,
            mask_drawn_means="missing",
            sigma_y=sigma_y,
            seed=seed,
            device=DEVICE,
        )
    if drawn is not None and operator != "mask":
        setup.notes.append(
            f"the strokes drawn on the image are ignored: the degradation is {entry.label}"
        )
    warning = own_image.fit_warning(source, prior)
    if warning:
        setup.notes.append(warning)
    return setup


def seeded_noise(setup: RestoreSetup, n: int, seed: int) -> tuple[torch.Generator, torch.Tensor]:
    """The sampler's random stream for ``seed`` and the initial noise x_T of ``n`` samples drawn
    on it (``mgps.initial_noise``), as the library's ``restore_stream`` would draw them from
    the seed alone: passing both gives the library's numbers."""
    generator = torch.Generator().manual_seed(seed)
    return generator, mgps.initial_noise(setup.prior, n, generator)


def _stream_every(setup: RestoreSetup, num_steps: int) -> tuple[int, int]:
    """(library ``every``, display stride): the library yields every step for pixel priors
    (so Stop acts within one step); images are rendered every ``stride`` steps."""
    stride = max(1, num_steps // DISPLAY_FRAMES)
    return (stride if mgps.is_latent(setup.prior) else 1), stride


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
        request.image,
        request.operator,
        request.prior,
        request.operator_params,
        sigma,
        seed,
        input_mode=request.input_mode,
        strokes=request.strokes,
        original=request.original,
    )
    observation = display(setup.observation_image()[:1])
    generator, x_init = seeded_noise(setup, n, seed)
    yield Frame(
        0,
        num_steps,
        observation=observation,
        x0_prior=display(prior_estimate(setup.prior, x_init)[:1]),
        notes=list(setup.notes),
        problem=_light(setup),
    )
    every, stride = _stream_every(setup, num_steps)
    remaining = status.Remaining(num_steps)
    step_seconds: list[float] = []
    last_seconds, last_done = 0.0, 0
    last_scored = 0.0
    result: Result | None = None
    for update in restore_stream(
        setup,
        request.sampler,
        num_samples=n,
        params=params,
        seed=seed,
        generator=generator,
        x_init=x_init,
        every=every,
        context="app",
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
        score = show or update.seconds - last_scored >= SCORE_EVERY_S
        if score:
            last_scored = update.seconds
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
            scored=_scored(setup, update.x0_hat, request.sampler, seed, params) if score else None,
        )
    # a finished run teaches the rate (a stopped one would: its first steps cost more)
    status.RATES.record(request.prior, request.sampler, step_seconds, n)
    assert result is not None
    yield _final(setup, result, entry.label, time.perf_counter() - begin)


def _light(setup: RestoreSetup) -> RestoreSetup:
    """``setup`` without what a stopped run's files do not need (the prior, the operator, y),
    its truth on the CPU: small, and safe to send from a ZeroGPU worker."""
    truth = setup.x_true.detach().cpu() if setup.x_true is not None else None
    return replace(setup, prior=None, operator=None, problem=None, x_true=truth)


def _scored(setup: RestoreSetup, x0_hat: Any, sampler: str, seed: int, params: dict) -> Result:
    """The N x̂0 of a step scored as a finished run's samples are, on the CPU."""
    result = summarise(setup, x0_hat, sampler=sampler, seed=seed, params=params)
    return replace(
        result,
        samples=result.samples.detach().cpu(),
        mean=result.mean.detach().cpu(),
        std=result.std.detach().cpu(),
        observation=result.observation.detach().cpu(),
    )


class Leftovers:
    """What a run leaves when Stop ends it: fed every frame, it keeps the problem and the
    latest scored x̂0 of the N samples (:data:`SCORE_EVERY_S`)."""

    def __init__(self) -> None:
        self.problem: RestoreSetup | None = None
        self.scored: Result | None = None
        self.scored_step = 0

    def feed(self, frame: Frame | Final) -> None:
        if isinstance(frame, Frame):
            if frame.problem is not None:
                self.problem, self.scored, self.scored_step = frame.problem, None, 0
            if frame.scored is not None:
                self.scored, self.scored_step = frame.scored, frame.step

    def final(self, step: int, num_steps: int, label: str, seconds: float) -> Final | None:
        """The results of a run stopped at ``step``: the last scored x̂0, marked "stopped at
        step k/K", with its archive; None before any step was scored."""
        if self.problem is None or self.scored is None or step <= 0:
            return None
        metrics = {
            **self.scored.metrics,
            "stopped_at_step": step,
            "samples_at_step": self.scored_step,
            "num_steps": num_steps,
        }
        result = replace(self.scored, metrics=metrics)
        return _final(self.problem, result, label, seconds, stopped_at=(step, num_steps))


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


ARCHIVES_KEPT = 64  # run archives kept on disk (the oldest are deleted)
_archives: deque[Path] = deque()
_archives_lock = threading.Lock()


def archive(setup: RestoreSetup, result: Result) -> Path:
    """The run's files (``mgps.pipeline.write_run``: the input or observation, the samples,
    their mean and std, the best, ``metrics.json``) in one zip, in a fresh temporary folder;
    the oldest of more than :data:`ARCHIVES_KEPT` such folders is deleted."""
    folder = Path(tempfile.mkdtemp(prefix="mgps-run-"))
    name = f"mgps-{setup.operator_name}-{setup.prior_name}".replace("/", "-")
    files = write_run(folder / name, setup, result)
    path = folder / f"{name}.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for file in files:
            zf.write(file, Path(name) / Path(file).relative_to(folder / name))
    with _archives_lock:
        _archives.append(folder)
        while len(_archives) > ARCHIVES_KEPT:
            shutil.rmtree(_archives.popleft(), ignore_errors=True)
    return path


def _metric_rows(m: dict[str, Any], best: int) -> list[str]:
    """Rows of the metrics table: against the truth where there is one; else why not."""
    if m.get("psnr") is None:
        why = m.get("psnr_note") or "no PSNR: the original image is not known"
        return [f"| PSNR, SSIM | {why[0].upper()}{why[1:]} |"]
    up_to = f", up to {m['psnr_up_to']}" if m.get("psnr_up_to") else ""  # phase retrieval
    return [
        f"| PSNR of the samples (dB{up_to}) | {_fmt(m['psnr'])} |",
        f"| PSNR of their mean (dB{up_to}) | {m['psnr_mean_image']:.2f} |",
        f"| PSNR of the restoration, the sample that fits y best (as the paper scores phase retrieval) (dB{up_to}) | {m['psnr'][best]:.2f} |",
        f"| SSIM of the samples | {_fmt(m['ssim'], 3)} |",
        f"| SSIM of their mean | {m['ssim_mean_image']:.3f} |",
    ]


def _final(
    setup: RestoreSetup,
    result: Result,
    label: str,
    seconds: float,
    stopped_at: tuple[int, int] | None = None,
) -> Final:
    m = result.metrics
    best = result.best_index
    scored = m.get("psnr") is not None

    def caption(i: int) -> str:
        db = f" · {m['psnr'][i]:.1f} dB" if scored else ""
        return f"sample {i + 1}{db} · ‖y − A(x)‖ {m['residual_norm'][i]:.2f}"

    gallery = [
        (display(result.samples[i : i + 1]), caption(i)) for i in range(result.samples.shape[0])
    ]
    if result.samples.shape[0] > 1:  # one sample has no spread
        std_img, peak = display_std(result.std)
        db = f" · {m['psnr_mean_image']:.1f} dB" if scored else ""
        gallery.append((display(result.mean), f"mean of {result.samples.shape[0]}{db}"))
        gallery.append((std_img, f"per-pixel std (white = {peak:.2f})"))
    mode = getattr(setup, "input_mode", own_image.DEGRADE)
    given = "; your image is the observation y" if mode == own_image.OBSERVATION else ""
    head = f"**{label}** on {m['operator']} with the {m['prior']} prior, "
    if stopped_at is not None:
        at = m.get("samples_at_step", stopped_at[0])
        head = f"**Stopped at step {stopped_at[0]}/{stopped_at[1]}**: the x̂0 of step {at}. " + head
    calls = f", {m['network_calls']} network calls" if "network_calls" in m else ""
    sampling = f"{m['seconds']:.1f} s sampling, " if "seconds" in m else ""
    table = "\n".join(
        [
            head + f"{result.samples.shape[0]} sample(s){calls}{given}",
            "",
            "| metric | value |",
            "|---|---|",
            *_metric_rows(m, best),
            f"| data fit ‖y − A(x̂)‖ | {_fmt(m['residual_norm'])} "
            f"(noise alone: ≈ {m['expected_residual_norm']:.2f}, for σ_y = {m['sigma_y']:.3g}) |",
            f"| time | {sampling}{seconds:.1f} s the whole job |",
        ]
        + [f"\n{n}" for n in setup.notes if n.startswith("⚠️")]
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
        archive=archive(setup, result),
        stopped_at=stopped_at,
    )
