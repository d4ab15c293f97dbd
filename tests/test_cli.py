"""The command line, called in-process through ``mgps.cli.main``."""

import json

import numpy as np
import pytest

import mgps
from mgps.cli import main
from mgps.paper.gmm import make_instance, save_problem


@pytest.fixture(scope="module")
def problem_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("gmm") / "problem.npz"
    save_problem(path, make_instance(dim=6, obs_dim=2, sigma_y=0.5, seed=3))
    return path


@pytest.mark.parametrize("name", mgps.SAMPLERS.names(with_tag="pixel"))
def test_gmm_sample_every_sampler(name, problem_file, tmp_path):
    out = tmp_path / "x.npy"
    assert (
        main(
            [
                "gmm",
                "sample",
                "--problem",
                str(problem_file),
                "--sampler",
                name,
                "--n-samples",
                "7",
                "--seed",
                "1",
                "--steps",
                "10",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    x = np.load(out)
    assert x.shape == (7, 6) and np.isfinite(x).all()


def test_gmm_sample_param_override_and_determinism(problem_file, tmp_path):
    args = [
        "gmm",
        "sample",
        "--problem",
        str(problem_file),
        "--sampler",
        "mgps",
        "--n-samples",
        "5",
        "--steps",
        "10",
        "--param",
        "midpoint=0.9",
        "--param",
        "warm_start=false",
    ]
    assert main([*args, "--out", str(tmp_path / "a.npy")]) == 0
    assert main([*args, "--out", str(tmp_path / "b.npy")]) == 0
    assert np.array_equal(np.load(tmp_path / "a.npy"), np.load(tmp_path / "b.npy"))


def test_gmm_sample_extra_keys_and_covs(tmp_path):
    inst = make_instance(dim=4, obs_dim=1, sigma_y=0.3, seed=0)
    path = tmp_path / "p.npz"
    np.savez(
        path,
        weights=inst.prior.weights.numpy(),
        means=inst.prior.means.numpy(),
        covs=np.stack([np.eye(4) * 0.5] * 25),
        A=inst.operator.matrix.numpy(),
        y=inst.problem.y.numpy().ravel(),
        sigma_y=0.3,
        comment=np.array("ignored"),
    )
    assert (
        main(
            [
                "gmm",
                "sample",
                "--problem",
                str(path),
                "--sampler",
                "dps",
                "--n-samples",
                "3",
                "--steps",
                "5",
                "--out",
                str(tmp_path / "x.npy"),
            ]
        )
        == 0
    )


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--sampler", "dpss"], "unknown sampler 'dpss'; choose one of"),
        (["--sampler", "mgps", "--param", "lrr=3"], "MGPS has no parameter 'lrr'"),
        (["--sampler", "mgps", "--param", "midpoint=2"], "must lie in"),
        (["--sampler", "mgps", "--steps", "0"], "num_steps must be between 2 and 1000"),
        (["--sampler", "mgps", "--n-samples", "0"], "--n-samples must be at least 1"),
    ],
)
def test_gmm_sample_bad_input(extra, message, problem_file, tmp_path, capsys):
    assert (
        main(
            [
                "gmm",
                "sample",
                "--problem",
                str(problem_file),
                "--out",
                str(tmp_path / "x.npy"),
                *extra,
            ]
        )
        == 2
    )
    assert message in capsys.readouterr().err


def test_gmm_sample_bad_problem_files(tmp_path, capsys):
    missing = tmp_path / "missing.npz"
    assert (
        main(
            [
                "gmm",
                "sample",
                "--problem",
                str(missing),
                "--sampler",
                "dps",
                "--out",
                str(tmp_path / "x.npy"),
            ]
        )
        == 2
    )
    assert "does not exist" in capsys.readouterr().err
    bad = tmp_path / "bad.npz"
    np.savez(bad, weights=np.ones(2), means=np.zeros((2, 3)))
    assert (
        main(
            [
                "gmm",
                "sample",
                "--problem",
                str(bad),
                "--sampler",
                "dps",
                "--out",
                str(tmp_path / "x.npy"),
            ]
        )
        == 2
    )
    assert "lacks the key(s) A, y, sigma_y" in capsys.readouterr().err
    garbage = tmp_path / "garbage.npz"
    garbage.write_text("not a zip")
    assert (
        main(
            [
                "gmm",
                "sample",
                "--problem",
                str(garbage),
                "--sampler",
                "dps",
                "--out",
                str(tmp_path / "x.npy"),
            ]
        )
        == 2
    )
    assert "cannot read" in capsys.readouterr().err


def test_gmm_table_tiny(tmp_path):
    out = tmp_path / "table"
    assert (
        main(
            [
                "gmm",
                "table",
                "--out",
                str(out),
                "--settings",
                "4x1",
                "--n-instances",
                "2",
                "--n-samples",
                "50",
                "--n-slices",
                "10",
                "--samplers",
                "dps,mgps",
                "--param",
                "dps:num_steps=20",
                "--param",
                "mgps:num_steps=10",
            ]
        )
        == 0
    )
    result = json.loads((out / "gmm_table.json").read_text())
    row = result["summary"]["d=4,d_y=1"]
    assert row["dps"]["runs"] == 2 and np.isfinite(row["mgps"]["sw_mean"])
    assert result["config"]["sampler_kwargs"]["mgps"]["num_steps"] == 10
    md = (out / "gmm_table.md").read_text()
    assert "| d=4, d_y=1 |" in md and "MGPS" in md


def test_gmm_table_counts_diverged_runs(tmp_path):
    from mgps.paper.gmm import table

    out = tmp_path / "table"
    table(
        out,
        settings=[(4, 1)],
        num_instances=2,
        num_samples=20,
        samplers=["dps"],
        overrides={"dps": {"num_steps": 20, "step_size": 1e300}},
        log=lambda *_: None,
    )
    row = json.loads((out / "gmm_table.json").read_text())["summary"]["d=4,d_y=1"]["dps"]
    assert row["diverged"] == 2
    assert "(2/2 diverged)" in (out / "gmm_table.md").read_text()


def test_gaussian_eta_command(tmp_path, capsys):
    out = tmp_path / "eta.csv"
    assert (
        main(
            [
                "gaussian-eta",
                "--out",
                str(out),
                "--n-etas",
                "4",
                "--n-seeds",
                "1",
                "--dim",
                "10",
                "--obs-dim",
                "5",
                "--steps",
                "30",
            ]
        )
        == 0
    )
    rows = out.read_text().strip().splitlines()
    assert rows[0].split(",")[0] == "eta" and rows[0].split(",")[-1] == "w2_mean" and len(rows) == 5
    assert out.with_suffix(".html").exists()
    assert "minimum mean W2" in capsys.readouterr().out


def test_restore_with_a_prior_that_is_not_an_image_prior_says_so(capsys, tmp_path):
    from mgps.utils.assets import ASSETS_DIR

    image = str(ASSETS_DIR / "examples" / "digit_3_1.png")
    args = ["restore", "--prior", "ecg", "--operator", "box", "--sampler", "mgps"]
    assert main([*args, "--image", image, "--steps", "2", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "prior 'ecg' models samples of shape (9, 256), not images" in err and "digits" in err
