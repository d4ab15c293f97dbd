"""Phase retrieval scored as the ambiguity it is: a sample is compared with the truth up to the
operator's trivial ambiguities (180° rotation, shifts within the padding), and shown in the
truth's orientation."""

import json

import torch

import mgps
from app import restoring
from mgps.cli import main
from mgps.metrics import psnr
from mgps.paper.exact_table import held_out_digits
from mgps.pipeline import prepare, restore
from mgps.utils.assets import ASSETS_DIR

IMAGE = str(ASSETS_DIR / "examples" / "digit_3_1.png")


def test_align_finds_the_twin_the_operator_cannot_tell_apart():
    truth = held_out_digits(3)
    op = mgps.OPERATORS["phase_retrieval"].obj((1, 28, 28))
    rotated = torch.flip(truth, (-2, -1))
    shifted = truth.roll((2, -1), (-2, -1))  # the digits' borders are background
    for twin in (rotated, shifted, torch.flip(shifted, (-2, -1))):
        assert torch.allclose(op.A(twin), op.A(truth), atol=1e-4)  # the same observation
        assert psnr(twin, truth).max() < 20
        assert torch.allclose(op.align(twin, truth), truth, atol=1e-5)
    # never below the plain score; a sample unlike every twin stays as it is
    noise = torch.rand(3, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 2 - 1
    aligned = op.align(noise, truth)
    assert (psnr(aligned, truth) >= psnr(noise, truth) - 1e-9).all()
    fit = (op.A(aligned) - op.A(noise)).flatten(1).norm(dim=1)
    assert (fit <= 1e-2 * op.A(noise).flatten(1).norm(dim=1)).all()


def test_restore_scores_phase_retrieval_up_to_its_symmetries(tmp_path):
    params = {"num_steps": 8}
    setup = prepare("digits", IMAGE, "phase_retrieval", seed=0)
    m = restore(setup, "mgps", num_samples=2, params=params, seed=0).metrics
    assert m["psnr_up_to"] == "180° rotation and shifts within the padding"
    assert all(a >= b - 1e-9 for a, b in zip(m["psnr"], m["psnr_plain"], strict=True))
    box = restore(prepare("digits", IMAGE, "box", seed=0), "mgps", params=params).metrics
    assert "psnr_up_to" not in box and "psnr_plain" not in box  # no ambiguity, no note

    out = tmp_path / "cli"
    argv = ["restore", "--prior", "digits", "--operator", "phase_retrieval", "--sampler", "mgps"]
    argv += ["--steps", "8", "--n-samples", "2", "--image", IMAGE, "--out", str(out), "--quiet"]
    assert main(argv) == 0
    assert json.loads((out / "metrics.json").read_text())["psnr"] == m["psnr"]

    request = restoring.RestoreRequest(
        IMAGE, operator="phase_retrieval", prior="digits", sampler="mgps",
        sampler_params=params, num_samples=2,
    )  # fmt: skip
    final = list(restoring.restore(request))[-1]
    assert "PSNR of the samples (dB, up to 180° rotation and shifts within the padding)" in (
        final.table
    )
    assert final.metrics["psnr"] == m["psnr"]
