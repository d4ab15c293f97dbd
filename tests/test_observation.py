"""Bring your own image: an image that is already degraded, taken as the observation y
(``mgps/observation.py``, ``prepare_observation``, ``mgps restore --observation``)."""

from __future__ import annotations

import importlib.util
import io
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

import mgps
from mgps.cli import main
from mgps.observation import ACCEPTED, QUANTISATION_SIGMA, suggest_sigma_y
from mgps.paper.defaults import held_out
from mgps.pipeline import (
    estimate_noise_sigma,
    observation_refusal,
    prepare_observation,
    read_jpeg_quality,
    summarise,
    write_run,
)


def _digit(k: int) -> Image.Image:
    """Held-out test digit ``k`` (not seen by the prior's training) as an 8-bit PIL image."""
    images, _ = held_out("digits", 1, first=k)
    return Image.fromarray(np.round((images[0, 0].numpy() + 1) * 127.5).astype(np.uint8))


def _jpeg(image: Image.Image, quality: int) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    return Image.open(io.BytesIO(buffer.getvalue()))


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    diff = (np.asarray(a, np.float64) - np.asarray(b, np.float64)) / 127.5
    return float(10 * np.log10(4 / np.mean(diff**2)))


# ------------------------------------------------------------------- JPEG quality, noise level
@pytest.mark.parametrize("quality", [10, 50, 90])
@pytest.mark.parametrize("mode", ["L", "RGB"])
def test_read_jpeg_quality_reads_back_pillows_quality(quality, mode, tmp_path):
    rng = np.random.default_rng(quality)
    image = Image.fromarray(rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)).convert(mode)
    path = tmp_path / "x.jpg"
    image.save(path, quality=quality)
    assert read_jpeg_quality(path) == quality
    assert read_jpeg_quality(str(path)) == quality
    assert read_jpeg_quality(path.read_bytes()) == quality
    with Image.open(path) as opened:
        assert read_jpeg_quality(opened) == quality


def test_read_jpeg_quality_is_none_for_other_inputs(tmp_path):
    image = Image.new("L", (16, 16), 128)
    image.save(tmp_path / "x.png")
    assert read_jpeg_quality(tmp_path / "x.png") is None
    assert read_jpeg_quality(image) is None
    assert read_jpeg_quality(np.zeros((8, 8), np.uint8)) is None
    assert read_jpeg_quality(tmp_path / "missing.jpg") is None


@pytest.mark.parametrize("sigma", [0.02, 0.05, 0.1])
def test_estimate_noise_sigma_on_known_noise(sigma):
    gen = torch.Generator().manual_seed(0)
    rows, cols = torch.meshgrid(torch.linspace(-1, 1, 96), torch.linspace(-1, 1, 96), indexing="ij")
    smooth = 0.5 * torch.sin(2 * rows) * torch.cos(3 * cols)  # smooth content: no answer
    digit = torch.from_numpy(np.asarray(_digit(0).resize((96, 96)), np.float32) / 127.5 - 1)
    for clean in (smooth, 0.8 * digit):  # and a sharp-edged, mostly flat image
        noisy = clean + sigma * torch.randn(clean.shape, generator=gen)
        assert estimate_noise_sigma(noisy) == pytest.approx(sigma, rel=0.15)
        assert estimate_noise_sigma(noisy[None].expand(3, -1, -1)) == pytest.approx(sigma, rel=0.15)
    assert estimate_noise_sigma(smooth) < 0.005
    assert estimate_noise_sigma(torch.zeros(20, 20)) == 0.0


def test_estimate_noise_sigma_reads_files_and_masks(tmp_path):
    rng = np.random.default_rng(1)
    noisy = np.clip(128 + rng.normal(0, 0.05 * 127.5, (64, 64)), 0, 255).astype(np.uint8)
    Image.fromarray(noisy).save(tmp_path / "n.png")
    assert estimate_noise_sigma(tmp_path / "n.png") == pytest.approx(0.05, rel=0.15)
    observed = np.ones((64, 64), bool)
    observed[:, 32:] = False
    assert estimate_noise_sigma(tmp_path / "n.png", observed=observed) == pytest.approx(
        0.05, rel=0.2
    )
    with pytest.raises(ValueError, match="at least 3×3"):
        estimate_noise_sigma(torch.zeros(2, 2))


# ------------------------------------------------------------------- refusals and rules
@pytest.mark.parametrize(
    "operator, why",
    [
        ("phase_retrieval", "magnitude of an oversampled Fourier transform"),
        ("hdr", "synthetic over-exposure"),
        ("nonlinear_blur", "KernelWizard weights"),
        ("gaussian_matrix", "does not act on images"),
        ("ecg_missing_block", "does not act on images"),
    ],
)
def test_refused_operators_say_why(operator, why, tmp_path, capsys):
    message = observation_refusal(operator)
    assert message is not None and operator in message and why in message
    with pytest.raises(ValueError, match="cannot restore an image that is already degraded"):
        prepare_observation("digits", np.zeros((28, 28), np.uint8), operator)
    Image.new("L", (28, 28)).save(tmp_path / "y.png")
    args = ["restore", "--prior", "digits", "--operator", operator, "--sampler", "mgps"]
    code = main([*args, "--observation", str(tmp_path / "y.png"), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: ") and operator in err and why in err
    assert "Traceback" not in err


def test_accepted_operators_are_not_refused():
    assert all(observation_refusal(name) is None for name in ACCEPTED)
    assert set(ACCEPTED) <= set(mgps.OPERATORS.names(with_tag="image"))
    with pytest.raises(ValueError, match="unknown operator 'boxx'"):
        observation_refusal("boxx")


def test_prepare_observation_takes_the_file_as_y(tmp_path):
    digit = _digit(1)
    low = digit.resize((7, 7), Image.BOX)
    setup = prepare_observation("digits", low, "sr4", sigma_y=0.01, truth=digit)
    expected = torch.from_numpy(np.asarray(low, np.float32) / 127.5 - 1)
    assert torch.allclose(setup.problem.y.reshape(7, 7), expected, atol=1e-6)  # y is the file
    assert setup.input_mode == "observation" and setup.operator_params == {"factor": 4}
    assert setup.problem.sigma_y == 0.01 and setup.x_true.shape == (1, 1, 28, 28)
    # a file at another size is brought to the prior's size ÷ 4, with a note
    setup = prepare_observation("digits", digit, "sr4")
    assert any("÷ 4" in n and "resized" in n for n in setup.notes)
    assert setup.x_true is None and setup.problem.y.shape == (1, 1, 7, 7)
    assert any("too small to estimate its noise" in n for n in setup.notes)
    assert setup.problem.sigma_y == pytest.approx(QUANTISATION_SIGMA)


def test_suggested_noise_levels():
    gen = torch.Generator().manual_seed(0)
    noisy = (0.1 * torch.randn(1, 1, 32, 32, generator=gen)).clamp(-1, 1)
    sigma, note = suggest_sigma_y(noisy)
    assert sigma == pytest.approx(0.1, rel=0.2) and "estimated from the image" in note
    sigma, note = suggest_sigma_y(torch.zeros(1, 1, 32, 32))
    assert sigma == QUANTISATION_SIGMA and "raised to the 8-bit rounding noise" in note
    # a JPEG file: the operator's own error on it (its rounding is smooth) sets the level
    setup = prepare_observation("digits", _jpeg(_digit(7), 10), "jpeg")
    y = setup.problem.y
    error = float((setup.operator.A(y) - y).pow(2).mean().sqrt())
    assert setup.problem.sigma_y == pytest.approx(error) and error > 0.01
    assert any("operator's own error on the file" in n for n in setup.notes)


def test_prepare_observation_blur_and_mask_rules():
    digit = _digit(2)
    setup = prepare_observation("digits", digit, "gaussian_blur", operator_params={"std": 2.0})
    assert setup.operator_params == {"kernel_size": 61, "std": 2.0}
    assert any("kernel_size=61" in n for n in setup.notes)  # the default used, said
    assert any("is 7×7 pixels, std 0.22 pixels" in n for n in setup.notes)  # at 28×28
    assert torch.allclose(
        setup.problem.y, torch.from_numpy(np.asarray(digit, np.float32) / 127.5 - 1)[None, None]
    )
    with pytest.raises(ValueError, match="needs a mask marking the damaged part"):
        prepare_observation("digits", digit, "mask")
    hole = np.zeros((28, 28), np.uint8)
    hole[5:10, 5:10] = 255  # the marks are the damage
    setup = prepare_observation("digits", digit, "mask", mask=hole, sigma_y=0.02)
    assert setup.problem.y.numel() == 28 * 28 - 25
    with pytest.raises(ValueError, match="mask is fixed"):
        prepare_observation("digits", digit, "box", mask=hole)
    with pytest.raises(ValueError, match="sigma_y"):
        prepare_observation("digits", digit, "box", sigma_y=0.0)


def test_jpeg_quality_from_the_file_or_the_user(tmp_path):
    digit = _digit(3)
    digit.save(tmp_path / "d.jpg", quality=30)
    setup = prepare_observation("digits", tmp_path / "d.jpg", "jpeg")
    assert setup.operator_params == {"quality": 30} and setup.operator.quality == 30
    assert any("quality 30 read from the file" in n for n in setup.notes)
    assert any("file's own quantisation tables" in n for n in setup.notes)
    with Image.open(tmp_path / "d.jpg") as opened:
        steps = np.asarray(opened.quantization[0], np.float64).reshape(8, 8).T
    assert np.array_equal(setup.operator._luminance_step.numpy(), steps)
    setup = prepare_observation(
        "digits", tmp_path / "d.jpg", "jpeg", operator_params={"quality": 12}
    )
    assert setup.operator_params == {"quality": 12}
    assert any("tables say quality 30" in n for n in setup.notes)
    digit.save(tmp_path / "d.png")
    with pytest.raises(ValueError, match="quality=Q"):
        prepare_observation("digits", tmp_path / "d.png", "jpeg")
    setup = prepare_observation(
        "digits", tmp_path / "d.png", "jpeg", operator_params={"quality": 5}
    )
    assert setup.operator_params == {"quality": 5}


def test_summarise_without_truth_has_no_psnr_and_write_run(tmp_path):
    setup = prepare_observation("digits", _digit(4), "box", sigma_y=0.05)
    samples = torch.zeros(2, 1, 28, 28)
    result = summarise(setup, samples, seconds=1.0)
    m = result.metrics
    assert m["psnr"] is None and m["ssim"] is None and m["psnr_mean_image"] is None
    assert "not known" in m["psnr_note"] and "σ_y" in m["psnr_note"]
    assert m["input_mode"] == "observation" and m["operator_params"] == {}
    paths = write_run(tmp_path / "run", setup, result)
    names = sorted(p.name for p in paths)
    assert names == sorted(
        [
            "observation.png",
            "sample_0.png",
            "sample_1.png",
            "mean.png",
            "std.png",
            "best.png",
            "metrics.json",
        ]
    )
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["psnr"] is None
    setup = prepare_observation("digits", _digit(4), "box", sigma_y=0.05, truth=_digit(4))
    m = summarise(setup, samples).metrics
    assert len(m["psnr"]) == 2 and "psnr_note" not in m
    assert (write_run(tmp_path / "run2", setup, summarise(setup, samples))[0]).name == "input.png"


# ------------------------------------------------------------------- the command line
def _args(*extra: str) -> list[str]:
    return ["restore", "--prior", "digits", "--sampler", "mgps", "--steps", "2", *extra]


def test_image_and_observation_are_exclusive_and_one_is_needed(tmp_path, capsys):
    _digit(0).save(tmp_path / "d.png")
    both = _args("--operator", "box", "--image", str(tmp_path / "d.png"))
    both += ["--observation", str(tmp_path / "d.png"), "--out", str(tmp_path / "o")]
    with pytest.raises(SystemExit) as exit_info:
        main(both)
    assert exit_info.value.code == 2 and "not allowed with argument" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(_args("--operator", "box", "--out", str(tmp_path / "o")))
    assert "one of the arguments --image --observation is required" in capsys.readouterr().err
    code = main(
        _args(
            "--operator",
            "box",
            "--image",
            str(tmp_path / "d.png"),
            "--truth",
            str(tmp_path / "d.png"),
        )
        + ["--out", str(tmp_path / "o")]
    )
    assert code == 2 and "--truth" in capsys.readouterr().err


def test_help_describes_the_observation_mode(capsys):
    with pytest.raises(SystemExit):
        main(["restore", "--help"])
    out = capsys.readouterr().out
    for text in ("--observation", "--truth", "quantisation tables", "estimated from the image"):
        assert text in out


def test_observation_without_truth_prints_the_noise_estimate_and_no_psnr(tmp_path, capsys):
    low = _digit(5).resize((7, 7), Image.BOX)
    low.save(tmp_path / "low.png")
    args = _args("--operator", "sr4", "--observation", str(tmp_path / "low.png"))
    assert main([*args, "--out", str(tmp_path / "o"), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "noise level σ_y" in out and "no PSNR (no --truth given)" in out
    metrics = json.loads((tmp_path / "o" / "metrics.json").read_text())
    assert metrics["psnr"] is None and metrics["input_mode"] == "observation"
    assert not (tmp_path / "o" / "input.png").exists()
    assert Image.open(tmp_path / "o" / "observation.png").size == (7, 7)


def test_a_png_under_jpeg_asks_for_the_quality(tmp_path, capsys):
    _digit(6).save(tmp_path / "d.png")
    args = _args("--operator", "jpeg", "--observation", str(tmp_path / "d.png"))
    assert main([*args, "--out", str(tmp_path / "o")]) == 2
    assert "quality=Q" in capsys.readouterr().err
    assert main([*args, "--op-param", "quality=20", "--out", str(tmp_path / "o"), "--quiet"]) == 0
    metrics = json.loads((tmp_path / "o" / "metrics.json").read_text())
    assert metrics["operator_params"] == {"quality": 20}


# ------------------------------------------------------------------- restorations beat naive answers
def _harmonic_fill(image: np.ndarray, missing: np.ndarray) -> np.ndarray:
    """The hole filled from its surroundings: the mean of the rest, then repeated averaging
    of the four neighbours inside the hole (a discrete Laplace equation)."""
    x = image.astype(np.float64).copy()
    x[missing] = x[~missing].mean()
    for _ in range(300):
        p = np.pad(x, 1, mode="edge")
        x[missing] = ((p[:-2, 1:-1] + p[2:, 1:-1] + p[1:-1, :-2] + p[1:-1, 2:]) / 4)[missing]
    return np.round(x)


# three held-out test digits of different classes (test split of assets/data/digits.npz)
DIGITS = (0, 1, 2)


def test_own_images_restored_through_observation_beat_the_naive_answers(tmp_path):
    """Each digit is degraded here with Pillow only, then restored from the damaged file
    alone; the restoration (mean image, PSNR against the truth) beats the naive answer."""
    gains = {"sr4": [], "jpeg": [], "mask": []}
    for k in DIGITS:
        truth = _digit(k)
        truth.save(tmp_path / f"truth{k}.png")
        low = truth.resize((7, 7), Image.BOX)
        low.save(tmp_path / f"low{k}.png")
        buffer = io.BytesIO()
        truth.save(buffer, format="JPEG", quality=10)
        (tmp_path / f"d{k}.jpg").write_bytes(buffer.getvalue())
        painted = truth.copy()
        ImageDraw.Draw(painted).rectangle([9, 9, 18, 18], fill=255)  # a hole painted over
        painted.save(tmp_path / f"painted{k}.png")
        marks = Image.new("L", (28, 28), 0)
        ImageDraw.Draw(marks).rectangle([9, 9, 18, 18], fill=255)
        marks.save(tmp_path / f"marks{k}.png")
        missing = np.asarray(marks) > 0
        naive = {
            "sr4": np.asarray(low.resize((28, 28), Image.BICUBIC)),
            "jpeg": np.asarray(Image.open(tmp_path / f"d{k}.jpg")),
            "mask": _harmonic_fill(np.asarray(painted), missing),
        }
        files = {"sr4": f"low{k}.png", "jpeg": f"d{k}.jpg", "mask": f"painted{k}.png"}
        for operator, name in files.items():
            out = tmp_path / f"{operator}{k}"
            args = _args("--operator", operator, "--observation", str(tmp_path / name))
            args += ["--truth", str(tmp_path / f"truth{k}.png"), "--steps", "20"]
            if operator == "mask":
                args += ["--mask", str(tmp_path / f"marks{k}.png")]
            assert main([*args, "--seed", "0", "--out", str(out), "--quiet"]) == 0
            metrics = json.loads((out / "metrics.json").read_text())
            if operator == "jpeg":
                assert metrics["operator_params"] == {"quality": 10}  # read from the file
            restored = np.asarray(Image.open(out / "mean.png"))
            assert metrics["psnr_mean_image"] == pytest.approx(
                _psnr(restored, np.asarray(truth)), abs=0.1
            )
            gains[operator].append(metrics["psnr_mean_image"] - _psnr(naive[operator], truth))
    for operator, gain in gains.items():
        assert np.mean(gain) > 0, f"{operator}: restoration − naive PSNR per digit {gain}"


def test_the_measuring_script_runs_tiny(tmp_path):
    """scripts/own_image_table.py (the README's figure), on one digit with 2 steps."""
    spec = importlib.util.spec_from_file_location(
        "own_image_table", Path(__file__).resolve().parents[1] / "scripts" / "own_image_table.py"
    )
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    argv = ["--n-images", "1", "--first", "3", "--steps", "2", "--out", str(tmp_path), "--keep"]
    assert script.main(argv) == 0
    rows = json.loads((tmp_path / "table.json").read_text())["rows"]
    assert set(rows) == {"sr4", "jpeg", "mask"} and rows["jpeg"][0]["operator_params"] == {
        "quality": 10
    }
    assert "| JPEG quality 10 | `jpeg` |" in (tmp_path / "table.md").read_text()
    assert (tmp_path / "runs" / "mask_3" / "mean.png").exists()
