"""Small helpers shared by the samplers: argument checks, initial noise, divergence checks,
capability checks (the rule lives in :mod:`mgps.capabilities`), and ``sample`` (run a sampler
to completion)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import torch
from torch import Tensor

from ..capabilities import (
    compatibility,
    is_latent,
    operator_refusal,
    operator_supports,
    prior_refusal,
)
from ..registry import SAMPLERS
from ..schedules import spaced_timesteps
from ..types import InverseProblem, Operator, Prior, SamplerDivergedError, Step

__all__ = [
    "start",
    "ensure_finite",
    "require_operator",
    "sample",
    "operator_supports",
    "run",
    "residual_fn",
    "log_likelihood_fn",
    "require_prior",
    "is_latent",
    "initial_noise",
]


def residual_fn(prior: Prior, problem: InverseProblem) -> Callable[[Tensor], Tensor]:
    """x ↦ y − A(x) on the prior's clean state; through the decoder for a latent prior."""
    decode = getattr(prior, "decode", None)
    if decode is None:
        return problem.residual
    return lambda z: problem.residual(decode(z))


def log_likelihood_fn(prior: Prior, problem: InverseProblem) -> Callable[[Tensor], Tensor]:
    """x ↦ log g(x) = −‖y − A(x)‖²/(2σ_y²) per sample; through the decoder for a latent prior."""
    residual = residual_fn(prior, problem)
    scale = 2.0 * float(problem.sigma_y) ** 2
    return lambda x: -residual(x).flatten(1).pow(2).sum(1) / scale


def prior_dtype(prior: Prior) -> torch.dtype:
    return getattr(prior, "dtype", torch.float32)


def prior_device(prior: Prior) -> torch.device:
    return torch.device(getattr(prior, "device", "cpu"))


def initial_noise(
    prior: Prior, num_samples: int, generator: torch.Generator | None = None
) -> Tensor:
    """The initial noise x_T ~ N(0, I) of ``num_samples`` samples, ``(num_samples, *prior.shape)``
    in the prior's dtype and on its device, drawn on ``generator``'s device.

    Every sampler draws its start this way when it is not given ``x_init``; pass the result as
    ``x_init`` to start several samplers from the same point. Drawing it advances
    ``generator`` exactly as the sampler's own draw would, so::

        g = torch.Generator().manual_seed(0)
        x = mgps.sample("dps", prior, problem, x_init=mgps.initial_noise(prior, 4, g), generator=g)

    gives the samples of ``mgps.sample("dps", prior, problem, num_samples=4,
    generator=torch.Generator().manual_seed(0))``.
    """
    if not isinstance(num_samples, int) or isinstance(num_samples, bool) or num_samples < 1:
        raise ValueError(f"num_samples must be a positive integer, got {num_samples!r}")
    gen_device = generator.device if generator is not None else prior_device(prior)
    x = torch.randn(
        (num_samples, *prior.shape),
        generator=generator,
        dtype=prior_dtype(prior),
        device=gen_device,
    )
    return x.to(prior_device(prior))


def require_prior(sampler: str, prior: Prior) -> None:
    """Raise a clear ``ValueError`` if the registered sampler cannot use this kind of prior."""
    reason = prior_refusal(sampler, prior)
    if reason is not None:
        raise ValueError(reason)


def require_operator(sampler: str, operator: Operator) -> None:
    """Raise a clear ``ValueError`` if the registered sampler cannot use ``operator``."""
    reason = operator_refusal(sampler, operator)
    if reason is not None:
        raise ValueError(reason)


def start(
    sampler: str,
    prior: Prior,
    problem: InverseProblem,
    num_steps: int,
    num_samples: int,
    x_init: Tensor | None,
    generator: torch.Generator | None,
) -> tuple[list[int], Tensor]:
    """Check the common arguments and the sampler's capabilities against the prior and the
    operator; return the time grid τ_0..τ_K and x at τ_K ~ N(0, I).

    ``x_init`` (if given) is the initial noise, so two samplers can start from the same point.
    """
    if not isinstance(problem, InverseProblem):
        raise TypeError(
            f"problem must be an InverseProblem (see mgps.measure), got {type(problem).__name__}"
        )
    ok, reason = compatibility(sampler, prior, problem.operator)
    if not ok:
        raise ValueError(reason)
    timesteps = spaced_timesteps(prior.alphas_cumprod.numel() - 1, num_steps)
    if x_init is not None:
        if tuple(x_init.shape[1:]) != tuple(prior.shape):
            raise ValueError(
                f"x_init must have shape (B, {', '.join(map(str, prior.shape))}), got {tuple(x_init.shape)}"
            )
        return timesteps, x_init.to(dtype=prior_dtype(prior), device=prior_device(prior))
    return timesteps, initial_noise(prior, num_samples, generator)


def ensure_finite(x: Tensor, sampler: str, index: int, num_steps: int, hint: str) -> Tensor:
    """Raise :class:`SamplerDivergedError` if ``x`` has NaN or inf; return ``x`` otherwise."""
    finite = torch.isfinite(x.detach().flatten(1)).all(1)
    if not bool(finite.all()):
        bad = int((~finite).sum())
        raise SamplerDivergedError(
            f"{sampler} diverged at step {index + 1}/{num_steps}: {bad} of {x.shape[0]} samples "
            f"became NaN or inf. {hint}"
        )
    return x


def run(
    sampler: str | Callable[..., Iterator[Step]],
    prior: Prior,
    problem: InverseProblem,
    **kwargs: Any,
) -> Iterator[Step]:
    """The step stream of a sampler given by registry name or function."""
    fn = SAMPLERS[sampler].obj if isinstance(sampler, str) else sampler
    return fn(prior, problem, **kwargs)


def sample(
    sampler: str | Callable[..., Iterator[Step]],
    prior: Prior,
    problem: InverseProblem,
    *,
    on_step: Callable[[Step], None] | None = None,
    **kwargs: Any,
) -> Tensor:
    """Run a sampler to completion and return its samples ``(B, *shape)`` (the last ``x0_hat``).

    ``on_step`` (optional) is called with every :class:`~mgps.types.Step` (a progress bar).
    A registered sampler on a registered image task (the operator's ``name``) runs the
    settings it is not given from the table of defaults (``mgps.presets.settings``), as
    ``mgps restore`` does; elsewhere its signature's defaults.

    Example:
        >>> import torch, mgps
        >>> prior = mgps.gmm25(2, torch.Generator().manual_seed(0))
        >>> A = mgps.MatrixOperator(torch.tensor([[1.0, 0.0]], dtype=torch.float64))
        >>> problem = mgps.measure(prior.sample(1, torch.Generator().manual_seed(1)), A, 0.5)
        >>> x = mgps.sample("dps", prior, problem, num_steps=50, num_samples=4,
        ...                 generator=torch.Generator().manual_seed(2))
        >>> tuple(x.shape)
        (4, 2)
    """
    if isinstance(sampler, str):
        from ..presets import is_task, settings

        task = getattr(problem.operator, "name", None)
        if is_task(task):
            kwargs = {**settings(sampler, task), **kwargs}
    last = None
    for step in run(sampler, prior, problem, **kwargs):
        last = step
        if on_step is not None:
            on_step(step)
    if last is None:
        raise RuntimeError("the sampler yielded no step")
    return last.x0_hat.detach()
