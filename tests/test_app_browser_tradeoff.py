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

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import pytest  # noqa: E402
from test_app_browser import BROWSER_DIR, run_spec  # noqa: E402

SPEC = BROWSER_DIR / "tradeoff.spec.mjs"
SCREENSHOTS = ["a-1366x768.png", "a-after-moves.png", "b-own-session.png", "phone-390x844.png"]


@pytest.mark.browser
def test_browser_tradeoff_two_visitors_and_decomposition(app_main):
    run_spec(app_main, SPEC, "browser-tradeoff", SCREENSHOTS, timeout=600)
