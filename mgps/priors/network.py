"""A denoising network as a :class:`~mgps.types.Prior`: what every network prior shares.

* **Time shift.** Padded time ``t`` (1..T, ``alphas_cumprod[t] = ᾱ_{t-1}``) is the network's
  integer timestep ``t - 1``, so the noise level the formulas use and the one the network was
  trained on agree (``docs/algorithms.md``, "Time").
* **Parameterisation.** The network's output, ``"epsilon"`` (ε̂), ``"v_prediction"``
  (v̂ = √a ε − √(1 − a) x_0) or ``"sample"`` (x̂_0), becomes the Tweedie denoiser
  x̂_0 = E[x_0 | x_t] exactly.
* **Frozen weights.** The network is put in eval mode with ``requires_grad_(False)``: samplers
  differentiate with respect to ``x_t`` only, and :meth:`NetworkPrior.x0_pred` never disables
  autograd itself.

Subclasses build the network and the padded schedule and adapt the call
(:meth:`NetworkPrior.forward_network`): the diffusers UNets
(:mod:`mgps.priors.diffusers_pixel`, :mod:`mgps.priors.diffusers_latent`) and the 1-D ECG UNet
(:mod:`mgps.ecg.prior`).
"""

from __future__ import annotations

import copy
import math

import torch
from torch import Tensor

from ..schedules import eps_from_x0, x0_from_eps, x0_from_v

__all__ = ["NetworkPrior", "PREDICTION_TYPES"]

PREDICTION_TYPES = ("epsilon", "v_prediction", "sample")


class NetworkPrior:
    """A frozen denoising network on the padded time grid.

    Args:
        network: the denoiser ``network(x, timesteps)`` (an ``nn.Module``); frozen here.
        alphas_cumprod: ``(T + 1,)`` padded ᾱ, ``[0] == 1`` (clean data).
        prediction_type: what the network predicts (one of :data:`PREDICTION_TYPES`).
        shape: shape of one sample.
        name: a label used in messages and by the app.

    Attributes:
        network_attribute: the attribute under which a subclass keeps its network
            (``unet`` for the diffusers priors, ``net`` for the ECG prior).
        network_calls: number of network evaluations (one per batch) so far, for reports.
    """

    network_attribute = "net"

    def __init__(
        self,
        network: torch.nn.Module,
        alphas_cumprod: Tensor,
        *,
        prediction_type: str,
        shape: tuple[int, ...],
        name: str = "",
    ) -> None:
        if prediction_type not in PREDICTION_TYPES:
            raise ValueError(
                f"unsupported prediction_type {prediction_type!r}; "
                f"expected one of {', '.join(PREDICTION_TYPES)}"
            )
        self.prediction_type = prediction_type
        self.alphas_cumprod: Tensor = alphas_cumprod
        setattr(self, self.network_attribute, network.eval().requires_grad_(False))
        self.shape: tuple[int, ...] = tuple(shape)
        self.name = name
        self.network_calls = 0

    # ------------------------------------------------------------------ basic facts
    @property
    def network(self) -> torch.nn.Module:
        """The denoising network."""
        return getattr(self, self.network_attribute)

    @property
    def num_train_timesteps(self) -> int:
        """T: the number of noise levels (the padded grid is 0..T)."""
        return self.alphas_cumprod.numel() - 1

    @property
    def network_dtype(self) -> torch.dtype:
        """dtype of the network's weights."""
        return next(self.network.parameters()).dtype

    @property
    def dtype(self) -> torch.dtype:
        """dtype the samplers run in: the network's, except that a half-precision network
        (float16, bfloat16) leaves the samplers' state, gradients and optimisers in float32;
        only the network's evaluations run in half precision."""
        net = self.network_dtype
        return torch.float32 if net in (torch.float16, torch.bfloat16) else net

    @property
    def device(self) -> torch.device:
        """Device of the network's weights."""
        return next(self.network.parameters()).device

    # ------------------------------------------------------------------ denoiser
    def forward_network(self, x: Tensor, timesteps: Tensor) -> Tensor:
        """The network's prediction for ``x`` at integer network ``timesteps`` (overridden by
        wrappers whose network returns something else than a tensor of the shape of ``x``)."""
        return self.network(x, timesteps)

    def model_output(self, x_t: Tensor, t: int) -> Tensor:
        """The network's raw prediction (ε̂, v̂ or x̂_0) at padded time ``t``.

        Args:
            x_t: ``(B, *shape)`` noisy sample at padded time ``t``.
            t: padded time, ``1 <= t <= T``; the network is called at timestep ``t - 1``.

        Returns:
            ``(B, *shape)`` tensor in the dtype and on the device of ``x_t``.
        """
        t = int(t)
        if not 1 <= t <= self.num_train_timesteps:
            raise ValueError(
                f"t must be a padded diffusion time between 1 and {self.num_train_timesteps}, got {t}"
            )
        if tuple(x_t.shape[1:]) != tuple(self.shape):
            raise ValueError(
                f"x_t must have shape (B, {', '.join(map(str, self.shape))}), got {tuple(x_t.shape)}"
            )
        self.network_calls += 1
        net_dtype, net_device = self.network_dtype, self.device
        timesteps = torch.full((x_t.shape[0],), t - 1, dtype=torch.long, device=net_device)
        out = self.forward_network(x_t.to(device=net_device, dtype=net_dtype), timesteps)
        return out.to(device=x_t.device, dtype=x_t.dtype)

    def x0_pred(self, x_t: Tensor, t: int) -> Tensor:
        """Tweedie denoiser x̂_0 = E[x_0 | x_t] at padded time ``t`` (differentiable in ``x_t``).

        Returns:
            ``(B, *shape)`` clean estimate (not clipped), dtype of ``x_t``.
        """
        out = self.model_output(x_t, t)
        a = float(self.alphas_cumprod[int(t)])
        if self.prediction_type == "epsilon":
            return x0_from_eps(x_t, out, a)  # x̂0 = (x_t − √(1−a) ε̂)/√a
        if self.prediction_type == "v_prediction":
            return x0_from_v(x_t, out, a)  # x̂0 = √a x_t − √(1−a) v̂
        return out

    def eps_pred(self, x_t: Tensor, t: int) -> Tensor:
        """The noise estimate ε̂(x_t) at padded time ``t`` that goes with :meth:`x0_pred`."""
        out = self.model_output(x_t, t)
        a = float(self.alphas_cumprod[int(t)])
        if self.prediction_type == "epsilon":
            return out
        if self.prediction_type == "v_prediction":
            return math.sqrt(1.0 - a) * x_t + math.sqrt(a) * out  # ε̂ = √(1−a) x_t + √a v̂
        return eps_from_x0(x_t, out, a)

    # ------------------------------------------------------------------ moving
    def _modules(self) -> dict[str, torch.nn.Module]:
        """The networks that :meth:`to` moves, by attribute name."""
        return {self.network_attribute: self.network}

    def to(
        self, device: torch.device | str | None = None, dtype: torch.dtype | None = None
    ) -> NetworkPrior:
        """A copy on ``device`` and/or in ``dtype`` (the original is left untouched).

        The networks are deep-copied only when the device or dtype actually changes (``self``
        is returned otherwise). ``alphas_cumprod`` stays a float64 CPU tensor.
        """
        want_device = torch.device(device) if device is not None else self.device
        want_dtype = dtype or self.network_dtype
        if want_device == self.device and want_dtype == self.network_dtype:
            return self
        new = copy.copy(self)
        for attr, module in self._modules().items():
            # plain nn.Module.to: diffusers' ModelMixin.to warns on every dtype cast
            moved = torch.nn.Module.to(copy.deepcopy(module), device=want_device, dtype=want_dtype)
            setattr(new, attr, moved)
        new.network_calls = 0
        return new
