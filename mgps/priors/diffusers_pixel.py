"""A diffusers ``UNet2DModel`` and its scheduler config as a :class:`~mgps.types.Prior`.

The wrapper absorbs every model quirk once (as k-diffusion's ``external.py`` does); the time
shift, the parameterisations and the frozen weights are those of every network prior
(:class:`~mgps.priors.network.NetworkPrior`):

* **Schedule.** ``alphas_cumprod`` is built by the diffusers scheduler class named in the
  config (``DDPMScheduler``, ``DDIMScheduler``, ...; any ``beta_schedule`` it supports, or
  ``trained_betas``), then padded: ``alphas_cumprod[0] = 1`` (clean data) and
  ``alphas_cumprod[t] = ᾱ_{t-1}``, clipped at 1e-6 as the reference code does for images
  (``docs/algorithms.md`` §1.1).
* **Time shift.** Padded time ``t`` (1..T) is the network's integer timestep ``t - 1``, so
  the noise level of the formulas and the one the network was trained on agree.
* **Parameterisation.** ``prediction_type`` ``"epsilon"``, ``"v_prediction"`` or ``"sample"``
  is turned into the Tweedie denoiser x̂_0 = E[x_0 | x_t] (``docs/algorithms.md`` §1.3).
* **Learned variance.** A UNet with ``out_channels == 2 * in_channels`` (guided-diffusion,
  diffusers ``variance_type="learned"/"learned_range"``) returns the prediction in the first
  half of its channels and a variance in the second; only the first half is kept.

The network's weights are frozen (``eval()``, ``requires_grad_(False)``): samplers
differentiate with respect to the input ``x_t`` only, and :meth:`x0_pred` never disables
autograd itself.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor

from ..schedules import padded_alphas_cumprod
from .network import PREDICTION_TYPES, NetworkPrior

__all__ = [
    "DiffusersPixelPrior",
    "scheduler_alphas_cumprod",
    "PREDICTION_TYPES",
    "IMAGE_CLIP_MIN",
]

log = logging.getLogger(__name__)

IMAGE_CLIP_MIN = 1e-6  # floor of the padded ᾱ for image priors (docs/algorithms.md §1.1)
_LEARNED_VARIANCE = ("learned", "learned_range")


def _scheduler_config(scheduler: Any) -> dict[str, Any]:
    """A plain dict from a scheduler object, a diffusers FrozenDict or a mapping."""
    cfg = getattr(scheduler, "config", scheduler)
    if not isinstance(cfg, Mapping):
        raise TypeError(
            "scheduler must be a diffusers scheduler or its config (a mapping), "
            f"got {type(scheduler).__name__}"
        )
    return dict(cfg)


def scheduler_alphas_cumprod(scheduler: Any) -> Tensor:
    """The ``(T,)`` ᾱ of a diffusers scheduler config, computed by the scheduler class itself.

    Args:
        scheduler: a diffusers scheduler, or its config (e.g. the content of
            ``scheduler_config.json``). The class named in ``_class_name`` is used when it is a
            diffusers scheduler with ``alphas_cumprod``; otherwise ``DDPMScheduler``.

    Returns:
        ``(T,)`` float64 ᾱ_j for network timesteps j = 0..T-1 (not padded).
    """
    acp = getattr(scheduler, "alphas_cumprod", None)
    if isinstance(acp, Tensor):
        return acp.detach().to(torch.float64).cpu()
    cfg = _scheduler_config(scheduler)
    import diffusers

    cls = getattr(diffusers, str(cfg.get("_class_name", "")), None)
    if cls is None or not hasattr(cls, "from_config") or "Scheduler" not in cls.__name__:
        cls = diffusers.DDPMScheduler
    try:
        sched = cls.from_config(cfg)
    except Exception as err:  # unknown beta_schedule and the like
        raise ValueError(
            f"could not build the noise schedule from this scheduler config with {cls.__name__}: {err}"
        ) from err
    acp = getattr(sched, "alphas_cumprod", None)
    if not isinstance(acp, Tensor):
        sched = diffusers.DDPMScheduler.from_config(cfg)
        acp = sched.alphas_cumprod
    return acp.detach().to(torch.float64).cpu()


def _sample_shape(unet: Any) -> tuple[int, int, int]:
    cfg = unet.config
    size = cfg.get("sample_size")
    if size is None:
        raise ValueError(
            "the UNet config has no sample_size; set unet.config.sample_size to the image size"
        )
    if isinstance(size, int):
        h = w = size
    else:
        h, w = (int(s) for s in size)
    return int(cfg["in_channels"]), int(h), int(w)


class _UNetDenoiser(NetworkPrior):
    """Shared machinery of the pixel and latent wrappers: a diffusers UNet and its scheduler
    config checked and turned into a :class:`~mgps.priors.network.NetworkPrior`."""

    network_attribute = "unet"

    def __init__(
        self,
        unet: torch.nn.Module,
        scheduler: Any,
        *,
        prediction_type: str | None = None,
        clip_min: float = IMAGE_CLIP_MIN,
        name: str = "",
    ) -> None:
        cfg = getattr(unet, "config", None)
        if cfg is None or "in_channels" not in cfg:
            raise TypeError(f"unet must be a diffusers UNet2DModel, got {type(unet).__name__}")
        if cfg.get("time_embedding_type", "positional") == "fourier":
            raise ValueError(
                "this UNet uses Fourier (continuous-σ, score-SDE VE) time embeddings; only "
                "discrete-time DDPM/DDIM UNets with positional time embeddings are supported"
            )
        if cfg.get("num_class_embeds") is not None or cfg.get("class_embed_type") is not None:
            raise ValueError("this UNet is class-conditional; mgps needs an unconditional prior")
        sched_cfg = _scheduler_config(scheduler)
        self.scheduler_config: dict[str, Any] = sched_cfg
        prediction_type = prediction_type or sched_cfg.get("prediction_type", "epsilon")
        if prediction_type not in PREDICTION_TYPES:
            raise ValueError(
                f"unsupported prediction_type {prediction_type!r}; "
                f"expected one of {', '.join(PREDICTION_TYPES)}"
            )
        alphas_cumprod = padded_alphas_cumprod(
            scheduler_alphas_cumprod(scheduler), clip_min=clip_min
        )
        in_ch, out_ch = int(cfg["in_channels"]), int(cfg.get("out_channels", cfg["in_channels"]))
        variance_type = sched_cfg.get("variance_type")
        if out_ch == 2 * in_ch:
            self.learned_variance = True
            if variance_type not in _LEARNED_VARIANCE:
                log.debug(
                    "UNet has %d = 2 x %d output channels but variance_type=%r; treating the "
                    "second half as a learned variance",
                    out_ch,
                    in_ch,
                    variance_type,
                )
        elif out_ch == in_ch:
            self.learned_variance = False
            if variance_type in _LEARNED_VARIANCE:
                raise ValueError(
                    f"the scheduler says variance_type={variance_type!r} (learned variance) but "
                    f"the UNet has out_channels = in_channels = {in_ch}; expected {2 * in_ch}"
                )
        else:
            raise ValueError(
                f"the UNet maps {in_ch} channels to {out_ch}; a prior needs out_channels equal "
                f"to in_channels ({in_ch}) or twice that with a learned variance ({2 * in_ch})"
            )
        super().__init__(
            unet,
            alphas_cumprod,
            prediction_type=prediction_type,
            shape=_sample_shape(unet),
            name=name,
        )

    def forward_network(self, x: Tensor, timesteps: Tensor) -> Tensor:
        out = self.unet(x, timesteps).sample
        if self.learned_variance:
            out = out[:, : self.shape[0]]  # keep ε/v/x0, drop the variance channels
        return out

    def __repr__(self) -> str:
        c, h, w = self.shape[:3]
        return (
            f"{type(self).__name__}(name={self.name!r}, shape=({c}, {h}, {w}), "
            f"T={self.num_train_timesteps}, prediction_type={self.prediction_type!r}, "
            f"learned_variance={self.learned_variance}, dtype={self.network_dtype}, device={self.device})"
        )


class DiffusersPixelPrior(_UNetDenoiser):
    """A pixel-space diffusion prior from a diffusers ``UNet2DModel`` and its scheduler.

    Args:
        unet: an unconditional ``UNet2DModel`` (positional time embeddings). Its weights are
            frozen and it is put in eval mode.
        scheduler: the scheduler or its config (``scheduler_config.json``); gives the noise
            schedule, ``prediction_type`` and ``variance_type``.
        prediction_type: override of the config's ``prediction_type``
            (``"epsilon"``, ``"v_prediction"`` or ``"sample"``).
        clip_min: floor of the padded ᾱ (1e-6 for images, ``docs/algorithms.md`` §1.1).
        name: a label used in messages and by the app.

    Attributes:
        alphas_cumprod: ``(T + 1,)`` float64 padded ᾱ, ``[0] == 1``.
        shape: ``(C, H, W)`` of one image, from the UNet config.
        num_train_timesteps: T.
        network_calls: number of :meth:`x0_pred` calls so far (one per batch), for reports.
        learned_variance: whether the UNet outputs extra variance channels (dropped).

    Images are ``(B, C, H, W)`` in [-1, 1].

    Example:
        >>> from mgps.priors import load_prior
        >>> prior = load_prior("path/to/diffusers_folder")  # doctest: +SKIP
        >>> x0_hat = prior.x0_pred(torch.randn(2, *prior.shape), t=500)  # doctest: +SKIP
    """

    def to(
        self, device: torch.device | str | None = None, dtype: torch.dtype | None = None
    ) -> DiffusersPixelPrior:
        return super().to(device, dtype)  # type: ignore[return-value]
