"""One door, one number: the same restore (image, operator, sampler, seed, no settings given)
through the library, the command line and the app's handler gives the same numbers, and every
run records every setting it used (the table of defaults, ``mgps.presets``)."""

import inspect
import json

import pytest
import torch

import mgps
from app import restoring
from mgps.cli import main
from mgps.pipeline import prepare, restore
from mgps.presets import CONTEXT_STEPS, CONTEXTS, TASK_DEFAULTS, is_task, settings
from mgps.utils.assets import ASSETS_DIR

IMAGE = str(ASSETS_DIR / "examples" / "digit_3_1.png")


def _app_metrics(**request) -> dict:
    final = None
    for update in restoring.restore(restoring.RestoreRequest(IMAGE, **request)):
        final = update
    assert isinstance(final, restoring.Final)
    return final.metrics


@pytest.mark.parametrize("operator", ["box", "jpeg"])
def test_library_command_line_and_app_give_the_same_restore(operator, tmp_path):
    setup = prepare("digits", IMAGE, operator, seed=0)
    library = restore(setup, "mgps", seed=0).metrics
    out = tmp_path / "cli"
    argv = ["restore", "--prior", "digits", "--operator", operator, "--sampler", "mgps"]
    assert main(argv + ["--image", IMAGE, "--out", str(out), "--quiet"]) == 0
    cli = json.loads((out / "metrics.json").read_text())
    app = _app_metrics(operator=operator, prior="digits", sampler="mgps", num_samples=1)
    # mgps.sample with nothing but the seed runs the same table
    x = mgps.sample("mgps", setup.prior, setup.problem, generator=torch.Generator().manual_seed(0))
    sample_psnr = float(mgps.metrics.psnr(x.clamp(-1, 1), setup.x_true)[0])

    expected = settings("mgps", operator)
    assert expected["num_steps"] == 50  # the measured default, not the signature's 300
    for metrics in (library, cli, app):
        assert metrics["params"] == expected  # every setting, the defaults included
        assert metrics["psnr"] == pytest.approx(library["psnr"], abs=1e-6)
        assert metrics["residual_norm"] == pytest.approx(library["residual_norm"], abs=1e-6)
    assert sample_psnr == pytest.approx(library["psnr"][0], abs=1e-4)


def test_the_table_names_every_setting_and_its_contexts():
    signature = inspect.signature(mgps.SAMPLERS["dps"].obj).parameters
    assert settings("dps", "box")["step_size"] == TASK_DEFAULTS["dps"]["box"]["step_size"]
    assert settings("dps", "box")["num_steps"] == signature["num_steps"].default
    assert settings("dps", "box", "app")["num_steps"] == CONTEXT_STEPS["app"]["*"]
    assert settings("pgdm", "jpeg", "app")["num_steps"] == 100  # the task's preset wins
    # off the image tasks (the mixture, the ECGs) the signature alone
    assert settings("mgps")["num_steps"] == mgps.SAMPLERS["mgps"].defaults()["num_steps"]
    assert not is_task("ecg_missing_block") and is_task("phase_retrieval")
    for name in mgps.SAMPLERS.names():
        for context in CONTEXTS:
            values = settings(name, "box", context)
            keywords = set(mgps.SAMPLERS[name].keyword_names()) - {
                "generator",
                "x_init",
                "num_samples",
            }
            assert set(values) == keywords, name
    with pytest.raises(ValueError, match="unknown context 'gpu'"):
        settings("mgps", "box", "gpu")


def test_samplers_task_prints_the_table(capsys):
    assert main(["samplers", "--task", "jpeg"]) == 0
    text = capsys.readouterr().out
    assert "Defaults on jpeg" in text and "library:" in text and "app:" in text
    line = next(s for s in text.splitlines() if s.startswith("mgps "))
    assert "num_steps=50" in line and "lr=0.1" in line and "midpoint_late=1.0" in line
    assert main(["samplers", "--task", "ecg_missing_block"]) == 2
    assert "not an image task" in capsys.readouterr().err


def test_every_command_that_samples_a_network_prior_takes_dtype():
    from mgps.cli import build_parser

    parser = build_parser()
    for argv in (
        ["restore", "--prior", "p", "--operator", "box", "--sampler", "mgps"]
        + ["--image", "i", "--out", "o"],
        ["images", "defaults", "--out", "o"],
        ["images", "table", "--prior", "p", "--images", "i", "--out", "o"],
    ):
        assert parser.parse_args([*argv, "--dtype", "bfloat16"]).dtype == "bfloat16"
