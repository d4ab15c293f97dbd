"""The scripts under ``scripts/`` (not part of the command line), run tiny."""

import importlib.util
import json
import signal
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load(name: str, folder: str = "scripts"):
    spec = importlib.util.spec_from_file_location(name, ROOT / folder / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_digits_sweep_tiny(tmp_path):
    sweep = _load("digits_mgps_sweep")
    configs = [
        "dps3:dps:num_steps=3",
        "mgps3:mgps:num_steps=3,samples=2",
        "broken:mgps:num_steps=3,midpoint=2",
    ]
    sweep.main(
        [
            "--operators",
            "box",
            "--first",
            "3",
            "--n-images",
            "2",
            "--config",
            *configs,
            "--out",
            str(tmp_path),
            "--note",
            "A tiny check.",
        ]
    )
    results = json.loads((tmp_path / "sweep.json").read_text())
    assert (results["first"], results["n"]) == (3, 2)
    runs = results["runs"]["box"]
    assert len(runs["dps3"]["psnr"]) == 2 and "diff_to_reference" not in runs["dps3"]
    assert set(runs["dps3"]["right_label"]) <= {0.0, 1.0} and len(runs["dps3"]["right_label"]) == 2
    assert results["clean_right_label_rate"] == 1.0  # the classifier knows test digits 3 and 4
    assert 0.0 <= runs["dps3"]["junk_rate"] <= 1.0
    mgps3 = runs["mgps3"]
    assert mgps3["samples_per_image"] == 2
    assert mgps3["params"]["lr"] == 0.1  # the task preset, under the command line's settings
    assert mgps3["diff_to_reference"] == pytest.approx(
        np.mean(np.subtract(mgps3["psnr"], runs["dps3"]["psnr"]))
    )
    assert mgps3["right_label_diff"] == pytest.approx(
        np.mean(np.subtract(mgps3["right_label"], runs["dps3"]["right_label"]))
    )
    assert "midpoint must lie in [0, 1]" in runs["broken"]["failed"]  # reported, not raised
    table = (tmp_path / "sweep.md").read_text()
    assert "held-out test digits 3–4" in table and "| broken |" in table
    assert (
        "| right digit | Δ right digit | junk |" in table
        and "labels 100 % of the clean digits right" in table
    )
    steps = json.loads((ROOT / "assets/priors/digits/training.json").read_text())["steps"]
    assert (
        table.startswith("A tiny check.\n")
        and f"Prior `digits` ({steps:,} training steps)" in table
    )

    # the exact posterior as a configuration: only for a prior that has one
    sweep.main(
        [
            "--operators",
            "box",
            "--first",
            "3",
            "--n-images",
            "2",
            "--config",
            "exact:exact",
            "--out",
            str(tmp_path / "ddpm"),
        ]
    )
    failed = json.loads((tmp_path / "ddpm" / "sweep.json").read_text())["runs"]["box"]["exact"]
    assert "has no exact posterior; use --prior digits-exact" in failed["failed"]
    sweep.main(
        [
            "--prior",
            "digits-exact",
            "--operators",
            "box",
            "--first",
            "3",
            "--n-images",
            "1",
            "--config",
            "exact:exact",
            "--out",
            str(tmp_path / "exact"),
        ]
    )
    exact = json.loads((tmp_path / "exact" / "sweep.json").read_text())["runs"]["box"]["exact"]
    assert (
        0.7 < exact["residual_over_expected"] < 1.3
    )  # an exact posterior sample fits y to the noise

    # --previous reuses runs by name, and refuses a sweep over other digits
    with pytest.raises(AssertionError, match="another --first"):
        sweep.main(
            [
                "--operators",
                "box",
                "--n-images",
                "2",
                "--config",
                "dps3:dps:num_steps=3",
                "--previous",
                str(tmp_path / "sweep.json"),
            ]
        )


@pytest.fixture
def keep_signal_handlers():
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    yield
    for s, handler in saved.items():
        signal.signal(s, handler)


def test_train_resume_with_a_new_schedule_then_export(tmp_path, keep_signal_handlers):
    from diffusers import UNet2DModel

    train_prior = _load("train_prior", "scripts")
    rng = np.random.default_rng(0)
    data = tmp_path / "tiny.npz"
    np.savez(
        data,
        train_images=rng.integers(0, 256, (32, 28, 28), dtype=np.uint8),
        test_images=rng.integers(0, 256, (8, 28, 28), dtype=np.uint8),
    )
    work, out = tmp_path / "work", tmp_path / "prior"
    common = [
        "--data",
        str(data),
        "--channels",
        "8,16",
        "--norm-groups",
        "4",
        "--attention-head-dim",
        "8",
        "--batch-size",
        "4",
        "--eval-size",
        "8",
        "--warmup",
        "2",
        "--export-every",
        "2",
        "--workdir",
        str(work),
        "--out",
        str(out),
    ]

    train_prior.main([*common, "--train-steps", "2"])
    train_prior.main(
        [*common, "--train-steps", "4"]
    )  # resumed with the same constant LR: still one segment
    first = json.loads((out / "training.json").read_text())
    assert first["steps"] == 4 and first["complete"]
    assert [h["step"] for h in first["eval_history"]] == [2, 4]
    assert [(s["from_step"], s["lr_decay"], s["target_steps"]) for s in first["lr_schedule"]] == [
        (0, "none", 4)
    ]

    # resumed from the checkpoint with a cosine tail: a second schedule segment, from step 4
    train_prior.main([*common, "--train-steps", "6", "--lr-decay", "cosine"])
    info = json.loads((out / "training.json").read_text())
    assert info["steps"] == 6 and [h["step"] for h in info["eval_history"]] == [2, 4, 6]
    assert [(s["from_step"], s["lr_decay"], s["target_steps"]) for s in info["lr_schedule"]] == [
        (0, "none", 4),
        (4, "cosine", 6),
    ]
    rows = (work / "loss.csv").read_text().splitlines()
    assert rows[0] == "step,loss,ema_loss,seconds" and [r.split(",")[0] for r in rows[1:]] == [
        "2",
        "4",
        "6",
    ]
    unet = UNet2DModel.from_pretrained(out, subfolder="unet")
    assert tuple(unet.config.block_out_channels) == (8, 16)

    # another architecture is refused
    with pytest.raises(SystemExit, match="different architecture"):
        train_prior.main([*common, "--train-steps", "8", "--channels", "8,8"])

    card = _load("prior_quality", "scripts").schedule_text(info)
    assert card == (
        "from step 0: peak 5e-04, warm-up 2, constant; "
        "from step 4: peak 5e-04, warm-up 2, cosine decay towards 5e-05 at step 6"
    )


def test_prior_quality_references():
    """The corrupted images the classifier's junk class learns, and the noise-free mixture row."""
    import torch

    quality = _load("prior_quality", "scripts")
    clean = torch.full((300, 1, 28, 28), -1.0)  # black images: any change is the corruption's
    spoilt = quality.corrupted_images(clean, torch.Generator().manual_seed(0))
    again = quality.corrupted_images(clean, torch.Generator().manual_seed(0))
    assert torch.equal(spoilt, again) and spoilt.min() >= -1 and spoilt.max() <= 1
    changed = (spoilt != clean).flatten(1).float().mean(1)
    assert (changed > 0.01).all()  # every image is spoilt, none left clean

    mixture = np.load(ROOT / "assets/priors/digits-exact/mixture.npz")
    n = 6000
    noise_free = quality.mixture_without_isotropic_noise(n, torch.Generator().manual_seed(1))
    assert noise_free.shape == (n, 1, 28, 28)
    import mgps

    full = mgps.load_prior("digits-exact").sample(n, torch.Generator().manual_seed(2)).float()
    # dropping σ_c² I removes, per pixel, the mixture average of σ_c² from the variance
    removed = float(full.var(0).mean() - noise_free.var(0).mean())
    expected = float(np.sum(mixture["weights"] * mixture["iso_var"]))
    assert abs(removed - expected) < 0.15 * expected


def test_digits_sweep_fail_fast_stops_on_a_failed_cell(tmp_path):
    """The GPU script passes --fail-fast: a cell that fails stops the run with its error."""
    sweep = _load("digits_mgps_sweep")
    args = ["--operators", "box", "--first", "3", "--n-images", "1", "--out", str(tmp_path)]
    with pytest.raises(ValueError, match="midpoint must lie in"):
        sweep.main([*args, "--config", "broken:mgps:num_steps=3,midpoint=2", "--fail-fast"])
    assert "--fail-fast" in (ROOT / "scripts" / "gpu_benchmarks.py").read_text()
