"""A latent diffusion prior: a diffusers ``UNet2DModel`` in the latent space of a
``VQModel`` or ``AutoencoderKL`` (``docs/algorithms.md`` §2.7).

The diffusion (and :meth:`x0_pred`) runs on latents ``z`` of shape :attr:`shape`; the
likelihood of a latent sampler is evaluated on ``decode(z)``, an image in [-1, 1].

Scaling. The UNet was trained on ``z = s · (h − shift)`` where ``h`` is the autoencoder's
latent, ``s`` the VAE config's ``scaling_factor`` and ``shift`` its ``shift_factor`` (0 if
absent). When the *saved* config has no ``scaling_factor`` (older checkpoints such as
``CompVis/ldm-celebahq-256``, whose LDM config uses a scale of 1), ``s = 1``: diffusers would
otherwise fill in its class default 0.18215, which is the Stable Diffusion value.

VQ decoding and gradients. ``VQModel.decode(h)`` quantises ``h`` to the nearest codebook
vectors. diffusers' ``VectorQuantizer.forward`` returns ``h + (h_q − h).detach()``: the
straight-through estimator, whose value is the quantised latent and whose Jacobian with
respect to ``h`` is the identity. So ``decode`` quantises (as the LDM reference's
``differentiable_decode_first_stage`` does) and gradients flow from the image back to ``z``
through the decoder as if quantisation were absent. ``quantize=False`` skips the codebook
(``force_not_quantize=True``) and decodes ``h`` directly.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from .diffusers_pixel import IMAGE_CLIP_MIN, _UNetDenoiser

__all__ = ["DiffusersLatentPrior", "vae_scaling"]


def vae_scaling(vae: Any) -> tuple[float, float]:
    """``(scaling_factor, shift_factor)`` that the saved VAE config states.

    A key that the saved config lacks (diffusers lists it in ``_use_default_values`` and
    fills in a class default) counts as absent: scaling 1.0, shift 0.0.
    """
    cfg = vae.config
    defaulted = set(cfg.get("_use_default_values", []) or [])

    def stated(key: str, fallback: float) -> float:
        value = cfg.get(key)
        if value is None or key in defaulted:
            return fallback
        return float(value)

    return stated("scaling_factor", 1.0), stated("shift_factor", 0.0)


def _vae_kind(vae: Any) -> str:
    name = type(vae).__name__
    if hasattr(vae, "quantize") and hasattr(vae, "decode"):
        return "vq"
    if name.startswith("AutoencoderKL"):
        return "kl"
    raise TypeError(f"vae must be a diffusers VQModel or AutoencoderKL, got {name}")


class DiffusersLatentPrior(_UNetDenoiser):
    """A latent diffusion prior: ``UNet2DModel`` on latents + a VQ or KL autoencoder.

    Args:
        unet: an unconditional ``UNet2DModel`` acting on latents; ``in_channels`` must equal
            the autoencoder's ``latent_channels``.
        scheduler: the scheduler or its config (noise schedule, ``prediction_type``).
        vae: a diffusers ``VQModel`` or ``AutoencoderKL`` (frozen, eval mode).
        scaling_factor: latent scale ``s``; ``None`` reads it from the VAE config (1.0 when
            the saved config has none).
        shift_factor: latent shift; ``None`` reads it from the config (0.0 when absent).
        quantize: for a ``VQModel``, quantise in :meth:`decode` (straight-through gradients,
            the default, as the LDM reference) or decode the continuous latent.
        prediction_type: override of the scheduler config's ``prediction_type``.
        clip_min: floor of the padded ᾱ (1e-6).
        name: a label used in messages and by the app.

    Attributes:
        shape: ``(c, h, w)`` latent shape (what the diffusion runs on).
        image_shape: ``(C, H, W)`` of decoded images.
        scaling_factor, shift_factor: the latent normalisation ``z = s (h − shift)``.
        vae_kind: ``"vq"`` or ``"kl"``.
    """

    def __init__(
        self,
        unet: torch.nn.Module,
        scheduler: Any,
        vae: torch.nn.Module,
        *,
        scaling_factor: float | None = None,
        shift_factor: float | None = None,
        quantize: bool = True,
        prediction_type: str | None = None,
        clip_min: float = IMAGE_CLIP_MIN,
        name: str = "",
    ) -> None:
        super().__init__(
            unet, scheduler, prediction_type=prediction_type, clip_min=clip_min, name=name
        )
        self.vae_kind = _vae_kind(vae)
        self.vae = vae.eval().requires_grad_(False)
        cfg_scale, cfg_shift = vae_scaling(vae)
        self.scaling_factor = float(cfg_scale if scaling_factor is None else scaling_factor)
        self.shift_factor = float(cfg_shift if shift_factor is None else shift_factor)
        if self.scaling_factor == 0.0:
            raise ValueError("scaling_factor must be non-zero")
        self.quantize = bool(quantize)
        vcfg = vae.config
        latent_channels = int(vcfg.get("latent_channels", self.shape[0]))
        if self.vae_kind == "vq" and vcfg.get("vq_embed_dim") is not None:
            latent_channels = int(vcfg["vq_embed_dim"])
        if latent_channels != self.shape[0]:
            raise ValueError(
                f"the UNet works on {self.shape[0]}-channel latents but the autoencoder's latents "
                f"have {latent_channels} channels"
            )
        factor = 2 ** (len(vcfg.get("block_out_channels", (0,))) - 1)
        self.downsampling_factor = int(factor)
        self.image_shape: tuple[int, int, int] = (
            int(vcfg.get("in_channels", 3)),
            self.shape[1] * factor,
            self.shape[2] * factor,
        )

    def _modules(self) -> dict[str, torch.nn.Module]:
        return {"unet": self.unet, "vae": self.vae}

    def encode(self, x: Tensor) -> Tensor:
        """Image → scaled latent (the posterior mean for a KL autoencoder; the pre-quantisation
        latent for a VQ autoencoder).

        Args:
            x: ``(B, *image_shape)`` image in [-1, 1].

        Returns:
            ``(B, *shape)`` latent ``s · (h − shift)``, dtype of ``x``.
        """
        if tuple(x.shape[1:]) != tuple(self.image_shape):
            raise ValueError(
                f"x must have shape (B, {', '.join(map(str, self.image_shape))}), got {tuple(x.shape)}"
            )
        x_net = x.to(device=self.device, dtype=self.network_dtype)
        if self.vae_kind == "vq":
            h = self.vae.encode(x_net).latents
        else:
            h = self.vae.encode(x_net).latent_dist.mean
        z = (h - self.shift_factor) * self.scaling_factor
        return z.to(device=x.device, dtype=x.dtype)

    def decode(self, z: Tensor) -> Tensor:
        """Scaled latent → image in (about) [-1, 1]; differentiable in ``z`` (not clamped).

        For a VQ autoencoder the latent is quantised with a straight-through estimator (see the
        module docstring), so ∂decode/∂z is the decoder's Jacobian at the quantised latent.

        Args:
            z: ``(B, *shape)`` latent.

        Returns:
            ``(B, *image_shape)`` image, dtype of ``z``.
        """
        if tuple(z.shape[1:]) != tuple(self.shape):
            raise ValueError(
                f"z must have shape (B, {', '.join(map(str, self.shape))}), got {tuple(z.shape)}"
            )
        h = (
            z.to(device=self.device, dtype=self.network_dtype) / self.scaling_factor
            + self.shift_factor
        )
        if self.vae_kind == "vq":
            if self.quantize:
                image = self.vae.decode(h).sample
            else:
                image = self._decode_unquantized(h)
        else:
            image = self.vae.decode(h).sample
        return image.to(device=z.device, dtype=z.dtype)

    def _decode_unquantized(self, h: Tensor) -> Tensor:
        vae = self.vae
        if not vae.config.get("lookup_from_codebook", False):
            return vae.decode(h, force_not_quantize=True).sample
        # with lookup_from_codebook, force_not_quantize means "h holds indices"; decode h itself
        quant2 = vae.post_quant_conv(h)
        spatial = h if vae.config.get("norm_type") == "spatial" else None
        return vae.decoder(quant2, spatial)

    def to(
        self, device: torch.device | str | None = None, dtype: torch.dtype | None = None
    ) -> DiffusersLatentPrior:
        return super().to(device, dtype)  # type: ignore[return-value]

    def __repr__(self) -> str:
        return (
            super().__repr__()[:-1] + f", vae={self.vae_kind}, image_shape={self.image_shape}, "
            f"scaling_factor={self.scaling_factor})"
        )
