"""Restore an image: load a prior and an image, degrade it, run a sampler, summarise.

The one place where registries, image files and samplers meet; the ``restore`` command and
the app both call it, so neither knows how a sampler works.

    setup = prepare("digits", "assets/examples/digit_3_1.png", "box", seed=0)
    for update in restore_stream(setup, "mgps", num_samples=4, params={"num_steps": 50}):
        ...                                  # Progress records, then one Result
    write_run("out", setup, update)           # the PNGs and metrics.json

An image that is already degraded is the observation itself (``mgps/observation.py``):

    setup = prepare_observation("digits", "my_lowres_digit.png", "sr4")
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from .metrics import psnr, ssim
from .observation import (
    estimate_noise_sigma,
    observation_refusal,
    read_jpeg_quality,
    read_observation,
    suggest_sigma_y,
    used_params,
)
from .operators.base import measure
from .registry import OPERATORS, PRIORS, SAMPLERS
from .samplers.common import is_latent, run
from .types import (
    DEFAULT_SIGMA_Y,
    RUN_KEYWORDS,
    InverseProblem,
    Operator,
    Prior,
    SamplerDivergedError,
    Step,
)

__all__ = [
    "RestoreSetup",
    "Progress",
    "Result",
    "prepare",
    "prepare_observation",
    "observation_refusal",
    "estimate_noise_sigma",
    "read_jpeg_quality",
    "suggest_sigma_y",
    "restore_stream",
    "SamplerRun",
    "check_settings",
    "check_sigma_y",
    "to_images",
    "prior_estimate",
    "summarise",
    "write_run",
    "restore",
    "image_shape_of",
    "CountingPrior",
]


def image_shape_of(prior: Prior) -> tuple[int, ...]:
    """``(C, H, W)`` of the images a prior produces (the decoded shape for a latent prior)."""
    return tuple(getattr(prior, "image_shape", None) or prior.shape)


class CountingPrior:
    """Wraps a prior and counts denoiser (network) calls, one per batch evaluation:
    ``network_calls`` all of them, ``vjps`` those whose output was back-propagated (a
    vector-Jacobian product through the network). A VJP is counted when a gradient reaches the
    call's output (a hook on it), so no sampler has to say which of its calls it
    differentiates."""

    def __init__(self, prior: Prior) -> None:
        self._prior = prior
        self.network_calls = 0
        self.vjps = 0

    def x0_pred(self, x_t: Tensor, t: int) -> Tensor:
        self.network_calls += 1
        out = self._prior.x0_pred(x_t, t)
        if out.requires_grad:
            out.register_hook(self._count_vjp)
        return out

    def _count_vjp(self, grad: Tensor) -> None:
        self.vjps += 1

    def __getattr__(self, name: str) -> Any:  # alphas_cumprod, shape, encode, decode, ...
        return getattr(self._prior, name)


@dataclass
class RestoreSetup:
    """Everything fixed before sampling: prior, operator, observation and ground truth.

    ``input_mode`` is ``"degrade"`` (a clean image, degraded here: ``x_true`` is that image)
    or ``"observation"`` (the file is y; ``x_true`` is the truth given, or ``None``).
    ``operator_params`` are the operator's JSON-able parameters, as used.
    """

    prior: Prior
    prior_name: str
    operator: Operator
    operator_name: str
    problem: InverseProblem
    x_true: Tensor | None
    notes: list[str] = field(default_factory=list)
    input_mode: str = "degrade"
    operator_params: dict[str, Any] = field(default_factory=dict)

    @property
    def image_shape(self) -> tuple[int, ...]:
        return image_shape_of(self.prior)

    def observation_image(self) -> Tensor:
        """The observation as an image in [-1, 1], for display."""
        show = getattr(self.operator, "observation_image", None)
        y = self.problem.y
        return show(y) if show is not None else y


@dataclass
class Progress:
    """A streamed update, as images in [-1, 1]: the current clean estimate, MGPS's midpoint
    sample (``None`` for other samplers) and the chain's state x_t (``None`` for latent priors,
    whose noisy latents are not images). ``seconds`` is the time spent inside the sampler so
    far, not the time the consumer spends between updates."""

    index: int
    num_steps: int
    t: int
    x0_hat: Tensor
    midpoint: Tensor | None
    x_t: Tensor | None
    seconds: float
    residual_norm: Tensor


@dataclass
class Result:
    """The outcome: samples, their mean and per-pixel std, and metrics."""

    samples: Tensor
    mean: Tensor
    std: Tensor
    observation: Tensor
    metrics: dict[str, Any]
    best_index: int


def prepare(
    prior: Prior,
    image: Any,
    operator: str,
    *,
    operator_params: dict[str, Any] | None = None,
    mask: Any = None,
    mask_drawn_means: str = "observed",
    sigma_y: float = DEFAULT_SIGMA_Y,
    seed: int = 0,
    device: torch.device | str | None = None,
    dtype: torch.dtype | None = None,
) -> RestoreSetup:
    """Load the prior and the image (centre-cropped and resized to the prior's size), build the
    operator and draw the noisy observation.

    Args:
        prior: a registered name, hub id or diffusers folder (see ``load_prior``), or a prior.
        image: a path, PIL image, numpy array or tensor in [-1, 1].
        operator: a registered operator name (``OPERATORS.names()``).
        operator_params: keyword parameters of the operator factory.
        mask: for ``operator="mask"``: a mask file, image or array (see ``load_mask``).
        mask_drawn_means: whether white/opaque pixels of ``mask`` are ``"missing"`` or ``"observed"``.
        sigma_y: observation noise standard deviation, in [-1, 1] image units.
        seed: seed of the observation noise.
        device: where to run (for a prior given by name).
        dtype: the network's dtype (float32, float16, bfloat16; for a prior given by name).

    Raises:
        ValueError: unknown names, unreadable images or masks, masks with nothing to restore or
            nothing observed, operators that do not fit the image size.
    """
    from .utils.images import load_image, load_mask

    entry = OPERATORS[operator]
    sigma_y = check_sigma_y(sigma_y)
    prior_name, prior_obj, shape = _image_prior(prior, device, dtype)
    channels, height, width = shape
    loaded = load_image(image, size=(height, width), channels=channels)
    notes = list(loaded.notes)
    params = dict(operator_params or {})
    if operator == "mask":
        if mask is None:
            raise ValueError(
                "the 'mask' operator needs a mask (an image file: white = observed, black = to restore; or mask_drawn_means='missing' for strokes that mark the region to restore)"
            )
        loaded_mask = load_mask(mask, size=(height, width), drawn_means=mask_drawn_means)
        notes += [f"mask: {n}" for n in loaded_mask.notes]
        params["mask"] = loaded_mask.mask.numpy()
    elif mask is not None:
        raise ValueError(
            f"a mask was given but the operator is {operator!r}; use operator 'mask' to restore a drawn region"
        )
    op = entry.obj(shape, **params)
    device = torch.device(getattr(prior_obj, "device", "cpu"))
    x_true = loaded.image.to(device=device, dtype=getattr(prior_obj, "dtype", torch.float32))
    problem = measure(x_true, op, sigma_y, torch.Generator().manual_seed(seed))
    return RestoreSetup(
        prior_obj,
        prior_name,
        op,
        operator,
        problem,
        x_true,
        notes,
        input_mode="degrade",
        operator_params=used_params(operator, operator_params),
    )


def check_sigma_y(sigma_y: Any) -> float:
    """``sigma_y``, an image's observation noise, as a float in (0, 2] ([-1, 1] image units),
    or a ``ValueError`` that says so."""
    try:
        sigma = float(sigma_y)
    except (TypeError, ValueError):
        raise ValueError(f"σ_y (sigma_y) must be a number, got {sigma_y!r}") from None
    if isinstance(sigma_y, bool) or not math.isfinite(sigma) or not 0 < sigma <= 2:
        raise ValueError(f"σ_y (sigma_y) must be in (0, 2] (image units in [-1, 1]); got {sigma_y}")
    return sigma


def _image_prior(prior: Any, device: Any, dtype: Any) -> tuple[str, Prior, tuple[int, ...]]:
    """``(name, prior, (C, H, W))`` of a prior given by name or as an object."""
    from .priors.loading import load_prior

    prior_name = prior if isinstance(prior, str) else type(prior).__name__
    prior_obj = load_prior(prior, device=device, dtype=dtype) if isinstance(prior, str) else prior
    shape = image_shape_of(prior_obj)
    if len(shape) != 3:
        images = [e.name for e in PRIORS if not e.tags & {"ecg"}]
        raise ValueError(
            f"prior {prior_name!r} models samples of shape {tuple(shape)}, not images; restoring "
            f"an image needs an image prior, e.g. one of: {', '.join(images)}"
        )
    return prior_name, prior_obj, shape


def prepare_observation(
    prior: Prior | str,
    observation: Any,
    operator: str,
    *,
    operator_params: dict[str, Any] | None = None,
    mask: Any = None,
    mask_drawn_means: str = "missing",
    sigma_y: float | None = None,
    truth: Any = None,
    device: torch.device | str | None = None,
    dtype: torch.dtype | None = None,
) -> RestoreSetup:
    """Take ``observation``, an image that is already degraded, as the observation y of
    ``operator`` (nothing is applied to it; per-operator rules in ``mgps/observation.py``).

    Args:
        prior, operator, device, dtype: as for :func:`prepare`.
        observation: a path, PIL image, numpy array or tensor in [-1, 1]: y itself.
        operator_params: the operator's parameters (blur kernels; ``quality`` overrides the
            quality read from a JPEG file).
        mask: for ``operator="mask"``: the damaged part (see ``load_mask``).
        mask_drawn_means: what the marks of ``mask`` are: ``"missing"`` (default: the damaged
            part) or ``"observed"``.
        sigma_y: the observation's noise level in [-1, 1] units; ``None`` uses
            :func:`~mgps.observation.suggest_sigma_y` (the image's noise estimate), with a
            note.
        truth: the original clean image, when known: PSNR and SSIM are measured against it.

    Raises:
        ValueError: operators that cannot take a file (:func:`observation_refusal`), a missing
            mask or JPEG quality, unreadable images, bad ``sigma_y``.
    """
    from .types import InverseProblem
    from .utils.images import load_image

    refusal = observation_refusal(operator)
    if refusal is not None:
        raise ValueError(refusal)
    if sigma_y is not None:
        sigma_y = check_sigma_y(sigma_y)
    prior_name, prior_obj, shape = _image_prior(prior, device, dtype)
    read = read_observation(
        observation,
        operator,
        shape,
        operator_params=operator_params,
        mask=mask,
        mask_drawn_means=mask_drawn_means,
    )
    notes = list(read.notes)
    if sigma_y is None:
        sigma_y, note = suggest_sigma_y(read.image, observed=read.observed, operator=read.operator)
        notes.append(note)
    device = torch.device(getattr(prior_obj, "device", "cpu"))
    dtype = getattr(prior_obj, "dtype", torch.float32)
    x_true = None
    if truth is not None:
        loaded = load_image(truth, size=shape[1:], channels=shape[0])
        notes += [f"truth: {n}" for n in loaded.notes]
        x_true = loaded.image.to(device=device, dtype=dtype)
    problem = InverseProblem(read.operator, read.y.to(device=device, dtype=dtype), float(sigma_y))
    return RestoreSetup(
        prior_obj,
        prior_name,
        read.operator,
        operator,
        problem,
        x_true,
        notes,
        input_mode="observation",
        operator_params=read.params,
    )


def to_images(prior: Prior, x: Tensor) -> Tensor:
    """Samples ``x`` of ``prior`` as images ``(B, C, H, W)`` in [-1, 1] (decoded for a latent
    prior, clamped)."""
    with torch.no_grad():
        images = prior.decode(x) if is_latent(prior) else x
    return images.reshape(x.shape[0], *image_shape_of(prior)).clamp(-1, 1)


def prior_estimate(prior: Prior, x_init: Tensor) -> Tensor:
    """The prior's own clean estimate x̂0 = D_T(x_T) of the initial noise ``x_init`` (at the
    last noise level T, where every sampler starts), as images in [-1, 1]: what a chain looks
    like before the observation has guided it. One network call."""
    with torch.no_grad():
        x0 = prior.x0_pred(x_init, prior.alphas_cumprod.numel() - 1)
    return to_images(prior, x0)


def check_settings(sampler: str, params: Mapping[str, Any] | None) -> None:
    """Raise a ``ValueError`` naming the valid ones if ``params`` holds a keyword that is not
    one of the registered ``sampler``'s settings (the run keywords, :data:`RUN_KEYWORDS`, are
    not settings)."""
    entry = SAMPLERS[sampler]
    allowed = set(entry.keyword_names()) - RUN_KEYWORDS
    unknown = sorted(set(params or {}) - allowed)
    if unknown:
        raise ValueError(
            f"{entry.label} has no parameter(s) {', '.join(unknown)}; valid: {', '.join(sorted(allowed))}"
        )


class SamplerRun:
    """A registered sampler's steps, timed and counted: iterate it for its
    :class:`~mgps.types.Step` records. ``seconds`` is the time spent inside the sampler (and
    inside :meth:`timed` blocks), not the consumer's between steps; ``network_calls`` and
    ``vjps`` count its denoiser calls (:class:`CountingPrior`); :meth:`samples` are the last
    step's x̂0. The loop that :func:`restore_stream` and the app's ECG tab share.

    Raises:
        ValueError: an unknown sampler or setting (:func:`check_settings`); then, while
            iterating, the sampler's own refusals.
        SamplerDivergedError: the run produced NaN/inf.
    """

    def __init__(
        self,
        sampler: str,
        prior: Prior,
        problem: InverseProblem,
        *,
        params: Mapping[str, Any] | None = None,
        num_samples: int = 1,
        generator: torch.Generator | None = None,
        x_init: Tensor | None = None,
    ) -> None:
        check_settings(sampler, params)
        self.label = SAMPLERS[sampler].label
        self._prior = CountingPrior(prior)
        self._stream = run(
            sampler,
            self._prior,
            problem,
            num_samples=num_samples,
            generator=generator,
            x_init=x_init,
            **dict(params or {}),
        )
        self.seconds = 0.0
        self.last: Step | None = None

    def __iter__(self) -> Iterator[Step]:
        while True:
            with self.timed():
                step = next(self._stream, None)
            if step is None:
                return
            self.last = step
            yield step

    @contextmanager
    def timed(self) -> Iterator[None]:
        """Count the time of the block in :attr:`seconds` (work done for the run, such as
        decoding its estimates)."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds += time.perf_counter() - start

    @property
    def network_calls(self) -> int:
        return self._prior.network_calls

    @property
    def vjps(self) -> int:
        return self._prior.vjps

    def samples(self) -> Tensor:
        """The last step's x̂0 (the samples, once the iteration has ended)."""
        if self.last is None:
            raise SamplerDivergedError(f"{self.label} produced no step")
        return self.last.x0_hat.detach()


def restore_stream(
    setup: RestoreSetup,
    sampler: str,
    *,
    num_samples: int = 1,
    params: dict[str, Any] | None = None,
    seed: int = 0,
    every: int = 1,
    x_init: Tensor | None = None,
    generator: torch.Generator | None = None,
    on_step: Callable[[Step], None] | None = None,
    context: str = "library",
) -> Iterator[Progress | Result]:
    """Run ``sampler`` and yield a :class:`Progress` every ``every`` steps (decoded to images),
    then one :class:`Result`. ``on_step`` (optional) is called with every sampler
    :class:`~mgps.types.Step`, decoded or not (a progress bar).

    The settings not in ``params`` are the table's (``mgps.presets.settings`` for the task and
    ``context``); the result's ``metrics["params"]`` records every setting that ran.

    The sampler's random stream is ``generator``, by default a fresh one seeded with ``seed``;
    it draws the initial noise (:func:`~mgps.samplers.common.initial_noise`) unless
    ``x_init`` is given. So ``seed=s`` alone runs as ``generator=g, x_init=initial_noise(prior,
    num_samples, g)`` with ``g = torch.Generator().manual_seed(s)``.

    Raises:
        ValueError: unknown sampler or parameter, incompatible sampler/operator/prior.
        SamplerDivergedError: the run produced NaN/inf (the message says what to change).
    """
    from .presets import settings

    check_settings(sampler, params)
    if not isinstance(num_samples, int) or not 1 <= num_samples <= 64:
        raise ValueError(f"num_samples must be an integer between 1 and 64, got {num_samples!r}")
    if every < 1:
        raise ValueError("every must be at least 1")
    params = {**settings(sampler, setup.operator_name, context), **(params or {})}
    steps = SamplerRun(
        sampler,
        setup.prior,
        setup.problem,
        params=params,
        num_samples=num_samples,
        generator=torch.Generator().manual_seed(seed) if generator is None else generator,
        x_init=x_init,
    )
    latent = is_latent(setup.prior)
    for step in steps:
        if on_step is not None:
            on_step(step)
        if step.index % every == 0 or step.index == step.num_steps - 1:
            with steps.timed():
                x0 = to_images(setup.prior, step.x0_hat.detach())
                mid = step.extras.get("midpoint")
                mid_image = to_images(setup.prior, mid.detach()) if mid is not None else None
                x_t = None if latent else to_images(setup.prior, step.x_t.detach())
                with torch.no_grad():
                    residual = setup.problem.residual(x0).flatten(1).norm(dim=1)
            yield Progress(
                step.index, step.num_steps, step.t, x0, mid_image, x_t, steps.seconds, residual
            )
    yield summarise(
        setup,
        to_images(setup.prior, steps.samples()),
        seconds=steps.seconds,
        network_calls=steps.network_calls,
        vjps=steps.vjps,
        sampler=sampler,
        params=params,
        seed=seed,
    )


def summarise(setup: RestoreSetup, samples: Tensor, **extra: Any) -> Result:
    """Mean, per-pixel std and metrics of restored ``samples`` ``(N, C, H, W)`` in [-1, 1].

    For an operator with trivial ambiguities (``align``: phase retrieval's 180° rotation and
    shifts) the samples are first put in the truth's orientation, so that PSNR scores the
    sampler and not which twin came out (``psnr_up_to`` says so; ``psnr_plain`` is the score
    of the samples as drawn)."""
    align = getattr(setup.operator, "align", None)
    if align is not None and setup.x_true is not None:  # no truth, no orientation to match
        with torch.no_grad():
            extra["psnr_plain"] = [float(v) for v in psnr(samples, setup.x_true.to(samples))]
            extra["psnr_up_to"] = setup.operator.symmetries
            samples = align(samples, setup.x_true.to(samples))
    with torch.no_grad():
        mean = samples.mean(0, keepdim=True)
        std = samples.std(0, keepdim=True) if samples.shape[0] > 1 else torch.zeros_like(mean)
        residuals = setup.problem.residual(samples).flatten(1).norm(dim=1)
        best = int(residuals.argmin())
        if setup.x_true is not None:
            truth = setup.x_true.to(samples)
            scores = {
                "psnr": [float(v) for v in psnr(samples, truth)],
                "ssim": [float(v) for v in ssim(samples, truth)],
                "psnr_mean_image": float(psnr(mean, truth)[0]),
                "ssim_mean_image": float(ssim(mean, truth)[0]),
            }
        else:
            scores = dict.fromkeys(("psnr", "ssim", "psnr_mean_image", "ssim_mean_image"))
            scores["psnr_note"] = (
                "no PSNR or SSIM: the original image is not known (the input is the "
                "observation itself); the measure is the data fit ‖y − A(x̂)‖ against the noise "
                "level σ_y·√dim(y) (expected_residual_norm)"
            )
    expected = float(setup.problem.sigma_y) * math.sqrt(setup.problem.y[0].numel())
    metrics = {
        **scores,
        "residual_norm": [float(v) for v in residuals],
        "best_by_data_consistency": best,
        "sigma_y": float(setup.problem.sigma_y),
        "expected_residual_norm": expected,
        "prior": setup.prior_name,
        "operator": setup.operator_name,
        "operator_params": dict(setup.operator_params),
        "input_mode": setup.input_mode,
        **extra,
    }
    return Result(samples, mean, std, setup.observation_image(), metrics, best)


def write_run(folder: str | Path, setup: RestoreSetup, result: Result) -> list[Path]:
    """Write the files of a run into ``folder`` (created): ``input.png`` (the clean input or
    the truth, when there is one), ``observation.png``, ``sample_k.png``, ``mean.png``,
    ``std.png`` (scaled to its maximum), ``best.png`` (best data fit) and ``metrics.json``.

    Returns:
        The paths written, in that order.
    """
    from .utils.images import save_image

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    if setup.x_true is not None:
        written.append(save_image(setup.x_true, out / "input.png"))
    written.append(save_image(result.observation, out / "observation.png"))
    for k, sample in enumerate(result.samples):
        written.append(save_image(sample, out / f"sample_{k}.png"))
    written.append(save_image(result.mean, out / "mean.png"))
    std = result.std
    written.append(save_image(std / std.max().clamp_min(1e-8) * 2 - 1, out / "std.png"))
    written.append(save_image(result.samples[result.best_index], out / "best.png"))
    metrics = out / "metrics.json"
    metrics.write_text(json.dumps(result.metrics, indent=1))
    written.append(metrics)
    return written


def restore(setup: RestoreSetup, sampler: str, **kwargs: Any) -> Result:
    """Run :func:`restore_stream` to the end and return its :class:`Result`."""
    result = None
    for update in restore_stream(setup, sampler, **kwargs):
        result = update
    assert isinstance(result, Result)
    return result
