"""A real browser on the app: headless Debian Chromium driven by playwright-core
(tests/browser/app.spec.mjs) uploads a digit, draws a stroke on the mask, runs MGPS and sees
the streamed image change and the result, then moves η on the trade-off tab.

Needs ``node``, ``/usr/bin/chromium`` (``apt-get install chromium``) and
``tests/browser/node_modules`` (``cd tests/browser && npm ci``); ``.ci/run`` installs them.
Skipped, saying what is missing, where they are not there. Screenshots: tests/_artifacts/.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BROWSER_DIR = ROOT / "tests" / "browser"
SPEC = BROWSER_DIR / "app.spec.mjs"
ARTIFACTS = ROOT / "tests" / "_artifacts"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = [
    "01-mask-drawn.png",
    "02-streaming.png",
    "03-final.png",
    "04-tradeoff.png",
    "05-tradeoff-eta.png",
]


def missing_tools() -> str | None:
    if shutil.which("node") is None:
        return "node is not installed"
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is missing (apt-get install -y chromium)"
    if not (BROWSER_DIR / "node_modules" / "playwright-core").is_dir():
        return "tests/browser/node_modules/playwright-core is missing (cd tests/browser && npm ci)"
    return None


@pytest.mark.browser
def test_browser_upload_draw_run_and_move_eta():
    why = missing_tools()
    if why:
        pytest.skip(f"browser test skipped: {why}")
    from app.gmm_tab import eta_curve_points
    from app.ui import build_demo, preload

    out = ARTIFACTS / "browser"
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    demo = build_demo()
    preload()
    eta_curve_points()  # computed once per process; not part of what the browser waits for
    _, url, _ = demo.launch(prevent_thread_lock=True, quiet=True, server_name="127.0.0.1")
    try:
        proc = subprocess.run(
            ["node", str(SPEC), url, str(out)],
            cwd=BROWSER_DIR,
            capture_output=True,
            text=True,
            timeout=420,
            env={**os.environ, "CHROMIUM": CHROMIUM},
        )
    finally:
        demo.close()
    log = proc.stdout + proc.stderr
    (out / "log.txt").write_text(log)
    assert proc.returncode == 0, f"the browser test failed:\n{log[-4000:]}"
    for name in SCREENSHOTS:
        path = out / name
        assert path.is_file() and path.stat().st_size > 5_000, f"missing screenshot {name}"
