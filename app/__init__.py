"""The Gradio app for mgps: layout and wiring (``ui``), plain handlers over the library
(``handlers``, ``gmm_tab``), registry-derived choices (``catalog``), image conversions
(``convert``) and the one place that picks the device (``device``).

This file must exist: without it ``import app`` would resolve to ``app.py`` next to it.
"""

# First, before anything imports torch: ``device`` imports ``spaces`` (ZeroGPU) when installed.
from . import device as device  # noqa: E402
