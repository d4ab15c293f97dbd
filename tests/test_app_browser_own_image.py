"""A real browser on "bring your own image" (tests/browser/own_image.spec.mjs, headless Debian
Chromium driven by playwright-core, 1366×768 and a 390×844 phone): an example of clothes
switches the prior, a photograph says which prior it needs; in "my image is already degraded"
mode a JPEG's quality is read from the file and a low-resolution digit (degraded here, outside
the project) is restored, with the before/after slider and the run's archive, whose files are
checked here; a long run stopped leaves its last step and an archive; then, on the same page,
a digit drawn on a blank canvas is restored.

Needs what tests/test_app_browser.py needs; skipped, saying what is missing, without it.
Screenshots: tests/_artifacts/own_image/.
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import pytest  # noqa: E402
from PIL import Image  # noqa: E402
from test_app_browser import BROWSER_DIR, run_spec  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SPEC = BROWSER_DIR / "own_image.spec.mjs"
SCREENSHOTS = [
    "00-laptop.png",
    "01-clothes-example.png",
    "02-photo-example.png",
    "03-observation-restored.png",
    "04-stopped.png",
    "05-drawn-seven.png",
    "06-drawn-restored.png",
    "07-phone.png",
]
RUN_FILES = {"observation.png", "sample_0.png", "mean.png", "std.png", "best.png", "metrics.json"}


def degraded_files(folder: Path) -> Path:
    """A held-out digit degraded outside the project: ×4 BOX downscale; JPEG at quality 10."""
    folder.mkdir(parents=True, exist_ok=True)
    digit = Image.open(ROOT / "assets" / "examples" / "digit_7_12.png")
    digit.resize((7, 7), Image.Resampling.BOX).save(folder / "low_res_7.png")
    Image.open(ROOT / "assets" / "examples" / "digit_9_3.png").save(
        folder / "digit_q10.jpg", quality=10
    )
    return folder


def run_files(path: Path) -> tuple[set[str], dict]:
    with zipfile.ZipFile(path) as zf:
        names = {Path(n).name for n in zf.namelist()}
        metrics = json.loads(next(zf.read(n) for n in zf.namelist() if n.endswith("metrics.json")))
    return names, metrics


@pytest.mark.browser
def test_browser_bring_your_own_image(app_main, tmp_path):
    out = run_spec(
        app_main,
        SPEC,
        "own_image",
        SCREENSHOTS,
        str(degraded_files(tmp_path / "inputs")),
        preload=True,
        timeout=600,
    )
    # the downloaded archives hold the command line's files
    names, metrics = run_files(out / "run.zip")
    assert RUN_FILES | {"sample_1.png"} <= names and "input.png" not in names
    assert metrics["input_mode"] == "observation" and metrics["operator"] == "sr4"
    assert metrics["psnr"] is None and metrics["operator_params"] == {"factor": 4}
    names, metrics = run_files(out / "stopped.zip")
    assert RUN_FILES <= names and 0 < metrics["stopped_at_step"] < metrics["num_steps"] == 400
