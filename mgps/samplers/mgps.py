"""MGPS: Midpoint Guidance Posterior Sampling (Moufad et al., ICLR 2025, Algorithm 1).

Each backward step t_{k+1} → t_k passes through a midpoint time ℓ_k = ⌊η t_k⌋ (Lemma 3.1):

    π_{k|k+1}(x_k | x_{k+1}) = ∫ q(x_k | x_ℓ, x_{k+1}) π_{ℓ|k+1}(x_ℓ | x_{k+1}) dx_ℓ,
    π̂_{ℓ|k+1}(x_ℓ | x_{k+1}) ∝ g(D_ℓ(x_ℓ)) · p_{ℓ|k+1}(x_ℓ | x_{k+1}).

π̂_{ℓ|k+1} is fitted by a diagonal Gaussian λ_φ = N(μ, diag e^{2v}) with a few Adam steps on
the reparameterised loss (eq. C.1)

    L(μ, v) = E_ε[ −log g(D_ℓ(μ + e^v ε)) ] + KL(λ_φ ‖ p_{ℓ|k+1}(· | x_{k+1})),

initialised at q_{ℓ|0,k+1}(· | x̂_0, x_{k+1}) (eq. 3.9), then x_ℓ ~ λ_φ and
x_k ~ q(x_k | x_ℓ, x_{k+1}). Small η trusts the likelihood (exact at ℓ = 0) but stretches the
Gaussian prior transition; η = 1 is DPS-like. In the first iterations (upper time ≥
``warm_start_threshold``·T) a second stage fits λ ≈ π_{1|ℓ}(x_1 | x_ℓ) (Algorithm 3, App. C.2).

Notation map: ``midpoint`` = η, ``t_mid`` = ℓ_k, ``x_mid`` = X_ℓ, ``mean_prior``/``std_prior``
= the DDPM transition p_{ℓ|k+1}, ``x0_hat`` = the previous denoised midpoint x̂_0.
See ``docs/algorithms.md`` §2.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

import torch
from torch import Tensor

from ..registry import SAMPLERS, Param
from ..schedules import bridge_mean_std, bridge_sample, randn_like
from ..types import InverseProblem, Prior, Step
from .common import ensure_finite, log_likelihood_fn, start

__all__ = ["mgps", "gradient_steps_at", "midpoint_time", "check_arguments"]

_HINT = "Try a smaller learning rate (lr), fewer gradient steps, or more diffusion steps."


def gradient_steps_at(
    i: int,
    num_steps: int,
    *,
    base: int,
    initial: int,
    initial_iterations: int,
    periodic: int,
    period: int,
) -> int:
    """M(i), the number of Adam steps at loop index i (num_steps → 2); ``docs/algorithms.md`` §2.8.

    The first ``initial_iterations`` (noisiest) iterations use ``initial``; every
    ``period``-th index uses ``periodic``; the rest use ``base``.
    """
    if i > num_steps - initial_iterations:
        return initial
    if period > 0 and i % period == 0:
        return periodic
    return base


def check_arguments(
    midpoint: float, midpoint_late: float | None, lr: float, **gradient_steps: int
) -> None:
    """Raise a clear ``ValueError`` for an η outside [0, 1], lr ≤ 0 or a bad step count."""
    if not 0.0 <= midpoint <= 1.0 or (
        midpoint_late is not None and not 0.0 <= midpoint_late <= 1.0
    ):
        raise ValueError(f"midpoint must lie in [0, 1]; got {midpoint} (late: {midpoint_late})")
    if not lr > 0:
        raise ValueError(f"lr must be positive, got {lr}")
    for name, value in gradient_steps.items():
        if not isinstance(value, int) or not 0 <= value <= 10_000:
            raise ValueError(f"{name} must be an integer between 0 and 10000, got {value!r}")


def midpoint_time(
    t: int,
    t_prev: int,
    T: int,
    midpoint: float,
    midpoint_late: float | None,
    warm_start: bool,
    warm_start_threshold: float,
) -> tuple[int, bool]:
    """ℓ_k = ⌊η t_k⌋ guarded to [1, t_k] (η = ``midpoint_late`` once t_k ≤ T/2), and whether
    the step t = t_{k+1} → t_prev = t_k runs the warm start (``docs/algorithms.md`` §2.2, §2.6)."""
    eta = midpoint if (midpoint_late is None or t_prev > T // 2) else midpoint_late
    t_mid = min(max(1, int(eta * t_prev)), t_prev)
    return t_mid, warm_start and t >= warm_start_threshold * T and t_mid > 1


def _fit_gaussian(
    loss_fn: Callable[[Tensor, Tensor, Tensor], Tensor],
    mean: Tensor,
    std: float,
    num_iterations: int,
    lr: float,
    generator: torch.Generator | None,
) -> tuple[Tensor, Tensor]:
    """Adam on φ = (μ, v) of N(μ, diag e^{2v}) for a per-sample loss(z, μ, v) with z = μ + e^v ε."""
    mu = mean.detach().clone().requires_grad_(True)
    log_std = torch.full_like(mu, math.log(max(std, 1e-12))).requires_grad_(True)
    optimizer = torch.optim.Adam([mu, log_std], lr=lr)
    with torch.enable_grad():
        for _ in range(num_iterations):
            z = mu + log_std.exp() * randn_like(mu, generator)  # one fresh reparameterised draw
            loss = loss_fn(z, mu, log_std).sum()  # samples are independent: sum over the batch
            mu.grad, log_std.grad = torch.autograd.grad(loss, [mu, log_std])
            optimizer.step()
    return mu.detach(), log_std.detach()


def _kl_to_isotropic(mu: Tensor, log_std: Tensor, mean: Tensor, std: float) -> Tensor:
    """KL(N(μ, diag e^{2v}) ‖ N(m, s² I)) per sample, constants dropped (``docs/algorithms.md`` §2.3)."""
    return 0.5 * (((2 * log_std).exp() + (mu - mean) ** 2) / std**2 - 2 * log_std).flatten(1).sum(1)


@SAMPLERS.register(
    "mgps",
    label="MGPS",
    params=(
        Param("num_steps", low=2, high=1000, step=1, help="diffusion steps K"),
        Param(
            "midpoint",
            low=0.0,
            high=1.0,
            step=0.05,
            help="η: midpoint ℓ_k = ⌊η t_k⌋ (0: denoise to the clean state; 1: DPS-like)",
        ),
        Param(
            "midpoint_late",
            low=0.0,
            high=1.0,
            step=0.05,
            help="η for the second half (t_k ≤ T/2); empty: same as midpoint. The latent variant uses 1",
        ),
        Param(
            "lr",
            low=1e-4,
            high=1.0,
            step=0.001,
            help="Adam learning rate of the variational fit",
        ),
        Param(
            "num_gradient_steps",
            low=0,
            high=100,
            step=1,
            help="Adam steps per diffusion step M(i)",
        ),
        Param(
            "num_gradient_steps_initial",
            low=0,
            high=100,
            step=1,
            help="Adam steps in the first noisy iterations",
        ),
        Param("warm_start", help="two-stage warm start (Algorithm 3) while t ≥ threshold·T"),
        Param(
            "warm_start_threshold",
            low=0.0,
            high=1.0,
            step=0.05,
            help="warm start while the upper time t ≥ threshold·T",
        ),
    ),
    tags={"pixel", "latent", "nonlinear"},
    reference="Moufad et al., Variational Diffusion Posterior Sampling with Midpoint Guidance, ICLR 2025, Algorithm 1",
)
def mgps(
    prior: Prior,
    problem: InverseProblem,
    *,
    num_steps: int = 300,
    midpoint: float = 0.5,
    midpoint_late: float | None = None,
    lr: float = 0.03,
    num_gradient_steps: int = 2,
    num_gradient_steps_initial: int = 10,
    initial_iterations: int = 10,
    num_gradient_steps_periodic: int = 2,
    gradient_period: int = 10,
    warm_start: bool = True,
    warm_start_threshold: float = 0.7,
    num_samples: int = 1,
    generator: torch.Generator | None = None,
    x_init: Tensor | None = None,
) -> Iterator[Step]:
    """MGPS posterior sampler; yields one :class:`Step` per diffusion step.

    Args:
        prior: a :class:`~mgps.types.Prior` (a latent prior puts the likelihood through its decoder).
        problem: the inverse problem (operator, y, sigma_y).
        num_steps: diffusion steps K.
        midpoint: η ∈ [0, 1]; the midpoint time is ℓ_k = max(1, ⌊η t_k⌋) (``docs/algorithms.md`` §2.2).
        midpoint_late: η used once t_k ≤ T/2 (the paper's latent variant uses 1); None: ``midpoint``.
        lr: Adam learning rate (0.03 for images, 0.1 for the Gaussian mixture).
        num_gradient_steps, num_gradient_steps_initial, initial_iterations,
        num_gradient_steps_periodic, gradient_period: the schedule M(i) (:func:`gradient_steps_at`).
        warm_start: run the second, clean-state stage (Algorithm 3) in the first iterations.
        warm_start_threshold: warm start while the upper time t ≥ threshold · T (0.7 → t ≥ 700).
        num_samples: batch size when ``x_init`` is not given.
        generator: source of all randomness.
        x_init: ``(B, *shape)`` initial noise at t = T.

    Yields:
        Step with ``extras = {"midpoint": x_mid, "midpoint_time": ℓ_k, "warm": bool}``.
    """
    check_arguments(
        midpoint,
        midpoint_late,
        lr,
        num_gradient_steps=num_gradient_steps,
        num_gradient_steps_initial=num_gradient_steps_initial,
        num_gradient_steps_periodic=num_gradient_steps_periodic,
    )
    acp = prior.alphas_cumprod
    T = acp.numel() - 1
    timesteps, x = start("mgps", prior, problem, num_steps, num_samples, x_init, generator)
    log_likelihood = log_likelihood_fn(prior, problem)

    with torch.no_grad():
        x0_hat = prior.x0_pred(x, timesteps[-1])
    for i in range(num_steps, 1, -1):
        t, t_prev = timesteps[i], timesteps[i - 1]
        t_mid, warm = midpoint_time(
            t, t_prev, T, midpoint, midpoint_late, warm_start, warm_start_threshold
        )
        with torch.no_grad():
            mean_prior, std_prior = bridge_mean_std(
                acp, 0, t_mid, t, prior.x0_pred(x, t), x
            )  # p_{ℓ|k+1}
            mean_init, std_init = bridge_mean_std(
                acp, 1 if warm else 0, t_mid, t, x0_hat, x
            )  # eq. (3.9)

        def midpoint_loss(z: Tensor, mu: Tensor, log_std: Tensor) -> Tensor:
            x0_of_z = prior.x0_pred(z, t_mid) if t_mid > 1 else z
            return -log_likelihood(x0_of_z) + _kl_to_isotropic(
                mu, log_std, mean_prior, std_prior
            )  # eq. (C.1)

        steps = gradient_steps_at(
            i,
            num_steps,
            base=num_gradient_steps,
            initial=num_gradient_steps_initial,
            initial_iterations=initial_iterations,
            periodic=num_gradient_steps_periodic,
            period=gradient_period,
        )
        mu, log_std = _fit_gaussian(midpoint_loss, mean_init, std_init, steps, lr, generator)
        x_mid = ensure_finite(
            mu + log_std.exp() * randn_like(mu, generator), "MGPS", num_steps - i, num_steps, _HINT
        )

        with torch.no_grad():
            if warm:
                x1 = _warm_stage(prior, log_likelihood, acp, x_mid, t_mid, steps, lr, generator)
                x = bridge_sample(acp, 1, t_prev, t, x1, x, generator)  # x_k ~ q(· | x̂_1, x_{k+1})
                x0_hat = x1
            else:
                x = bridge_sample(
                    acp, t_mid, t_prev, t, x_mid, x, generator
                )  # x_k ~ q(· | x_ℓ, x_{k+1})
                x0_hat = prior.x0_pred(x_mid, t_mid)
        ensure_finite(x, "MGPS", num_steps - i, num_steps, _HINT)
        yield Step(
            num_steps - i,
            num_steps,
            t_prev,
            x,
            x0_hat,
            {"midpoint": x_mid, "midpoint_time": t_mid, "warm": warm},
        )

    with torch.no_grad():
        x0 = ensure_finite(prior.x0_pred(x, timesteps[1]), "MGPS", num_steps - 1, num_steps, _HINT)
    yield Step(num_steps - 1, num_steps, 0, x0, x0, {})


def _warm_stage(
    prior: Prior,
    log_likelihood,
    acp: Tensor,
    x_mid: Tensor,
    t_mid: int,
    num_iterations: int,
    lr: float,
    generator: torch.Generator | None,
) -> Tensor:
    """Algorithm 3: fit λ ≈ π_{1|ℓ}(x_1 | X_ℓ) ∝ g(x_1) p_1(x_1) q(X_ℓ | x_1) and draw x̂_1 (``docs/algorithms.md`` §2.6).

    Loss per sample, with r = a_ℓ / a_1 and z = μ + e^v ε (eq. C.3):
    −log g(z) − Σ v + Σ[(X_ℓ − √r μ)² + r e^{2v}] / (2(1 − r)) − ⟨z, sg(∇log p_1(z))⟩.
    The score term is a forward pass only (stop-gradient), no vector-Jacobian product.
    """
    a1 = float(acp[1])
    r = float(acp[t_mid]) / a1
    mean_init, std_init = bridge_mean_std(
        acp, 0, 1, t_mid, prior.x0_pred(x_mid, t_mid), x_mid
    )  # DDPM ℓ → 1

    def clean_state_loss(z: Tensor, mu: Tensor, log_std: Tensor) -> Tensor:
        with torch.no_grad():
            score = (math.sqrt(a1) * prior.x0_pred(z.detach(), 1) - z.detach()) / (
                1.0 - a1
            )  # Tweedie score at time 1
        forward = ((x_mid - math.sqrt(r) * mu) ** 2 + r * (2 * log_std).exp()).flatten(1).sum(1) / (
            2 * (1 - r)
        )
        return (
            -log_likelihood(z) - log_std.flatten(1).sum(1) + forward - (z * score).flatten(1).sum(1)
        )

    mu, log_std = _fit_gaussian(
        clean_state_loss, mean_init, std_init, num_iterations, lr, generator
    )
    return mu + log_std.exp() * randn_like(mu, generator)
