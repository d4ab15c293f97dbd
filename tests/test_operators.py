"""Contract tests over every registered operator (deepinv's pattern), plus per-family tests.

Each factory may carry ``test_shapes`` (image sizes it supports, odd ones and grayscale
included) and ``example_params(shape)`` (arguments it needs, e.g. a mask); operators tagged
``needs-weights`` are skipped by the contract tests and tested with random weights below.
"""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import mgps
from mgps.operators import MatrixOperator, dense_matrix, has_svd, measure, svd_regularized_solve
from mgps.operators.blur import (
    ReflectBlur,
    gaussian_kernel_1d,
    motion_blur_kernel,
    scaled_kernel_geometry,
)
from mgps.operators.jpeg import dct_matrix, differentiable_round, quality_to_factor
from mgps.operators.masks import box_bounds
from mgps.operators.nonlinear_blur import KernelWizard
from mgps.operators.solve import cgls

f64 = torch.float64
DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def _shapes(entry) -> list[tuple[int, ...]]:
    if "any-shape" in entry.tags:
        return [(3, 7, 5)]
    shapes = getattr(entry.obj, "test_shapes", None)
    return list(shapes) if shapes else [getattr(entry.obj, "test_shape", (3, 16, 16))]


CASES = [
    (name, shape) for name in mgps.OPERATORS.names() for shape in _shapes(mgps.OPERATORS[name])
]


def _make(name: str, shape: tuple[int, ...]):
    entry = mgps.OPERATORS[name]
    if "needs-weights" in entry.tags:
        pytest.skip(f"{name} needs external weights (tag needs-weights); see its own tests")
    kwargs = entry.defaults()
    example = getattr(entry.obj, "example_params", None)
    if example is not None:
        kwargs.update(example(shape))
    return entry.obj(shape, **kwargs)


@pytest.fixture(params=CASES, ids=[f"{n}-{'x'.join(map(str, s))}" for n, s in CASES])
def operator_and_shape(request):
    name, shape = request.param
    return _make(name, shape), shape


def _is_iterative(op) -> bool:
    """Linear operators whose A⁺ is computed by an iterative solver (to a tolerance)."""
    return op.linear and not has_svd(op) and hasattr(op, "pinv_rtol")


# --------------------------------------------------------------------------- contracts


def test_shapes_dtype_and_gradients(operator_and_shape, rng):
    op, shape = operator_and_shape
    x = torch.randn(2, *shape, generator=rng, dtype=f64, requires_grad=True)
    y = op.A(x)
    assert y.shape[0] == 2 and y.dtype == f64
    y.pow(2).sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
    assert op.A_pinv(y.detach()).shape == x.shape
    assert isinstance(op.name, str) and op.name in mgps.OPERATORS


@pytest.mark.parametrize("device", DEVICES)
def test_float32_and_device_preserved(operator_and_shape, rng, device):
    op, shape = operator_and_shape
    x = (0.5 * torch.randn(2, *shape, generator=rng)).to(device)
    y = op.A(x)
    assert y.dtype == torch.float32 and y.device == x.device and torch.isfinite(y).all()
    x_back = op.A_pinv(y)
    assert x_back.dtype == torch.float32 and x_back.device == x.device and x_back.shape == x.shape
    if op.linear:
        x_adj = op.A_adjoint(y)
        assert x_adj.dtype == torch.float32 and x_adj.device == x.device
    if has_svd(op):
        assert op.V_r_adjoint(x).dtype == torch.float32


def test_observation_image(operator_and_shape, rng):
    op, shape = operator_and_shape
    if "image" not in mgps.OPERATORS[op.name].tags:
        pytest.skip("not an image operator")
    x = torch.rand(2, *shape, generator=rng, dtype=f64) * 2 - 1
    shown = op.observation_image(op.A(x))
    assert shown.ndim == 4 and shown.shape[0] == 2 and shown.shape[1] in (1, 3, shape[0])
    assert torch.isfinite(shown).all() and shown.min() >= -1 and shown.max() <= 1


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
    xp = op.A_pinv(y)
    if _is_iterative(op):
        # A⁺ by CGLS: A A⁺ y = y up to the solver's tolerance (slow on ill-conditioned kernels).
        residual = (op.A(xp) - y).flatten(1).norm(dim=1) / y.flatten(1).norm(dim=1)
        assert residual.max() < 1e-3, "A A⁺ A != A"
        return
    assert torch.allclose(op.A(xp), y, atol=1e-7), "A A⁺ A != A"
    assert torch.allclose(op.A_pinv(op.A(xp)), xp, atol=1e-7), "A⁺ A A⁺ != A⁺"


def test_svd_reconstructs_operator(operator_and_shape, rng):
    op, shape = operator_and_shape
    if not has_svd(op):
        pytest.skip("no SVD")
    x = torch.randn(2, *shape, generator=rng, dtype=f64)
    s = op.singular_values().to(f64)
    r = s.numel()
    c = op.V_adjoint(x)
    assert torch.allclose(op.V(c), x, atol=1e-8), "V Vᵀ != I"
    y = op.A(x)
    u = op.U_adjoint(y)
    assert torch.allclose(op.U(u).reshape(y.shape), y, atol=1e-8), "U Uᵀ != I"
    via_svd = torch.zeros_like(u)
    via_svd[:, :r] = s * c[:, :r]
    assert torch.allclose(op.U(via_svd).reshape(y.shape), y, atol=1e-8), "U diag(s) Vᵀ != A"
    # the thin forms agree with the full ones
    assert torch.allclose(op.V_r_adjoint(x), c[:, :r], atol=1e-10)
    assert torch.allclose(op.U_r_adjoint(y), u[:, :r], atol=1e-10)
    projected = torch.cat([c[:, :r], torch.zeros_like(c[:, r:])], 1)
    assert torch.allclose(op.V_r(c[:, :r]), op.V(projected), atol=1e-10)


def test_image_operators_reject_malformed_shapes_and_inputs():
    for name in mgps.OPERATORS.names(with_tag="image"):
        factory = mgps.OPERATORS[name].obj
        with pytest.raises(ValueError, match=name):
            factory((16, 16))
        with pytest.raises(ValueError, match=name):
            factory((3, 0, 16))
        if "needs-weights" in mgps.OPERATORS[name].tags:
            continue
        shape = _shapes(mgps.OPERATORS[name])[0]
        op = _make(name, shape)
        with pytest.raises(ValueError, match=rf"{name}: expected images of shape"):
            op.A(torch.zeros(1, shape[0], shape[1] + 1, shape[2]))


BAD_SIZES = {
    "box": ((3, 1, 2), r"box: a 1×2 image is too small"),
    "half": ((3, 4, 1), r"half: a 4×1 image has a single column"),
    "sr4": ((3, 30, 32), r"sr4: image size 30×32 is not divisible by 4.*multiples of 4"),
    "sr16": ((1, 32, 40), r"sr16: .*not divisible by 16.*width 32 or 48"),
    "jpeg": ((4, 16, 16), r"jpeg: .*1 channel.*3 channels"),
    "motion_blur": ((3, 1, 9), r"motion_blur: a 1×9 image is too small"),
    "nonlinear_blur": ((3, 100, 128), r"nonlinear_blur: image size 100×128.*multiples of 128"),
}


@pytest.mark.parametrize("name", sorted(BAD_SIZES))
def test_unsupported_sizes_raise_clear_errors(name):
    shape, message = BAD_SIZES[name]
    with pytest.raises(ValueError, match=message):
        mgps.OPERATORS[name].obj(shape, **mgps.OPERATORS[name].defaults())


def test_operator_tags_are_consistent():
    for entry in mgps.OPERATORS:
        linear, nonlinear = "linear" in entry.tags, "nonlinear" in entry.tags
        assert linear != nonlinear, f"{entry.name}: tag it linear or nonlinear"
        if "svd" in entry.tags:
            assert linear, entry.name


# --------------------------------------------------------------------------- matrix (kept)


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


# --------------------------------------------------------------------------- masks


def test_box_is_at_rows_and_columns_50_to_199_at_256():
    assert box_bounds(256) == (50, 200)
    op = mgps.OPERATORS["box"].obj((3, 256, 256))
    missing = ~op.mask
    assert missing[:, 50:200, 50:200].all() and missing.sum() == 3 * 150 * 150
    assert op.y_dim == 129_108
    x = torch.arange(3 * 256 * 256, dtype=f64).reshape(1, 3, 256, 256)
    y = op.A(x)
    assert torch.equal(y[0], x.flatten()[op.mask.flatten()])  # the vector of kept pixels
    shown = op.observation_image(torch.zeros_like(y), fill=-1.0)
    assert (shown[0, :, 50:200, 50:200] == -1).all() and (shown[0, :, :50] == 0).all()


def test_box_scales_with_the_image():
    op = mgps.OPERATORS["box"].obj((1, 28, 28))
    rows = torch.nonzero(~op.mask[0, :, 14]).flatten()
    assert rows.min() == round(50 / 256 * 28) and rows.max() == round(200 / 256 * 28) - 1


def test_half_removes_the_right_half():
    op = mgps.OPERATORS["half"].obj((3, 256, 256))
    assert op.y_dim == 98_304
    assert op.mask[:, :, :128].all() and not op.mask[:, :, 128:].any()
    odd = mgps.OPERATORS["half"].obj((1, 5, 7))
    assert odd.mask[0, 0].tolist() == [True] * 3 + [False] * 4


def test_free_form_mask_from_arrays_and_files(tmp_path):
    from PIL import Image

    factory = mgps.OPERATORS["mask"].obj
    grid = np.zeros((6, 5), dtype=bool)
    grid[:3] = True
    op = factory((3, 6, 5), mask=grid)  # a 2-D mask applies to every channel
    assert op.y_dim == 3 * 15 and op.mask[:, :3].all() and not op.mask[:, 3:].any()
    assert torch.equal(factory((3, 6, 5), mask=grid.astype(np.float32)).mask, op.mask)
    assert torch.equal(factory((3, 6, 5), mask=torch.from_numpy(grid)[None]).mask, op.mask)
    per_channel = np.stack([grid, ~grid, grid])
    assert factory((3, 6, 5), mask=per_channel).y_dim == 45
    path = tmp_path / "mask.png"
    Image.fromarray(np.where(grid, 255, 0).astype(np.uint8)).save(path)
    assert torch.equal(factory((3, 6, 5), mask=str(path)).mask, op.mask)  # white = observed
    assert torch.equal(factory((3, 6, 5), mask=Image.open(path)).mask, op.mask)


def test_free_form_mask_errors(tmp_path):
    factory = mgps.OPERATORS["mask"].obj
    shape = (3, 6, 5)
    with pytest.raises(ValueError, match="mask: give the mask"):
        factory(shape)
    with pytest.raises(ValueError, match="observes no pixel"):
        factory(shape, mask=np.zeros((6, 5)))
    with pytest.raises(ValueError, match="observes every pixel.*nothing to restore"):
        factory(shape, mask=np.ones((6, 5), dtype=bool))
    with pytest.raises(ValueError, match=r"mask has shape \(1, 5, 6\) but the image is 3×6×5"):
        factory(shape, mask=np.ones((5, 6)))
    with pytest.raises(ValueError, match=r"values must lie in \[0, 1\]"):
        factory(shape, mask=np.full((6, 5), 2.0))
    with pytest.raises(ValueError, match="does not exist"):
        factory(shape, mask=str(tmp_path / "missing.png"))
    garbage = tmp_path / "garbage.png"
    garbage.write_bytes(b"this is not an image")
    with pytest.raises(ValueError, match="could not read the mask image"):
        factory(shape, mask=str(garbage))
    from PIL import Image

    wrong = tmp_path / "wrong.png"
    Image.fromarray(np.full((7, 5), 255, dtype=np.uint8)).save(wrong)
    with pytest.raises(ValueError, match="an image file must be 5 pixels wide and 6 high"):
        factory(shape, mask=str(wrong))


# --------------------------------------------------------------------------- super-resolution


@pytest.mark.parametrize("name, factor", [("sr4", 4), ("sr16", 16)])
def test_sr_is_block_averaging_with_singular_value_one_over_r(name, factor, rng):
    shape = (3, 2 * factor, 3 * factor)
    op = mgps.OPERATORS[name].obj(shape)
    x = torch.randn(2, *shape, generator=rng, dtype=f64)
    blocks = x.reshape(2, 3, 2, factor, 3, factor)
    assert torch.allclose(op.A(x), blocks.mean((3, 5)))
    s = op.singular_values()
    assert s.numel() == 3 * 2 * 3 and torch.allclose(s, torch.full_like(s, 1 / factor))
    y = op.A(x)
    upsampled = y.repeat_interleave(factor, 2).repeat_interleave(factor, 3)
    assert torch.allclose(op.A_pinv(y), upsampled)


def test_sr_pinv_is_the_moore_penrose_inverse():
    op = mgps.OPERATORS["sr4"].obj((1, 8, 12))
    matrix = dense_matrix(op, (1, 8, 12))
    expected = torch.linalg.pinv(matrix)
    got = op.A_pinv(torch.eye(matrix.shape[0], dtype=f64).reshape(-1, 1, 2, 3)).reshape(-1, 96).T
    assert torch.allclose(got, expected, atol=1e-12)


# --------------------------------------------------------------------------- blur


def test_gaussian_kernel_matches_scipy_and_sums_to_one():
    ndimage = pytest.importorskip("scipy.ndimage")
    delta = np.zeros((61, 61))
    delta[30, 30] = 1.0
    expected = ndimage.gaussian_filter(delta, 3.0)
    g = gaussian_kernel_1d(61, 3.0)
    assert np.allclose(torch.outer(g, g).numpy(), expected, atol=1e-15)
    assert math.isclose(float(g.sum()), 1.0) and abs(float(g.max()) - 0.133) < 1e-3
    op = mgps.OPERATORS["gaussian_blur"].obj((3, 256, 256))
    assert op.kernel.shape == (61, 61) and math.isclose(float(op.kernel.sum()), 1.0)


def test_blur_kernels_scale_with_small_images():
    assert scaled_kernel_geometry((3, 256, 256), 61, 3.0) == (61, 3.0)
    assert scaled_kernel_geometry((3, 512, 512), 61, 3.0) == (61, 3.0)
    size, std = scaled_kernel_geometry((1, 28, 40), 61, 3.0)
    assert size == 7 and math.isclose(std, 3.0 * 28 / 256)
    assert scaled_kernel_geometry((1, 2, 2), 61, 3.0)[0] == 3
    op = mgps.OPERATORS["motion_blur"].obj((1, 28, 28))
    assert op.kernel.shape == (7, 7)


def test_motion_kernel_is_seeded_normalised_and_centred():
    k = motion_blur_kernel(61, 0.5, seed=0)
    assert torch.equal(k, motion_blur_kernel(61, 0.5, seed=0))
    assert not torch.equal(k, motion_blur_kernel(61, 0.5, seed=1))
    assert (k >= 0).all() and math.isclose(float(k.sum()), 1.0)
    grid = torch.arange(61, dtype=f64) - 30
    assert abs(float((k.sum(1) * grid).sum())) < 0.5 and abs(float((k.sum(0) * grid).sum())) < 0.5
    assert (k > 0).sum() > 61  # a path, not a point


def test_reflect_blur_matches_reflect_padded_conv_with_the_full_kernel(rng):
    shape = (2, 64, 48)
    for name in ("gaussian_blur", "motion_blur"):
        op = mgps.OPERATORS[name].obj(shape)
        k = op.kernel
        pad = k.shape[0] // 2
        x = torch.randn(2, *shape, generator=rng, dtype=f64)
        padded = F.pad(x, (pad,) * 4, mode="reflect")
        expected = F.conv2d(padded, k.expand(2, 1, *k.shape), groups=2)
        assert torch.allclose(op.A(x), expected, atol=1e-12), name


def test_reflect_boundary_keeps_constants_where_zero_padding_darkens():
    flat = torch.full((1, 1, 40, 40), 0.5, dtype=f64)
    reflect = mgps.OPERATORS["gaussian_blur"].obj((1, 40, 40), std=12.0)  # std 1.9 at 40
    assert torch.allclose(reflect.A(flat), flat)
    zero_padded = mgps.OPERATORS["gaussian_blur_svd"].obj((1, 40, 40), std=12.0, zero_threshold=0)
    out = zero_padded.A(flat)
    assert out[0, 0, 0, 0] < 0.4 and torch.allclose(out[0, 0, 20, 20], flat[0, 0, 20, 20])


def test_fft_and_direct_paths_agree_including_the_adjoint(rng):
    kernel = motion_blur_kernel(41, 0.7, seed=3)
    shape = (2, 40, 36)
    fft_op, direct_op = ReflectBlur(shape, kernel), ReflectBlur(shape, kernel)
    direct_op.use_fft = False
    assert fft_op.use_fft
    x = torch.randn(2, *shape, generator=rng, dtype=f64)
    assert torch.allclose(fft_op.A(x), direct_op.A(x), atol=1e-12)
    assert torch.allclose(fft_op.A_adjoint(x), direct_op.A_adjoint(x), atol=1e-12)
    v = torch.randn_like(x)
    assert torch.allclose((fft_op.A(x) * v).sum(), (x * fft_op.A_adjoint(v)).sum(), rtol=1e-10)


def test_cgls_gives_the_minimum_norm_solution(rng):
    # a kernel with a zero in its spectrum: A is singular, A⁺ is the minimum-norm solution
    kernel = torch.zeros(3, 3, dtype=f64)
    kernel[1, 1:] = 0.5
    op = ReflectBlur((1, 6, 7), kernel, pinv_rtol=1e-12, pinv_max_iter=2000)
    matrix = dense_matrix(op, (1, 6, 7))
    assert torch.linalg.matrix_rank(matrix) < 42
    y = torch.randn(2, 1, 6, 7, generator=rng, dtype=f64)
    expected = (torch.linalg.pinv(matrix) @ y.flatten(1).T).T.reshape(y.shape)
    assert torch.allclose(op.A_pinv(y), expected, atol=1e-8)
    assert torch.allclose(cgls(op.A, op.A_adjoint, torch.zeros_like(y)), torch.zeros_like(y))


def test_gaussian_blur_svd_is_zero_padded_separable_blur(rng):
    shape = (2, 20, 18)
    op = mgps.OPERATORS["gaussian_blur_svd"].obj(shape, std=20.0, zero_threshold=0.0)
    size, std = scaled_kernel_geometry(shape, 61, 20.0)
    g = gaussian_kernel_1d(size, std)
    x = torch.randn(2, *shape, generator=rng, dtype=f64)
    k = torch.outer(g, g)
    expected = F.conv2d(x, k.expand(2, 1, *k.shape), padding=size // 2, groups=2)
    assert torch.allclose(op.A(x), expected, atol=1e-12)
    thresholded = mgps.OPERATORS["gaussian_blur_svd"].obj(shape, std=20.0)
    s = thresholded.singular_values()
    assert s.numel() < op.singular_values().numel() and s.min() >= 0.03**2 - 1e-12
    assert bool((s[:-1] >= s[1:]).all())


# --------------------------------------------------------------------------- JPEG


def _smooth_image(shape, rng):
    """A smooth random image in [-0.8, 0.8] (few high frequencies, like a photo)."""
    coarse = torch.rand(1, shape[0], 4, 4, generator=rng, dtype=f64)
    return (
        F.interpolate(coarse, size=shape[1:], mode="bicubic", align_corners=True) * 1.6 - 0.8
    ).clamp(-0.8, 0.8)


def test_jpeg_building_blocks():
    assert (
        quality_to_factor(2) == 25 and quality_to_factor(50) == 1 and quality_to_factor(95) == 0.1
    )
    d = dct_matrix(8)
    assert torch.allclose(d @ d.T, torch.eye(8, dtype=f64), atol=1e-14)
    z = torch.tensor([1.0, 2.0, 2.25, -0.5], dtype=f64, requires_grad=True)
    out = differentiable_round(z)
    assert out[:2].tolist() == [1.0, 2.0] and math.isclose(out[2].item(), 2 + 0.25**3)
    out.sum().backward()
    assert z.grad[0] == 0 and z.grad[2] > 0


def _blockiness(img):
    """Mean jump across 8×8 block borders over the mean jump between other neighbours."""
    jumps = (img[..., 1:] - img[..., :-1]).abs().mean((0, 1, 2))
    at_border = torch.arange(jumps.numel()) % 8 == 7
    return float(jumps[at_border].mean() / jumps[~at_border].mean())


def test_jpeg_high_quality_is_close_to_identity(rng):
    grey = _smooth_image((1, 24, 16), rng)
    assert (mgps.OPERATORS["jpeg"].obj((1, 24, 16), quality=95).A(grey) - grey).abs().mean() < 0.01
    colour = _smooth_image((3, 32, 48), rng)
    error_95 = (mgps.OPERATORS["jpeg"].obj((3, 32, 48), quality=95).A(colour) - colour).abs().mean()
    error_2 = (mgps.OPERATORS["jpeg"].obj((3, 32, 48), quality=2).A(colour) - colour).abs().mean()
    assert error_95 < 0.03 and error_95 < error_2 / 5  # colour: 4:2:0 chroma costs a little


def test_jpeg_quality_2_is_blocky_in_range_and_differentiable(rng):
    shape = (3, 32, 32)
    op = mgps.OPERATORS["jpeg"].obj(shape)
    x = _smooth_image(shape, rng).requires_grad_(True)
    y = op.A(x)
    assert y.min() >= -1 and y.max() <= 1
    assert _blockiness(x.detach()) < 1.5 and _blockiness(y.detach()) > 10
    y.sum().backward()
    assert x.grad.abs().sum() > 0
    assert torch.equal(op.A_pinv(y.detach()), y.detach())
    with pytest.raises(ValueError, match=r"quality must lie in \[1, 99\]"):
        mgps.OPERATORS["jpeg"].obj(shape, quality=100)


def test_jpeg_pads_by_replication_and_crops(rng):
    shape = (1, 20, 13)
    x = torch.rand(1, *shape, generator=rng, dtype=f64) * 2 - 1
    padded = F.pad(x, (0, 3, 0, 4), mode="replicate")
    expected = mgps.OPERATORS["jpeg"].obj((1, 24, 16), quality=20).A(padded)[:, :, :20, :13]
    assert torch.allclose(mgps.OPERATORS["jpeg"].obj(shape, quality=20).A(x), expected)


# --------------------------------------------------------------------------- phase retrieval, HDR


def test_phase_retrieval_matches_numpy_and_has_the_trivial_ambiguity(rng):
    shape = (3, 37, 31)
    op = mgps.OPERATORS["phase_retrieval"].obj(shape)
    assert op.padding == (9, 7) and op.y_shape == (3, 55, 45)
    x = torch.rand(2, *shape, generator=rng, dtype=f64) * 2 - 1
    u = np.pad((x.numpy() + 1) / 2, ((0, 0), (0, 0), (9, 9), (7, 7)))
    spectrum = np.fft.fftshift(
        np.fft.fft2(np.fft.ifftshift(u, axes=(-2, -1)), norm="ortho"), axes=(-2, -1)
    )
    assert np.allclose(op.A(x).numpy(), np.abs(spectrum), atol=1e-12)
    assert torch.allclose(op.A(x.flip(-2, -1)), op.A(x), atol=1e-12)  # 180° rotation
    assert mgps.OPERATORS["phase_retrieval"].obj((3, 256, 256)).y_shape == (3, 384, 384)
    start = op.A_pinv(op.A(x))
    assert torch.allclose(start.mean((2, 3)), x.mean((2, 3)), atol=1e-10)
    assert torch.allclose(start, start[:, :, :1, :1].expand_as(start))


def test_hdr_clips_and_its_pinv_halves():
    op = mgps.OPERATORS["hdr"].obj((1, 1, 4))
    x = torch.tensor([[[[-0.9, -0.2, 0.3, 0.7]]]], dtype=f64, requires_grad=True)
    y = op.A(x)
    assert torch.allclose(y, torch.tensor([[[[-1.0, -0.4, 0.6, 1.0]]]], dtype=f64))
    assert torch.allclose(op.A_pinv(y), torch.tensor([[[[-0.5, -0.2, 0.3, 0.5]]]], dtype=f64))
    y.sum().backward()
    assert x.grad.flatten().tolist() == [0.0, 2.0, 2.0, 0.0]


# --------------------------------------------------------------------------- nonlinear blur


@pytest.fixture(scope="module")
def random_kernel_wizard_weights(tmp_path_factory):
    """A state dict with the GOPRO_wVAE layout and random values (the real file is external)."""
    generator = torch.Generator().manual_seed(0)
    model = KernelWizard()
    state = {
        k: 0.02 * torch.randn(v.shape, generator=generator) for k, v in model.state_dict().items()
    }
    state["kernel_extractor.model.1.weight"] = torch.zeros(64, 128, 7, 7)  # the encoder: skipped
    path = tmp_path_factory.mktemp("weights") / "GOPRO_wVAE.pth"
    torch.save(state, path)
    return path


def test_nonlinear_blur_needs_weights(tmp_path):
    factory = mgps.OPERATORS["nonlinear_blur"].obj
    assert "needs-weights" in mgps.OPERATORS["nonlinear_blur"].tags
    with pytest.raises(ValueError, match="no weights given.*GOPRO_wVAE.pth.*bkse"):
        factory((3, 256, 256))
    with pytest.raises(ValueError, match="not found.*GOPRO_wVAE.pth"):
        factory((3, 256, 256), weights=str(tmp_path / "GOPRO_wVAE.pth"))
    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="could not read"):
        factory((3, 256, 256), weights=str(garbage))
    wrong = tmp_path / "wrong.pth"
    torch.save({"conv.weight": torch.zeros(1)}, wrong)
    with pytest.raises(ValueError, match="does not match the KernelWizard"):
        factory((3, 256, 256), weights=str(wrong))
    with pytest.raises(ValueError, match="RGB images"):
        factory((1, 256, 256), weights=str(wrong))


def test_nonlinear_blur_with_random_weights(random_kernel_wizard_weights):
    factory = mgps.OPERATORS["nonlinear_blur"].obj
    op = factory((3, 128, 128), weights=str(random_kernel_wizard_weights), seed=0)
    assert op.kernel.shape == (1, 512, 1, 1) and not op.linear
    x = torch.rand(1, 3, 128, 128, generator=torch.Generator().manual_seed(1)) * 2 - 1
    x.requires_grad_(True)
    y = op.A(x)
    assert y.shape == x.shape and y.dtype == torch.float32 and y.min() >= -1 and y.max() <= 1
    y.sum().backward()
    assert x.grad.abs().sum() > 0
    x, y = x.detach(), y.detach()
    with torch.no_grad():
        assert torch.equal(op.A(x), y)  # the kernel is drawn once: a deterministic map
        other = factory((3, 128, 128), weights=str(random_kernel_wizard_weights), seed=1)
        assert not torch.allclose(other.A(x), y)
        assert torch.equal(op.A_pinv(y), y)
        y64 = op.A(x.double())
    assert y64.dtype == f64 and torch.allclose(y64.float(), y, atol=1e-4)
