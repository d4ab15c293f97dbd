"""Conjugate gradients against the SVD's closed forms, and the samplers that use them on
operators without an SVD (every sampler on every linear task)."""

from __future__ import annotations

import pytest
import torch

import mgps
from mgps.operators import has_svd, measure
from mgps.operators.solve import GramSolver, RegularizedSolver, conjugate_gradient
from mgps.presets import settings
from mgps.registry import OPERATORS

f64 = torch.float64
BLUR = {"kernel_size": 209, "std": 24.0}  # at 16×16: a 13×13 kernel, std 1.5 pixels


class HiddenSVD:
    """The same linear operator without its SVD (so the samplers take the CG path)."""

    linear, has_svd, name = True, False, "hidden_svd"

    def __init__(self, op) -> None:
        self.op = op

    def A(self, x):
        return self.op.A(x)

    def A_adjoint(self, y):
        return self.op.A_adjoint(y)

    def A_pinv(self, y):
        return self.op.A_pinv(y)


@pytest.fixture(scope="module")
def blur_svd():
    """The separable Gaussian blur with its SVD on 16×16 images: a 13×13 kernel of std 1.5
    pixels (the registered geometry scales 61 / 3 at 256 down to 16), every singular value kept."""
    return OPERATORS["gaussian_blur_svd"].obj((1, 16, 16), **BLUR, zero_threshold=0.0)


def test_conjugate_gradient_solves_a_dense_system():
    g = torch.Generator().manual_seed(0)
    M = torch.randn(6, 6, generator=g, dtype=f64)
    M = M @ M.T + 0.1 * torch.eye(6, dtype=f64)
    b = torch.randn(3, 6, generator=g, dtype=f64)
    x, iterations = conjugate_gradient(lambda v: v @ M, b, rtol=1e-12, max_iter=100)
    assert torch.allclose(x, torch.linalg.solve(M, b.T).T, atol=1e-9)
    assert iterations <= 20  # exact in at most n steps in exact arithmetic
    warm, again = conjugate_gradient(lambda v: v @ M, b, init=x, rtol=1e-10)
    assert again == 0 and torch.equal(warm, x)  # a converged start needs no iteration


@pytest.mark.parametrize("mu", [1e-2, 0.3, 3.0])
def test_cg_matches_the_svd_on_the_separable_blur(blur_svd, mu):
    g = torch.Generator().manual_seed(1)
    x0 = torch.randn(2, 1, 16, 16, generator=g, dtype=f64)
    y = blur_svd.A(torch.randn(2, 1, 16, 16, generator=g, dtype=f64))
    exact = RegularizedSolver(blur_svd, y)(x0, mu)
    cg = RegularizedSolver(blur_svd, y, use_svd=False, rtol=1e-10, max_iter=500)
    approx = cg(x0, mu)
    assert cg.last_iterations > 1
    assert float((approx - exact).norm() / exact.norm()) < 1e-6
    # the defining property: the gradient of the objective vanishes at the solution
    residual = blur_svd.A_adjoint(y - blur_svd.A(approx)) - mu * (approx - x0)
    assert float(residual.norm()) < 1e-6 * float(blur_svd.A_adjoint(y).norm())


def test_cg_warm_start_and_default_tolerance(blur_svd):
    g = torch.Generator().manual_seed(2)
    x0 = torch.randn(1, 1, 16, 16, generator=g, dtype=f64)
    y = blur_svd.A(torch.randn(1, 1, 16, 16, generator=g, dtype=f64))
    solver = RegularizedSolver(blur_svd, y, use_svd=False)
    first = solver(x0, 0.1)
    cold = solver.last_iterations
    second = solver(x0 + 1e-3 * torch.randn(1, 1, 16, 16, generator=g, dtype=f64), 0.11)
    assert solver.last_iterations < cold  # warm-started from the previous correction
    exact = RegularizedSolver(blur_svd, y)(x0, 0.1)
    assert float((first - exact).norm() / exact.norm()) < 1e-3  # relative residual 1e-4
    assert second.shape == first.shape


def test_gram_solver_matches_the_dense_inverse(blur_svd):
    g = torch.Generator().manual_seed(3)
    r = torch.randn(2, 1, 16, 16, generator=g, dtype=f64)
    A = mgps.dense_matrix(blur_svd, (1, 16, 16))
    for mu in (0.05, 1.0):
        w = GramSolver(blur_svd, rtol=1e-10, max_iter=500)(r, mu)
        dense = torch.linalg.solve(A @ A.T + mu * torch.eye(256, dtype=f64), r.reshape(2, -1).T).T
        assert torch.allclose(w.reshape(2, -1), dense, atol=1e-7)


def test_solver_refuses_a_nonlinear_operator():
    class Square:
        linear, name = False, "square"

    with pytest.raises(ValueError, match="needs a linear operator; 'square' is nonlinear"):
        RegularizedSolver(Square(), torch.zeros(1, 2))
    with pytest.raises(ValueError, match="μ must be positive"):
        RegularizedSolver(OPERATORS["gaussian_blur_svd"].obj((1, 8, 8)), torch.zeros(1, 1, 8, 8))(
            torch.zeros(1, 1, 8, 8), 0.0
        )


@pytest.mark.parametrize("name", ["diffpir", "pgdm"])
def test_cg_path_of_a_sampler_equals_its_svd_path(name, blur_svd):
    """DiffPIR's data step and PGDM's guidance are exact formulas: the CG path must give the
    same chain as the SVD's closed form (to CG's tolerance), from the same seed."""
    prior = mgps.GaussianMixturePrior(
        torch.ones(2),
        torch.stack([torch.full((256,), -0.5), torch.full((256,), 0.5)]).to(f64),
        event_shape=(1, 16, 16),
    )
    g = torch.Generator().manual_seed(4)
    x_true = prior.sample(1, g)
    problem = measure(x_true, blur_svd, 0.05, g)
    hidden = mgps.InverseProblem(HiddenSVD(blur_svd), problem.y, problem.sigma_y)

    def draw(p, seed=5):
        g = torch.Generator().manual_seed(seed)
        # every setting given (the signature's): a registered task would run its preset
        kwargs = {**settings(name), "num_steps": 30}
        return mgps.sample(name, prior, p, num_samples=2, generator=g, **kwargs)

    with_svd, with_cg, other_seed = draw(problem), draw(hidden), draw(problem, 6)
    # CG stops at a relative residual of 1e-4 at each of the 30 steps: the chains agree to
    # about 1e-3, far closer than two seeds of the same chain
    assert float((with_svd - with_cg).norm() / with_svd.norm()) < 1e-2
    assert float((with_svd - other_seed).norm() / with_svd.norm()) > 0.1


@pytest.mark.parametrize("name", ["ddnm", "diffpir", "pgdm"])
def test_blur_without_svd_is_accepted_and_restores(name):
    """Every linear-task sampler runs on the reflect-padded blur, and the mean of its samples is
    much closer to the exact posterior mean than the blurred observation is (a two-component
    mixture of random ±0.5 images, whose posterior is known)."""
    op = OPERATORS["gaussian_blur"].obj((1, 16, 16), **BLUR)
    assert not has_svd(op)
    g = torch.Generator().manual_seed(6)
    means = 0.5 * torch.randint(0, 2, (2, 256), generator=g).to(f64) * 2 - 0.5
    prior = mgps.GaussianMixturePrior(
        torch.ones(2), means, torch.full((2,), 0.01, dtype=f64), event_shape=(1, 16, 16)
    )
    problem = measure(prior.sample(1, g), op, 0.02, g)
    exact = prior.posterior_for(problem).mean().reshape(1, 1, 16, 16)
    g = torch.Generator().manual_seed(7)
    x = mgps.sample(name, prior, problem, num_steps=100, num_samples=16, generator=g)
    error = float((x.mean(0, keepdim=True) - exact).norm())
    assert error < 0.25 * float((problem.y - exact).norm()), (
        error,
        float((problem.y - exact).norm()),
    )
