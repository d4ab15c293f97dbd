"""The two small interfaces every sampler is written against, and the record it yields.

Conventions (decided once, here):

* A batch is a tensor ``(B, *shape)``. Images are float tensors ``(B, C, H, W)`` in
  **[-1, 1]**; vectors (the Gaussian-mixture toys) are ``(B, d)``. Samplers never look at
  ``shape``: they broadcast per-sample scalars with :func:`append_dims`.
* **Diffusion time is a padded integer grid.** ``prior.alphas_cumprod`` has length ``T + 1``
  with ``alphas_cumprod[0] == 1`` standing for clean data and ``alphas_cumprod[t]`` the
  cumulative ᾱ of the ``t``-th noise level, ``t = 1..T``, decreasing. For a diffusers model
  trained with timesteps ``0..T-1``, time ``t`` here is network timestep ``t - 1`` (the
  wrapper does the shift, so the noise level the formulas use and the one the network sees
  always agree; the reference code is off by one there, see ``docs/algorithms.md`` §1.2).
* ``sigma_y`` is in the units of the data (the [-1, 1] range for images).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import torch
from torch import Tensor

__all__ = [
    "Prior",
    "LatentPrior",
    "Operator",
    "LinearOperator",
    "InverseProblem",
    "Step",
    "append_dims",
    "SamplerDivergedError",
    "RUN_KEYWORDS",
    "DEFAULT_SIGMA_Y",
]

# The keywords every sampler takes that say how to run it, not how it works: how many samples,
# from which initial noise, with which random stream. Everything else a sampler takes is a
# setting (a registry Param, the table of defaults in ``mgps.presets``).
RUN_KEYWORDS = frozenset({"generator", "x_init", "num_samples"})

# The observation noise of the paper's image and ECG experiments, in data units ([-1, 1] for
# images): the default of every command, function and control that degrades clean data.
DEFAULT_SIGMA_Y = 0.05


def append_dims(v: Tensor, ndim: int) -> Tensor:
    """Append trailing singleton dims to ``v`` until it has ``ndim`` dims (per-sample broadcast)."""
    return v.reshape(v.shape + (1,) * (ndim - v.ndim))


@runtime_checkable
class Prior(Protocol):
    """A diffusion prior: a noise schedule and a denoiser.

    Attributes:
        alphas_cumprod: ``(T + 1,)`` padded ᾱ, ``alphas_cumprod[0] == 1`` (clean), decreasing.
        shape: shape of one sample in the space the diffusion runs in.
    """

    alphas_cumprod: Tensor
    shape: tuple[int, ...]

    def x0_pred(self, x_t: Tensor, t: int) -> Tensor:
        """Tweedie denoiser E[x_0 | x_t] at padded time ``t >= 1``; differentiable in ``x_t``."""
        ...


@runtime_checkable
class LatentPrior(Prior, Protocol):
    """A prior that diffuses in a latent space, with an autoencoder to pixels."""

    def encode(self, x: Tensor) -> Tensor:
        """Image in [-1, 1] -> latent (already multiplied by the scaling factor)."""
        ...

    def decode(self, z: Tensor) -> Tensor:
        """Latent -> image in [-1, 1]; differentiable."""
        ...


@runtime_checkable
class Operator(Protocol):
    """A forward model ``x -> A(x)`` (noiseless) with an honest pseudo-inverse.

    Attributes:
        linear: whether ``A`` is linear.
        name: short name (the registry key) used in error messages.
    """

    linear: bool
    name: str

    def A(self, x: Tensor) -> Tensor:
        """``(B, *x_shape) -> (B, *y_shape)``, differentiable."""
        ...

    def A_pinv(self, y: Tensor) -> Tensor:
        """Exact Moore-Penrose pseudo-inverse for linear operators; a sensible inverse otherwise."""
        ...


@runtime_checkable
class LinearOperator(Operator, Protocol):
    """A linear operator with a true adjoint (``<A x, v> == <x, A_adjoint v>``)."""

    def A_adjoint(self, y: Tensor) -> Tensor: ...


@dataclass(frozen=True)
class InverseProblem:
    """An observation ``y = A(x*) + sigma_y * noise`` and its Gaussian likelihood.

    Args:
        operator: the forward model.
        y: ``(1 or B, *y_shape)`` observation; a batch of one broadcasts over the samples.
        sigma_y: standard deviation of the observation noise (> 0), in data units.
    """

    operator: Operator
    y: Tensor
    sigma_y: float

    def __post_init__(self) -> None:
        if not isinstance(self.y, Tensor):
            raise TypeError(f"y must be a torch.Tensor, got {type(self.y).__name__}")
        if not (float(self.sigma_y) > 0.0):
            raise ValueError(
                f"sigma_y must be positive (got {self.sigma_y}); for a (nearly) noiseless "
                "observation use a small value such as 1e-3."
            )
        if not torch.isfinite(self.y).all():
            raise ValueError("the observation y contains NaN or inf values")

    def residual(self, x: Tensor) -> Tensor:
        """``y - A(x)``, shape ``(B, *y_shape)`` (y is cast to the dtype of A(x))."""
        Ax = self.operator.A(x)
        return self.y.to(Ax) - Ax

    def log_likelihood(self, x: Tensor) -> Tensor:
        """log g(x) = −‖y − A(x)‖² / (2 σ_y²) up to a constant, one value per batch item."""
        r = self.residual(x)
        return -r.flatten(1).pow(2).sum(1) / (2.0 * float(self.sigma_y) ** 2)


@dataclass(frozen=True)
class Step:
    """What a sampler yields after each of its ``num_steps`` iterations.

    Attributes:
        index: 0 .. num_steps - 1.
        num_steps: total number of iterations.
        t: padded diffusion time of ``x_t`` after this iteration (0 at the end).
        x_t: the current state of the chain.
        x0_hat: the current clean estimate (the last Step's ``x0_hat`` is the sample).
        extras: sampler-specific tensors, e.g. ``{"midpoint": x_ell}`` for MGPS.
    """

    index: int
    num_steps: int
    t: int
    x_t: Tensor
    x0_hat: Tensor
    extras: Mapping[str, Any] = field(default_factory=dict)


class SamplerDivergedError(RuntimeError):
    """A sampler produced NaN or inf values. The message says where and what to change."""
