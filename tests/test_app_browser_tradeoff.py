"""A real browser on the Midpoint trade-off tab (tests/browser/tradeoff.spec.mjs): at 1366×768
the scatter and its observation line are in view, the animation's first frame is the start
and its last the samples, the decomposition chart shows its four curves with words, two moves
of η add visitor A's runs to the SW chart, and a second browser context (visitor B) sees only
its own run; on a phone (390×844) Restore's Run is within a screen of the canvas.

Needs ``node``, ``/usr/bin/chromium`` and ``tests/browser/node_modules`` (as
tests/test_app_browser.py). Screenshots: tests/_artifacts/browser-tradeoff/.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import pytest  # noqa: E402
from test_app_browser import ARTIFACTS, BROWSER_DIR, CHROMIUM, missing_tools  # noqa: E402

SPEC = BROWSER_DIR / "tradeoff.spec.mjs"
SCREENSHOTS = ["a-1366x768.png", "a-after-moves.png", "b-own-session.png", "phone-390x844.png"]


@pytest.mark.browser
def test_browser_tradeoff_two_visitors_and_decomposition(app_main):
    why = missing_tools()
    if why:
        pytest.skip(f"browser test skipped: {why}")
    from app import toy_charts

    out = ARTIFACTS / "browser-tradeoff"
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    demo = app_main.build_demo()
    toy_charts.decomposition_points()  # computed once per process, as app.preload does
    _, url, _ = demo.launch(
        prevent_thread_lock=True, quiet=True, server_name="127.0.0.1", **app_main.launch_kwargs()
    )
    try:
        proc = subprocess.run(
            ["node", str(SPEC), url, str(out)],
            cwd=BROWSER_DIR,
            capture_output=True,
            text=True,
            timeout=600,
            env={**os.environ, "CHROMIUM": CHROMIUM},
        )
    finally:
        demo.close()
    log = proc.stdout + proc.stderr
    (out / "log.txt").write_text(log)
    assert proc.returncode == 0, f"the browser test failed:\n{log[-4000:]}"
    for name in SCREENSHOTS:
        path = Path(out / name)
        assert path.is_file() and path.stat().st_size > 5_000, f"missing screenshot {name}"
