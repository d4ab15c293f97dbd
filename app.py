"""The Gradio app: ``python app.py`` (offline, embedded priors) or a Hugging Face Space.

This file assembles the tabs (each built by its module in ``app/tabs/``); ``demo`` is what a
Space serves.
"""

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
if os.environ.get("SYSTEM") != "spaces":  # locally: never wait on the hub
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

import threading  # noqa: E402
from typing import Any  # noqa: E402

import gradio as gr  # noqa: E402

from app import api, catalog, limits, parse, tradeoff_charts, widgets  # noqa: E402
from app.device import DEVICE, on_space, on_zero_gpu, preload_priors, sampling_jobs  # noqa: E402
from app.tabs import compare, ecg, restore, tradeoff  # noqa: E402

QUEUE_SIZE = 16  # jobs waiting at most; more are refused with "queue full"


def header() -> str:
    prior = catalog.prior_choice(catalog.default_prior())
    if on_zero_gpu():
        jobs = f"each run gets a GPU of its own: up to {sampling_jobs()} run at once"
    else:
        jobs = "one sampling job at a time on this device; others wait in a short queue"
    return (
        "## MGPS: diffusion posterior sampling with midpoint guidance\n"
        "Restore an image with a diffusion prior and **watch the posterior samples form** "
        "(Moufad et al., *Variational Diffusion Posterior Sampling with Midpoint Guidance*, "
        "ICLR 2025, [arXiv:2410.09945](https://arxiv.org/abs/2410.09945)).\n"
        f'<span class="mgps-note">Starts on {prior.label} · {DEVICE.type.upper()}: {jobs} · '
        f"{catalog.LIMITS_TEXT}</span>"
    )


def build_demo() -> gr.Blocks:
    """The whole app (not launched). Spaces and ``python app.py`` both use it."""
    with gr.Blocks(
        title="MGPS: midpoint guidance posterior sampling", delete_cache=limits.DELETE_CACHE
    ) as blocks:
        gr.Markdown(header())
        with gr.Tabs():
            with gr.Tab("Restore", id="restore"):
                restore_editor = restore.build()
            with gr.Tab("Compare", id="compare") as compare_tab:
                compare.build(compare_tab, carry_from=restore_editor)
            with gr.Tab("Midpoint trade-off", id="tradeoff") as tab:
                tradeoff.build(tab)
            with gr.Tab("ECG", id="ecg"):
                ecg.build()
    blocks.queue(max_size=QUEUE_SIZE, default_concurrency_limit=1)
    return parse.harden(api.document(blocks))


def launch_kwargs() -> dict[str, Any]:
    """Arguments of ``demo.launch`` (host and port from the usual GRADIO_SERVER_NAME /
    GRADIO_SERVER_PORT variables): the page's CSS, the upload limit, the visitors whose
    state is kept, the footer. (``GRADIO_MCP_SERVER=True`` in the environment serves the API
    as MCP tools too: gradio's own switch, left to it.)"""
    return dict(
        css=widgets.CSS,
        show_error=True,
        max_file_size=f"{catalog.MAX_UPLOAD_MB}mb",
        state_session_capacity=limits.STATE_SESSIONS,
        footer_links=["api", "gradio"],
    )


def preload() -> threading.Thread:
    """Load what the first requests need before they come: on a Space every available hub
    prior (in the foreground, as ZeroGPU wants models loaded at start-up), locally the
    default prior (in the background, so the page is served at once); and, in the
    background, the trade-off tab's decomposition chart (about 10 s on a CPU).
    Returns the thread that computes the chart."""
    if on_space():
        names = [p.name for p in catalog.priors() if p.available]
        preload_priors(names, background=False)
    else:
        preload_priors([catalog.default_prior()], background=True)
    thread = threading.Thread(
        target=tradeoff_charts.decomposition_points, name="precompute-tradeoff", daemon=True
    )
    thread.start()
    return thread


demo = build_demo()
if __name__ == "__main__":
    preload()
    demo.launch(**launch_kwargs())
