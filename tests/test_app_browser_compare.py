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

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import pytest  # noqa: E402
from test_app_browser import BROWSER_DIR, run_spec  # noqa: E402

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
    run_spec(app_main, SPEC, "browser-compare", SCREENSHOTS, timeout=900)
