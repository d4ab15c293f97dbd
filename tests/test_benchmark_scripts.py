"""The benchmark scripts under ``benchmarks/`` that are not part of the CLI, run tiny."""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_digits_sweep_tiny(tmp_path):
    sweep = _load("digits_mgps_sweep")
    configs = ["dps3:dps:num_steps=3", "mgps3:mgps:num_steps=3,samples=2", "broken:mgps:num_steps=3,midpoint=2"]
    sweep.main(["--operators", "box", "--first", "3", "--n", "2", "--config", *configs, "--out", str(tmp_path),
                "--note", "A tiny check."])
    results = json.loads((tmp_path / "sweep.json").read_text())
    assert (results["first"], results["n"]) == (3, 2)
    runs = results["runs"]["box"]
    assert len(runs["dps3"]["psnr"]) == 2 and "diff_to_reference" not in runs["dps3"]
    mgps3 = runs["mgps3"]
    assert mgps3["samples_per_image"] == 2
    assert mgps3["params"]["lr"] == 0.1  # the task preset, under the command line's settings
    assert mgps3["diff_to_reference"] == pytest.approx(
        np.mean(np.subtract(mgps3["psnr"], runs["dps3"]["psnr"]))
    )
    assert "midpoint must lie in [0, 1]" in runs["broken"]["failed"]  # reported, not raised
    table = (tmp_path / "sweep.md").read_text()
    assert "held-out test digits 3–4" in table and "| broken |" in table
    steps = json.loads((ROOT / "assets/priors/digits/training.json").read_text())["steps"]
    assert table.startswith("A tiny check.\n") and f"Prior `digits` ({steps:,} training steps)" in table

    # --previous reuses runs by name, and refuses a sweep over other digits
    with pytest.raises(AssertionError, match="another --first"):
        sweep.main(["--operators", "box", "--n", "2", "--config", "dps3:dps:num_steps=3",
                    "--previous", str(tmp_path / "sweep.json")])
