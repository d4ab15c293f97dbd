"""The Midpoint trade-off tab: MGPS (or another sampler) on a 2-D mixture whose posterior is
known exactly, an animation of its samples through the diffusion (a server-side slider and a
Play button that streams the snapshots), the sliced Wasserstein distance against η over
several problems with its interval, and the exact W2-vs-η curve of Example 3.2 as its own
chart, each with words computed from its data.

Every chart is an SVG plotly figure updated in place: moving η any number of times takes no
WebGL context from the page (the image editors need theirs).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import gradio as gr

from .. import toy, widgets

__all__ = ["build"]

INTRO = (
    "A prior that is a grid of **25 Gaussians in 2-D**, observed through **one** random "
    "projection y = ⟨a, x⟩ + σ_y·noise, so the exact posterior is known. MGPS denoises towards "
    "a **midpoint** ℓ = ⌊η t⌋ at each step: η = 0 trusts the prior's Gaussian transition all "
    "the way to the clean state, η = 1 is DPS-like (the likelihood is guessed at the current "
    "noise level). Move η: the left chart shows the samples (red) against the exact posterior "
    "(blue) on one problem, the animation how they form, and the charts below what η does "
    f"over {len(toy.SEEDS)} problems and on the paper's Gaussian Example 3.2."
)
PLAY_DELAY = 0.25  # seconds between streamed snapshots


def build(tab: gr.Tab) -> None:
    """Lay out and wire the tab (inside ``tab``, whose first visit draws the default run)."""
    gr.Markdown(INTRO)
    with gr.Row(equal_height=True):
        sampler = gr.Dropdown(
            choices=toy.toy_samplers(), value="mgps", label="Sampler", min_width=120
        )
        eta = gr.Slider(
            0.0, 1.0, value=0.5, step=0.05, label="η (MGPS midpoint)", elem_id="tradeoff-eta"
        )
        sigma_y = gr.Slider(0.1, 2.0, value=toy.SIGMA_Y, step=0.05, label="σ_y")
        seed = gr.Number(
            value=0, precision=0, minimum=0, maximum=10_000, label="Problem (seed)", min_width=90
        )
        steps = gr.Slider(10, 300, value=toy.NUM_STEPS, step=10, label="Steps")
        run = gr.Button("Run", variant="primary", elem_id="tradeoff-run", min_width=80)
    summary = gr.Markdown(elem_id="tradeoff-summary")
    with gr.Row():
        with gr.Column():
            scatter = gr.Plot(
                label="Prior, exact posterior and samples", elem_id="tradeoff-scatter"
            )
        with gr.Column():
            animation = gr.Plot(label="Through the diffusion", elem_id="tradeoff-animation")
            with gr.Row(equal_height=True):
                frame = gr.Slider(
                    0,
                    toy.SNAPSHOTS,
                    value=0,
                    step=1,
                    label="Snapshot (0: the start, pure noise; last: the samples)",
                    elem_id="tradeoff-frame",
                    scale=4,
                )
                play = gr.Button("▶ Play", elem_id="tradeoff-play", min_width=70, scale=1)
                pause = gr.Button("❚❚ Pause", elem_id="tradeoff-pause", min_width=70, scale=1)
    with gr.Row():
        with gr.Column():
            sw_plot = gr.Plot(label="SW against η (2-D mixture)", elem_id="tradeoff-sw")
            sw_words = gr.Markdown(elem_id="tradeoff-sw-words")
        with gr.Column():
            w2_plot = gr.Plot(label="W2 against η (Example 3.2)", elem_id="tradeoff-w2")
            w2_words = gr.Markdown(elem_id="tradeoff-w2-words")
    snapshots = gr.State(None)

    def run_toy(
        sampler: str, eta: float, sigma_y: float, seed: int, steps: int
    ) -> Iterator[dict[Any, Any]]:
        """Run a sampler on the 2-D problem; stream its picture, then the SW of MGPS at this η
        on every problem of the chart."""
        try:
            view = toy.toy_view(sampler, eta, int(seed or 0), sigma_y, int(steps))
        except Exception as err:  # noqa: BLE001
            raise widgets.user_error(err) from None
        snap = view.snapshots
        yield {
            summary: view.summary,
            scatter: view.scatter,
            animation: toy.animation_figure(snap, 0),
            frame: gr.update(maximum=len(snap) - 1, value=0),
            snapshots: snap,
            sw_plot: toy.sw_figure(sigma_y, int(steps), eta),
            sw_words: toy.sw_words(sigma_y, int(steps)),
            w2_plot: toy.w2_figure(eta),
            w2_words: toy.w2_words(),
        }
        if sampler == "mgps" and toy.sweep([eta], sigma_y, int(steps)):
            yield {
                sw_plot: toy.sw_figure(sigma_y, int(steps), eta),
                sw_words: toy.sw_words(sigma_y, int(steps)),
            }

    ins = [sampler, eta, sigma_y, seed, steps]
    outs = [summary, scatter, animation, frame, snapshots, sw_plot, sw_words, w2_plot, w2_words]
    common: dict[str, Any] = dict(
        concurrency_limit=1, concurrency_id="toy", show_progress="minimal"
    )
    run.click(run_toy, ins, outs, api_name="tradeoff", **common)
    eta.release(run_toy, ins, outs, api_visibility="private", trigger_mode="always_last", **common)

    def first_visit(snap: toy.Snapshots | None, *values: Any) -> Iterator[dict[Any, Any]]:
        if snap is None:
            yield from run_toy(*values)

    tab.select(first_visit, [snapshots, *ins], outs, api_visibility="private", **common)

    # --- the animation: a server-side slider, and Play streaming the snapshots
    def show(snap: toy.Snapshots | None, k: int) -> Any:
        return gr.skip() if snap is None else toy.animation_figure(snap, int(k))

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

    def play_frames(snap: toy.Snapshots | None, k: int) -> Iterator[dict[Any, Any]]:
        if snap is None:
            return
        start = int(k) if int(k) < len(snap) - 1 else 0  # at the end: play again
        for j in range(start, len(snap)):
            yield {animation: toy.animation_figure(snap, j), frame: j}
            time.sleep(PLAY_DELAY)

    play_event = play.click(
        play_frames, [snapshots, frame], [animation, frame], api_visibility="private", **light
    )
    pause.click(None, None, None, cancels=[play_event], queue=False, api_visibility="private")
