"""A real browser on the app: headless Debian Chromium driven by playwright-core
(tests/browser/app.spec.mjs), in a laptop's window (1366×768): Run, Stop and the status are in
view; a text file, a text file named .png, a 26 MB file and a 24-megapixel image each get a
message naming them before any Run; a digit is uploaded, a stroke drawn, MGPS run (the streamed
image changes, the result and a time estimate appear), a long run stopped (the status says at
which step); on the trade-off tab η is moved six times without a new WebGL context, the
animation's slider and Play change the points drawn; back on Restore a new stroke is run to a
restoration with no page error.

Needs ``node``, ``/usr/bin/chromium`` (``apt-get install chromium``) and
``tests/browser/node_modules`` (``cd tests/browser && npm ci``); ``.ci/run`` installs them.
Skipped, saying what is missing, where they are not there. Screenshots: tests/_artifacts/.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BROWSER_DIR = ROOT / "tests" / "browser"
SPEC = BROWSER_DIR / "app.spec.mjs"
ARTIFACTS = ROOT / "tests" / "_artifacts"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = [
    "00-laptop-1366x768.png",
    "01-upload-refused.png",
    "02-mask-drawn.png",
    "03-streaming.png",
    "04-final.png",
    "05-stopped.png",
    "06-tradeoff.png",
    "07-tradeoff-after-six-moves.png",
    "08-animation.png",
    "09-restore-after-tradeoff.png",
]


def missing_tools() -> str | None:
    if shutil.which("node") is None:
        return "node is not installed"
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is missing (apt-get install -y chromium)"
    if not (BROWSER_DIR / "node_modules" / "playwright-core").is_dir():
        return "tests/browser/node_modules/playwright-core is missing (cd tests/browser && npm ci)"
    return None


def wrong_files(folder: Path) -> Path:
    """What a user might wrongly upload: a text file, a text file named .png, a 24-megapixel
    image (a small file) and a 26 MB file (over the 25 MB limit)."""
    import numpy as np
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "notes.txt").write_text("these are notes, not an image\n")
    (folder / "fake.png").write_text("this is text with a .png name\n")
    Image.new("L", (6000, 4000), 128).save(folder / "big.png")
    noise = np.random.default_rng(0).integers(0, 256, 26_000_000, dtype=np.uint8)
    (folder / "huge.png").write_bytes(noise.tobytes())
    return folder


def run_spec(
    app_main: Any,
    spec: Path,
    folder: str,
    screenshots: list[str],
    *args: str,
    preload: bool = False,
    timeout: int = 900,
) -> Path:
    """Launch a fresh app, drive it with ``node spec URL OUT *args`` (skipped, saying what is
    missing, without the tools), and check the spec passed and left each screenshot; returns the
    artifacts folder ``tests/_artifacts/<folder>`` (with the spec's ``log.txt``)."""
    why = missing_tools()
    if why:
        pytest.skip(f"browser test skipped: {why}")
    from app import tradeoff_charts

    out = ARTIFACTS / folder
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    demo = app_main.build_demo()
    if preload:
        app_main.preload()
    tradeoff_charts.decomposition_points()  # once per process; the browser does not wait for it
    _, url, _ = demo.launch(
        prevent_thread_lock=True, quiet=True, server_name="127.0.0.1", **app_main.launch_kwargs()
    )
    try:
        proc = subprocess.run(
            ["node", str(spec), url, str(out), *args],
            cwd=BROWSER_DIR,
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, "CHROMIUM": CHROMIUM},
        )
    finally:
        demo.close()
    log = proc.stdout + proc.stderr
    (out / "log.txt").write_text(log)
    assert proc.returncode == 0, f"the browser test failed:\n{log[-4000:]}"
    for name in screenshots:
        path = out / name
        assert path.is_file() and path.stat().st_size > 5_000, f"missing screenshot {name}"
    return out


@pytest.mark.browser
def test_browser_upload_draw_run_and_move_eta(app_main, tmp_path):
    if missing_tools():
        pytest.skip(f"browser test skipped: {missing_tools()}")
    inputs = str(wrong_files(tmp_path / "inputs"))
    run_spec(app_main, SPEC, "browser", SCREENSHOTS, inputs, preload=True, timeout=600)
