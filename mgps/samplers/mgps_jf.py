"""Jacobian-free MGPS: MGPS's midpoint chain with no vector-Jacobian product through the denoiser.

The paper's conclusion names this as the next step. MGPS (``mgps.py``) fits the midpoint law
π̂_{ℓ|k+1}(x_ℓ) ∝ g(D_ℓ(x_ℓ)) p_{ℓ|k+1}(x_ℓ | x_{k+1}) by Adam, and each Adam step differentiates
D_ℓ (a VJP). Here D_ℓ is linearised at z_0, a draw from MGPS's own starting Gaussian
(eq. (3.9)), with the Jacobian it has when the data are Gaussian with covariance σ_d² I
(``data_std`` = σ_d):

    D_ℓ(z) ≈ D_ℓ(z_0) + c_ℓ (z − z_0),      c_ℓ = √a_ℓ σ_d² / (a_ℓ σ_d² + 1 − a_ℓ),

one forward call. With p_{ℓ|k+1} = N(m, s² I) and a linear operator A the surrogate is then
Gaussian, and ``step="gaussian"`` draws the midpoint from it exactly, in one regularised
least-squares solve (perturb-then-optimise): with y' = y − A(D_ℓ(z_0) − c_ℓ z_0),

    x_ℓ = w / c_ℓ,   w = argmin_w ‖y' + σ_y ε' − A w‖² + (σ_y² / (c_ℓ² s²)) ‖w − c_ℓ (m + s ε)‖²,

ε, ε' standard normal (the SVD when the operator has one, conjugate gradients with A and Aᵀ
otherwise: :class:`mgps.operators.solve.RegularizedSolver`). ``step="adam"`` (and every
nonlinear operator) keeps MGPS's Adam fit of a diagonal Gaussian, on the same loss (C.1) with
the linearised denoiser: gradients go through the operator only.

A step costs three forward calls, D_{k+1}(x_{k+1}), D_ℓ(z_0) and x̂_0 = D_ℓ(x_ℓ) (plus MGPS's
warm start, itself VJP-free, in the first iterations), against MGPS's M forward calls with a
VJP each. The midpoint time, the warm start and the schedule M(i) are MGPS's
(:func:`~mgps.samplers.mgps.midpoint_time`, :func:`~mgps.samplers.mgps.gradient_steps_at`).
Exact when the prior is N(·, σ_d² I) and the operator linear; otherwise the price is the
Jacobian's anisotropy, which MGPS's VJP sees and this sampler does not.

``jacobian="forward_difference"`` keeps the network's Jacobian instead: MGPS's own Adam fit,
each VJP Jᵀv replaced by the forward difference Jv ≈ (D_ℓ(z + h v) − D_ℓ(z)) / h along the
likelihood's pull v (one forward call; Tweedie's denoiser has a symmetric Jacobian,
:func:`fd_denoiser`). See ``docs/algorithms.md`` §2.11.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import torch
from torch import Tensor

from ..operators.solve import RegularizedSolver
from ..registry import SAMPLERS, Param
from ..schedules import bridge_mean_std, bridge_sample, randn_like
from ..types import InverseProblem, Prior, Step
from .common import ensure_finite, log_likelihood_fn, start
from .mgps import (
    _fit_gaussian,
    _kl_to_isotropic,
    _warm_stage,
    check_arguments,
    gradient_steps_at,
    midpoint_time,
)

__all__ = ["mgps_jf", "gaussian_jacobian", "fd_denoiser"]

_HINT = "Try a larger data_std (a smaller one takes larger steps), more diffusion steps, or (with step=adam) a smaller lr."
STEPS = ("gaussian", "adam")
JACOBIANS = ("gaussian", "forward_difference")


def gaussian_jacobian(a: float, data_std: float) -> float:
    """c with ∂D_t/∂x = c I when the data are N(m, σ_d² I) and a = a_t: √a σ_d² / (a σ_d² + 1 − a)."""
    v = data_std**2
    return math.sqrt(a) * v / (a * v + 1.0 - a)


class _ForwardDifferenceDenoiser(torch.autograd.Function):
    """z ↦ D_t(z) whose backward is one forward call: Jᵀv = Jv ≈ ‖v‖ (D_t(z + h v̂) − D_t(z)) / h.

    Tweedie's denoiser D_t(z) = (z + (1 − a_t) ∇log p_t(z)) / √a_t has the symmetric Jacobian
    (I + (1 − a_t) ∇²log p_t(z)) / √a_t, so the vector-Jacobian product that back-propagation
    computes equals the Jacobian-vector product along v, the direction the loss pulls D_t(z) in;
    a forward difference gives it. v̂ = v √d / ‖v‖ (unit RMS per coordinate), h = ``fd_step``.
    """

    @staticmethod
    def forward(ctx, z: Tensor, prior: Prior, t: int, fd_step: float) -> Tensor:
        with torch.no_grad():
            d = prior.x0_pred(z, t)
        ctx.save_for_backward(z, d)
        ctx.prior, ctx.t, ctx.fd_step = prior, t, fd_step
        return d

    @staticmethod
    def backward(ctx, v: Tensor):
        z, d = ctx.saved_tensors
        shape = (-1,) + (1,) * (v.dim() - 1)
        norm = v.flatten(1).norm(dim=1).view(shape)
        scale = math.sqrt(v[0].numel()) / norm.clamp_min(torch.finfo(v.dtype).tiny)
        h = ctx.fd_step
        with torch.no_grad():
            jv = (ctx.prior.x0_pred(z + (h * scale) * v, ctx.t) - d) / (h * scale)
        return torch.where(norm > 0, jv, torch.zeros_like(jv)), None, None, None


def fd_denoiser(prior: Prior, z: Tensor, t: int, fd_step: float) -> Tensor:
    """D_t(z), differentiable with a forward-difference backward (one forward call, no VJP)."""
    return _ForwardDifferenceDenoiser.apply(z, prior, t, fd_step)


def _gaussian_jacobian_midpoint(
    prior: Prior,
    problem: InverseProblem,
    log_likelihood,
    solver: RegularizedSolver | None,
    t_mid: int,
    mean_prior: Tensor,
    std_prior: float,
    mean_init: Tensor,
    std_init: float,
    data_std: float,
    steps: int,
    lr: float,
    generator: torch.Generator | None,
) -> Tensor:
    """The midpoint x_ℓ with D_ℓ linearised at z_0 ~ N(μ_0, s_0² I) with slope c_ℓ I: drawn
    exactly from the Gaussian surrogate (``solver``, a linear operator) or fitted by Adam."""
    acp, op, sigma_y = prior.alphas_cumprod, problem.operator, float(problem.sigma_y)
    with torch.no_grad():
        # the linearisation point z_0: a draw from MGPS's starting Gaussian (the network is
        # called where MGPS calls it, on a noisy state, not on a mean)
        z0 = mean_init + std_init * randn_like(mean_init, generator)
        if t_mid > 1:
            c = gaussian_jacobian(float(acp[t_mid]), data_std)
            d0 = prior.x0_pred(z0, t_mid)
        else:  # at ℓ = 1 MGPS applies the likelihood to the draw itself
            c, d0 = 1.0, z0
        offset = d0 - c * z0  # D_ℓ(z) ≈ offset + c z
    if solver is not None:
        with torch.no_grad():
            a_offset = op.A(offset)
            y_pert = problem.y.to(z0) - a_offset + sigma_y * randn_like(a_offset, generator)
            prior_draw = mean_prior + std_prior * randn_like(mean_prior, generator)
            weight = sigma_y**2 / (c * std_prior) ** 2  # σ_y² / (c_ℓ² s²)
            return solver(c * prior_draw, weight, y_pert) / c

    def linearised_loss(z: Tensor, mu: Tensor, log_std: Tensor) -> Tensor:
        return -log_likelihood(offset + c * z) + _kl_to_isotropic(
            mu, log_std, mean_prior, std_prior
        )  # eq. (C.1) with the affine denoiser

    mu, log_std = _fit_gaussian(linearised_loss, mean_init, std_init, steps, lr, generator)
    return mu + log_std.exp() * randn_like(mu, generator)


@SAMPLERS.register(
    "mgps_jf",
    label="MGPS (Jacobian-free)",
    params=(
        Param("num_steps", low=2, high=1000, step=1, help="diffusion steps K"),
        Param("midpoint", low=0.0, high=1.0, step=0.05, help="η: midpoint ℓ_k = ⌊η t_k⌋"),
        Param(
            "midpoint_late",
            low=0.0,
            high=1.0,
            step=0.05,
            help="η for the second half (t_k ≤ T/2); empty: same as midpoint",
        ),
        Param(
            "data_std",
            low=0.01,
            high=100.0,
            step=0.01,
            help="σ_d of the Gaussian whose denoiser Jacobian stands in for the network's",
        ),
        Param(
            "jacobian",
            choices=JACOBIANS,
            help="gaussian: σ_d's scaled identity; forward_difference: the network's, one extra "
            "forward call per Adam iteration",
        ),
        Param(
            "fd_step",
            low=1e-5,
            high=1.0,
            step=1e-4,
            help="forward-difference step h (per-coordinate RMS), jacobian=forward_difference",
        ),
        Param(
            "step",
            choices=STEPS,
            help="gaussian: exact draw from the linearised surrogate (linear operators); adam: MGPS's fit",
        ),
        Param("lr", low=1e-4, high=1.0, step=0.001, help="Adam learning rate (step=adam)"),
        Param("warm_start", help="MGPS's two-stage warm start while t ≥ threshold·T"),
        Param(
            "warm_start_threshold",
            low=0.0,
            high=1.0,
            step=0.05,
            help="warm start while the upper time t ≥ threshold·T",
        ),
    ),
    tags={"pixel", "nonlinear"},
    reference="Moufad et al., ICLR 2025 (MGPS; its conclusion's VJP-free guidance), this project's variant",
    description="MGPS without back-propagating through the network: each VJP becomes a forward "
    "call (less memory, no time saved on a CPU); jacobian=gaussian: 3 forward calls a step, "
    "half the time, worse images",
)
def mgps_jf(
    prior: Prior,
    problem: InverseProblem,
    *,
    num_steps: int = 300,
    midpoint: float = 0.5,
    midpoint_late: float | None = None,
    data_std: float = 10.0,
    jacobian: str = "forward_difference",
    fd_step: float = 1e-2,
    step: str = "gaussian",
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
    """Jacobian-free MGPS posterior sampler; yields one :class:`Step` per diffusion step.

    Args are MGPS's (:func:`mgps.samplers.mgps.mgps`), plus:
        data_std: σ_d > 0 of the Gaussian-case Jacobian c_ℓ (:func:`gaussian_jacobian`).
        step: "gaussian" (closed-form draw; linear operators) or "adam" (MGPS's Adam fit on the
            linearised loss; always used for nonlinear operators). The Adam settings and the
            schedule M(i) also size the warm start, as in MGPS.
        jacobian: "gaussian" (c_ℓ I, above) or "forward_difference": MGPS's Adam fit on its own
            loss (C.1) with each vector-Jacobian product replaced by a forward difference along
            the loss's pull (:func:`fd_denoiser`; ``step`` and ``data_std`` are then unused).
        fd_step: h of the forward difference.

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
    if step not in STEPS:
        raise ValueError(f"step must be one of {', '.join(STEPS)}; got {step!r}")
    if jacobian not in JACOBIANS:
        raise ValueError(f"jacobian must be one of {', '.join(JACOBIANS)}; got {jacobian!r}")
    for name, value in (("data_std", data_std), ("fd_step", fd_step)):
        if not (isinstance(value, int | float) and value > 0 and math.isfinite(value)):
            raise ValueError(f"{name} must be a positive number, got {value!r}")
    forward_difference = jacobian == "forward_difference"
    acp = prior.alphas_cumprod
    T = acp.numel() - 1
    timesteps, x = start("mgps_jf", prior, problem, num_steps, num_samples, x_init, generator)
    op = problem.operator
    log_likelihood = log_likelihood_fn(prior, problem)
    closed_form = (
        not forward_difference and step == "gaussian" and bool(getattr(op, "linear", False))
    )
    solver = RegularizedSolver(op, problem.y) if closed_form else None

    with torch.no_grad():
        x0_hat = prior.x0_pred(x, timesteps[-1])
    for i in range(num_steps, 1, -1):
        t, t_prev = timesteps[i], timesteps[i - 1]
        t_mid, warm = midpoint_time(
            t, t_prev, T, midpoint, midpoint_late, warm_start, warm_start_threshold
        )
        steps = gradient_steps_at(
            i,
            num_steps,
            base=num_gradient_steps,
            initial=num_gradient_steps_initial,
            initial_iterations=initial_iterations,
            periodic=num_gradient_steps_periodic,
            period=gradient_period,
        )
        with torch.no_grad():
            mean_prior, std_prior = bridge_mean_std(
                acp, 0, t_mid, t, prior.x0_pred(x, t), x
            )  # p_{ℓ|k+1}
            mean_init, std_init = bridge_mean_std(
                acp, 1 if warm else 0, t_mid, t, x0_hat, x
            )  # eq. (3.9)
        if forward_difference:  # MGPS's own loss (C.1); its backward makes one forward call

            def fd_loss(z: Tensor, mu: Tensor, log_std: Tensor) -> Tensor:
                x0_of_z = fd_denoiser(prior, z, t_mid, fd_step) if t_mid > 1 else z
                return -log_likelihood(x0_of_z) + _kl_to_isotropic(
                    mu, log_std, mean_prior, std_prior
                )

            mu, log_std = _fit_gaussian(fd_loss, mean_init, std_init, steps, lr, generator)
            x_mid = mu + log_std.exp() * randn_like(mu, generator)
        else:
            x_mid = _gaussian_jacobian_midpoint(
                prior, problem, log_likelihood, solver, t_mid, mean_prior, std_prior,
                mean_init, std_init, data_std, steps, lr, generator,
            )  # fmt: skip
        ensure_finite(x_mid, "MGPS-JF", num_steps - i, num_steps, _HINT)

        with torch.no_grad():
            if warm:
                x1 = _warm_stage(prior, log_likelihood, acp, x_mid, t_mid, steps, lr, generator)
                x = bridge_sample(acp, 1, t_prev, t, x1, x, generator)
                x0_hat = x1
            else:
                x = bridge_sample(acp, t_mid, t_prev, t, x_mid, x, generator)
                x0_hat = prior.x0_pred(x_mid, t_mid)
        ensure_finite(x, "MGPS-JF", num_steps - i, num_steps, _HINT)
        yield Step(
            num_steps - i,
            num_steps,
            t_prev,
            x,
            x0_hat,
            {"midpoint": x_mid, "midpoint_time": t_mid, "warm": warm},
        )

    with torch.no_grad():
        x0 = ensure_finite(
            prior.x0_pred(x, timesteps[1]), "MGPS-JF", num_steps - 1, num_steps, _HINT
        )
    yield Step(num_steps - 1, num_steps, 0, x0, x0, {})
