"""Contract tests over every registered operator (deepinv's pattern), plus the SVD helpers."""

import pytest
import torch

import mgps
from mgps.operators import MatrixOperator, dense_matrix, has_svd, measure, svd_regularized_solve

f64 = torch.float64
SHAPES = {"any-shape": (3, 7, 5)}


def _make(name: str):
    entry = mgps.OPERATORS[name]
    shape = (
        (3, 7, 5) if "any-shape" in entry.tags else getattr(entry.obj, "test_shape", (3, 16, 16))
    )
    return entry.obj(shape, **entry.defaults()), shape


@pytest.fixture(params=mgps.OPERATORS.names())
def operator_and_shape(request):
    return _make(request.param)


def test_shapes_dtype_and_gradients(operator_and_shape, rng):
    op, shape = operator_and_shape
    x = torch.randn(2, *shape, generator=rng, dtype=f64, requires_grad=True)
    y = op.A(x)
    assert y.shape[0] == 2 and y.dtype == f64
    y.pow(2).sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
    assert op.A_pinv(y.detach()).shape == x.shape


def test_linear_contracts(operator_and_shape, rng):
    op, shape = operator_and_shape
    if not op.linear:
        pytest.skip("nonlinear operator")
    x = torch.randn(3, *shape, generator=rng, dtype=f64)
    y = op.A(x)
    v = torch.randn_like(y)
    lhs = (y * v).flatten(1).sum(1)
    rhs = (x * op.A_adjoint(v)).flatten(1).sum(1)
    assert torch.allclose(lhs, rhs, rtol=1e-8, atol=1e-8), "A_adjoint is not the adjoint of A"
    assert torch.allclose(op.A(op.A_pinv(y)), y, atol=1e-7), "A A⁺ A != A"
    xp = op.A_pinv(y)
    assert torch.allclose(op.A_pinv(op.A(xp)), xp, atol=1e-7), "A⁺ A A⁺ != A⁺"


def test_svd_reconstructs_operator(operator_and_shape, rng):
    op, shape = operator_and_shape
    if not has_svd(op):
        pytest.skip("no SVD")
    x = torch.randn(2, *shape, generator=rng, dtype=f64)
    s = op.singular_values().to(f64)
    c = op.V_adjoint(x)
    assert torch.allclose(op.V(c), x, atol=1e-8), "V Vᵀ != I"
    y = op.A(x)
    u = op.U_adjoint(y)
    assert torch.allclose(op.U(u), y, atol=1e-8), "U Uᵀ != I"
    via_svd = torch.zeros_like(u)
    via_svd[:, : s.numel()] = s * c[:, : s.numel()]
    assert torch.allclose(op.U(via_svd), y, atol=1e-8), "U diag(s) Vᵀ != A"


def test_matrix_operator_svd_and_solve(rng):
    M = torch.randn(4, 6, generator=rng, dtype=f64)
    op = MatrixOperator(M)
    assert torch.allclose(dense_matrix(op, (6,)), M)
    assert torch.allclose(op.A_pinv(torch.eye(4, dtype=f64)), torch.linalg.pinv(M).T, atol=1e-10)
    x0 = torch.randn(2, 6, generator=rng, dtype=f64)
    y = torch.randn(1, 4, generator=rng, dtype=f64)
    rho = 0.7
    expected = torch.linalg.solve(rho * torch.eye(6, dtype=f64) + M.T @ M, (rho * x0 + y @ M).T).T
    assert torch.allclose(svd_regularized_solve(op, x0, y, rho), expected, atol=1e-10)


def test_matrix_operator_rejects_bad_input():
    with pytest.raises(ValueError, match="2-D"):
        MatrixOperator(torch.ones(3))
    with pytest.raises(ValueError, match="NaN"):
        MatrixOperator(torch.tensor([[float("nan")]]))
    op = MatrixOperator(torch.ones(2, 3))
    with pytest.raises(ValueError, match=r"expected inputs of shape \(B, 3\)"):
        op.A(torch.ones(1, 4))


def test_measure_adds_explicit_noise(rng):
    op = MatrixOperator(torch.eye(3, dtype=f64))
    x = torch.zeros(1, 3, dtype=f64)
    problem = measure(x, op, 0.1, rng)
    assert problem.sigma_y == 0.1 and 0 < problem.y.abs().max() < 1
    assert torch.allclose(problem.residual(x), problem.y)
    with pytest.raises(ValueError, match="sigma_y must be positive"):
        measure(x, op, 0.0)
    with pytest.raises(ValueError, match="NaN"):
        mgps.InverseProblem(op, torch.tensor([[float("nan"), 0.0, 0.0]]), 0.1)
