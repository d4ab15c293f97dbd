"""The Gradio app for mgps, assembled by ``app.py``: one module per tab in ``tabs/`` (each
with its ``build()``), the widgets they share (``widgets``, and ``run_stop`` for Run and
Stop), and, without gradio, the work behind them: ``restoring`` and ``comparing`` (images);
``tradeoff_runs``, ``tradeoff_scatter``, ``tradeoff_text`` and ``tradeoff_charts`` (the 2-D
trade-off: one run, its pictures, its words, the charts against η); ``ecg_runs`` and
``ecg_figures`` (ECG); ``checks`` (inputs), ``status`` (status lines and time estimates),
``catalog`` (what the registries offer), ``convert`` (images for display) and ``device`` (the
one place that picks the device).

This file must exist: without it ``import app`` would resolve to ``app.py`` next to it.
"""

# First, before anything imports torch: ``device`` imports ``spaces`` (ZeroGPU) when installed.
from . import device as device  # noqa: E402
