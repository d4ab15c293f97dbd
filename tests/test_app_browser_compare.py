"""The Compare tab in a real browser: headless Debian Chromium driven by playwright-core
(tests/browser/compare.spec.mjs), in a laptop's window (1366×768): the image chosen on Restore
is carried over; the budget control starts at equal cost and the samples at 4; a short
comparison ends with "done in … s", a verdict stating the budget and who is best or cannot be
told apart, costs within 10 % of the budget, table headers unbroken, the x̂0 captions in view
and a log axis reading 1-2-5; equal steps gives every sampler the same steps.

Needs ``node``, ``/usr/bin/chromium`` and ``tests/browser/node_modules`` (as
tests/test_app_browser.py); skipped, saying what is missing, where they are not there.
Screenshots: tests/_artifacts/browser-compare/.
"""

from __future__ import annotations

import os
import shutil
import subprocess

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import pytest  # noqa: E402
from test_app_browser import ARTIFACTS, BROWSER_DIR, CHROMIUM, missing_tools  # noqa: E402

SPEC = BROWSER_DIR / "compare.spec.mjs"
SCREENSHOTS = [
    "00-compare-1366x768.png",
    "01-compare-equal-cost.png",
    "02-compare-table.png",
    "03-compare-full.png",
    "04-compare-equal-steps.png",
]


@pytest.mark.browser
def test_browser_compare_budget_and_verdict(app_main):
    why = missing_tools()
    if why:
        pytest.skip(f"browser test skipped: {why}")
    out = ARTIFACTS / "browser-compare"
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    demo = app_main.build_demo()
    _, url, _ = demo.launch(
        prevent_thread_lock=True, quiet=True, server_name="127.0.0.1", **app_main.launch_kwargs()
    )
    try:
        proc = subprocess.run(
            ["node", str(SPEC), url, str(out)],
            cwd=BROWSER_DIR,
            capture_output=True,
            text=True,
            timeout=900,
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
