"""The Midpoint trade-off tab: MGPS (or another sampler) on a 2-D mixture whose posterior is
known exactly, an animation of its samples through the diffusion (a server-side slider and a
Play button that streams the snapshots), the SW against η from the committed teaching sweep
(the visitor's own runs drawn over it), and why the trade-off exists: Example 3.2's exact
error split into its two sources. Each chart has words computed from its data.

Nothing is shared between visitors: the sweep and the decomposition are fixed data, and what a
visitor runs is kept in that visitor's ``gr.State``.

Every chart is an SVG plotly figure updated in place: moving η any number of times takes no
WebGL context from the page (the image editors need theirs).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import gradio as gr

from .. import tradeoff_charts, tradeoff_runs, tradeoff_scatter, tradeoff_text, widgets

__all__ = ["build"]

INTRO = (
    "A prior of **25 Gaussians in 2-D** seen through **one** projection y = ⟨a, x⟩ + σ_y·noise "
    "(dashed line): the exact posterior (blue) is known. MGPS guesses the likelihood at a "
    "**midpoint** ℓ = ⌊η t⌋: η = 0 trusts one Gaussian jump to the clean state, η = 1 is "
    "DPS-like. Move η and watch the samples (red); below, η over many problems, and **why** "
    "there is a trade-off."
)
PLAY_DELAY = 0.25  # seconds between streamed snapshots
FRAME_LABEL = "Snapshot: 0 the start (noise), last the samples"
MAX_YOURS = 200  # a visitor's runs kept for the chart


def build(tab: gr.Tab) -> None:
    """Lay out and wire the tab (inside ``tab``, whose first visit draws the default run)."""
    sweep = tradeoff_charts.load_sweep()
    start = tradeoff_charts.sweep_settings()
    gr.Markdown(INTRO)
    with gr.Row():
        with gr.Column(scale=2, min_width=250):
            eta = gr.Slider(
                0.0, 1.0, value=0.5, step=0.05, label="η (MGPS midpoint)", elem_id="tradeoff-eta"
            )
            with gr.Row(equal_height=True):
                sampler = gr.Dropdown(
                    choices=tradeoff_runs.toy_samplers(),
                    value="mgps",
                    label="Sampler",
                    min_width=110,
                )
                seed = gr.Number(
                    value=0, precision=0, minimum=0, maximum=10_000, label="Problem", min_width=80
                )
            run = gr.Button("Run", variant="primary", elem_id="tradeoff-run")
            sigma_y = gr.Slider(0.05, 2.0, value=start.sigma_y, step=0.05, label="σ_y")
            steps = gr.Slider(10, 300, value=start.num_steps, step=10, label="Steps")
            spacing = gr.Slider(
                2, 16, value=start.spacing, step=1, label="Distance between prior modes"
            )
            summary = gr.Markdown(elem_id="tradeoff-summary")
        with gr.Column(scale=3, min_width=300):
            scatter = gr.Plot(
                label="Prior, exact posterior and samples", elem_id="tradeoff-scatter"
            )
        with gr.Column(scale=3, min_width=300):
            animation = gr.Plot(label="Through the diffusion", elem_id="tradeoff-animation")
            with gr.Row(equal_height=True):
                frame = gr.Slider(
                    0,
                    tradeoff_runs.SNAPSHOTS + 1,
                    value=0,
                    step=1,
                    label=FRAME_LABEL,
                    elem_id="tradeoff-frame",
                    scale=4,
                )
                play = gr.Button("▶ Play", elem_id="tradeoff-play", min_width=70, scale=1)
                pause = gr.Button("❚❚ Pause", elem_id="tradeoff-pause", min_width=70, scale=1)
    with gr.Row():
        with gr.Column():
            sw_plot = gr.Plot(
                tradeoff_charts.sw_figure(sweep),
                label="SW against η (2-D mixture)",
                elem_id="tradeoff-sw",
            )
            sw_words = gr.Markdown(tradeoff_charts.sw_words(sweep), elem_id="tradeoff-sw-words")
        with gr.Column():
            why_plot = gr.Plot(
                label="Why: the two sources of the error (Example 3.2)",
                elem_id="tradeoff-decomposition",
            )
            why_words = gr.Markdown(elem_id="tradeoff-decomposition-words")
    snapshots = gr.State(None)
    yours = gr.State([])  # this visitor's MGPS runs (tradeoff_charts.YourRun), for the SW chart

    def run_toy(
        sampler: str,
        eta: float,
        seed: int,
        sigma_y: float,
        steps: int,
        spacing: float,
        mine: list[tradeoff_charts.YourRun] | None,
    ) -> dict[Any, Any]:
        """Run a sampler on the 2-D problem; draw it, and this visitor's runs on the sweep."""
        try:
            settings = tradeoff_runs.settings_of(sigma_y, steps, spacing, base=start)
            one = tradeoff_runs.tradeoff_run(sampler, eta, int(seed or 0), settings)
        except Exception as err:  # noqa: BLE001
            raise widgets.user_error(err) from None
        mine = list(mine or [])
        if sampler == "mgps":
            mine = [*mine, tradeoff_charts.YourRun(float(eta), int(seed or 0), settings, one.sw)]
            mine = mine[-MAX_YOURS:]
        snap = one.snapshots
        return {
            summary: tradeoff_text.run_summary(one),
            scatter: tradeoff_scatter.scatter_figure(one),
            animation: tradeoff_scatter.animation_figure(snap, 0),
            frame: gr.update(maximum=len(snap) - 1, value=0),
            snapshots: snap,
            yours: mine,
            sw_plot: tradeoff_charts.sw_figure(sweep, eta, mine),
            sw_words: tradeoff_charts.sw_words(sweep, settings),
            why_plot: tradeoff_charts.decomposition_figure(eta),
            why_words: tradeoff_charts.decomposition_words(),
        }

    ins = [sampler, eta, seed, sigma_y, steps, spacing, yours]
    outs = [
        summary,
        scatter,
        animation,
        frame,
        snapshots,
        yours,
        sw_plot,
        sw_words,
        why_plot,
        why_words,
    ]
    common: dict[str, Any] = dict(
        concurrency_limit=1, concurrency_id="toy", show_progress="minimal"
    )
    run.click(run_toy, ins, outs, api_name="tradeoff", **common)
    eta.release(run_toy, ins, outs, api_visibility="private", trigger_mode="always_last", **common)

    def first_visit(snap: tradeoff_runs.Snapshots | None, *values: Any) -> Any:
        return run_toy(*values) if snap is None else gr.skip()

    tab.select(first_visit, [snapshots, *ins], outs, api_visibility="private", **common)

    # --- the animation: a server-side slider, and Play streaming the snapshots
    def show(snap: tradeoff_runs.Snapshots | None, k: int) -> Any:
        return gr.skip() if snap is None else tradeoff_scatter.animation_figure(snap, int(k))

    light: dict[str, Any] = dict(
        concurrency_limit=None, concurrency_id="toy-animation", show_progress="hidden"
    )
    frame.input(
        show,
        [snapshots, frame],
        animation,
        api_visibility="private",
        trigger_mode="always_last",
        **light,
    )

    def play_frames(snap: tradeoff_runs.Snapshots | None, k: int) -> Iterator[dict[Any, Any]]:
        if snap is None:
            return
        start = int(k) if int(k) < len(snap) - 1 else 0  # at the end: play again
        for j in range(start, len(snap)):
            yield {animation: tradeoff_scatter.animation_figure(snap, j), frame: j}
            time.sleep(PLAY_DELAY)

    play_event = play.click(
        play_frames, [snapshots, frame], [animation, frame], api_visibility="private", **light
    )
    pause.click(None, None, None, cancels=[play_event], queue=False, api_visibility="private")
