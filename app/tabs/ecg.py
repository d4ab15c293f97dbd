"""The ECG tab: reconstruct a held-out synthetic 12-lead ECG window from lead I alone, or from
its first half, with the ``ecg`` prior (the paper's §4.2); the 12 leads stream while sampling,
then the samples and an error table. Where the prior or the data are missing the tab says so
and offers nothing to run.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

import gradio as gr

from .. import catalog, ecg_runs, run_stop, status, widgets
from ..device import HEAVY, gpu, sampling_jobs

__all__ = ["build"]

log = logging.getLogger(__name__)

_gpu_ecg = gpu(duration=ecg_runs.ecg_duration)(ecg_runs.reconstruct)

INTRO = (
    "Reconstruct a **12-lead ECG** with the `ecg` diffusion prior (paper §4.2): from **lead I "
    "alone** (the other leads missing) or from the **first half** of the window (the second "
    "half missing on every lead). The true signal is black, the observation the thick orange "
    "band, and each posterior sample a thin coloured line; while sampling, the lines are the "
    f"current x̂0. σ_y = {ecg_runs.SIGMA_Y}."
)


def build() -> None:
    """Lay out and wire the tab (inside the enclosing ``gr.Tab``)."""
    gr.Markdown(INTRO)
    why = ecg_runs.availability()
    if why is not None:  # no trained prior or no data here: say so, offer nothing to run
        gr.Markdown(f"⚠️ {why}", elem_id="ecg-unavailable")
        gr.Markdown(ecg_runs.DATA_NOTE, elem_classes=["mgps-note"])
        return
    n_windows = ecg_runs.num_test_windows()
    try:
        first_figure, first_info = ecg_runs.preview(0, ecg_runs.DEFAULT_TASK, 0)
    except Exception as err:  # noqa: BLE001 - shown, not raised, at start-up
        log.warning("ECG preview failed: %s", err)
        first_figure, first_info = None, str(err)
    with gr.Row():
        with gr.Column(scale=2, min_width=320):
            task = gr.Radio(
                choices=ecg_runs.TASK_CHOICES,
                value=ecg_runs.DEFAULT_TASK,
                label="Task",
                elem_id="ecg-task",
            )
            sampler = gr.Dropdown(
                choices=ecg_runs.ecg_samplers(ecg_runs.DEFAULT_TASK),
                value=ecg_runs.DEFAULT_SAMPLER,
                label="Sampler",
                info="pixel-space samplers that can run the task",
                elem_id="ecg-sampler",
            )
            controls = run_stop.run_controls("ecg")
            window = gr.Slider(
                0,
                n_windows - 1,
                value=0,
                step=1,
                label=f"Test window (one of the {n_windows} held-out windows)",
                elem_id="ecg-window",
            )
            shuffle = gr.Button("Random window", size="sm", elem_id="ecg-random")
            window_note = gr.Markdown(first_info, elem_classes=["mgps-note"])
            with gr.Row():
                num_samples = gr.Slider(
                    1,
                    ecg_runs.MAX_SAMPLES,
                    value=ecg_runs.DEFAULT_SAMPLES,
                    step=1,
                    label="Samples",
                    elem_id="ecg-num-samples",
                )
                seed = gr.Number(value=0, precision=0, minimum=0, maximum=2**31 - 1, label="Seed")
            with gr.Accordion("Advanced: sampler settings", open=False):
                settings = gr.Markdown(
                    ecg_runs.settings_note(ecg_runs.DEFAULT_SAMPLER), elem_classes=["mgps-note"]
                )
                steps = gr.Slider(
                    2,
                    catalog.MAX_STEPS,
                    value=ecg_runs.default_steps(ecg_runs.DEFAULT_SAMPLER),
                    step=1,
                    label="Steps",
                    info="starts at the paper's ECG count for the sampler (Table 14)",
                    elem_id="ecg-steps",
                )
            gr.Markdown(ecg_runs.DATA_NOTE, elem_classes=["mgps-note"], elem_id="ecg-data-note")
        with gr.Column(scale=5):
            plot = gr.Plot(value=first_figure, label="12 leads", elem_id="ecg-plot")
            table = gr.Dataframe(
                headers=ecg_runs.TABLE_COLUMNS,
                label="Errors over the missing entries: MAE / RMSE of each sample (averaged), "
                "of the samples' mean, and of zero-filling; on the 9 modelled leads and on the "
                "12 rebuilt leads",
                interactive=False,
                wrap=True,
                elem_id="ecg-table",
            )
    state = controls.status
    runs = run_stop.Runs()

    def run_ecg(
        window: int,
        task: str,
        sampler: str,
        num_steps: int,
        num_samples: int,
        seed: int,
        request: gr.Request = None,  # type: ignore[assignment]
    ) -> Iterator[dict[Any, Any]]:
        """Reconstruct a held-out synthetic ECG window (lead I observed, or its second half
        missing); streams the 12-lead figure, then the samples and an error table."""
        job = ecg_runs.EcgRequest(
            window=window,
            task=task,
            sampler=sampler,
            num_steps=num_steps,
            num_samples=num_samples,
            seed=seed,
        )
        last = 0.0

        def render(frame: ecg_runs.EcgFrame) -> dict[Any, Any] | None:
            nonlocal last
            now = time.monotonic()
            if frame.final or frame.step == 0:
                last = now
                return {state: frame.status, plot: frame.figure, table: frame.table or None}
            if frame.figure is None and now - last < 0.1:
                return None  # keep the stream light; Stop still acts within a step or 0.1 s
            last = now
            update: dict[Any, Any] = {state: frame.status}
            if frame.figure is not None:
                update[plot] = frame.figure
            return update

        def stopped(frame: ecg_runs.EcgFrame) -> dict[Any, Any] | None:
            return None if frame.final else {state: status.stopped(frame.status)}

        yield from runs.stream(request, state, _gpu_ecg(job), render, stopped)

    run_stop.wire_run(
        controls,
        runs,
        run_ecg,
        inputs=[window, task, sampler, steps, num_samples, seed],
        outputs=[state, plot, table],
        api_name="ecg",
        concurrency_limit=sampling_jobs(),
        concurrency_id=HEAVY,
        show_progress="hidden",
    )

    def show_window(window: int, task: str, seed: int) -> tuple[Any, str]:
        try:
            return ecg_runs.preview(window, task, seed)
        except Exception as err:  # noqa: BLE001
            raise widgets.user_error(err) from None

    preview = dict(
        fn=show_window,
        inputs=[window, task, seed],
        outputs=[plot, window_note],
        api_visibility="private",
        trigger_mode="always_last",
        concurrency_id="ecg-preview",
    )
    window.change(**preview)
    task.change(**preview)
    seed.submit(**preview)
    shuffle.click(ecg_runs.random_window, None, window, queue=False, api_visibility="private")

    def on_task(task: str, current: str) -> Any:
        choices = ecg_runs.ecg_samplers(task)
        names = [c[1] for c in choices]
        return gr.update(choices=choices, value=current if current in names else names[0])

    task.change(on_task, [task, sampler], sampler, queue=False, api_visibility="private")

    def on_sampler(s: str) -> tuple[int, str]:
        return ecg_runs.default_steps(s), ecg_runs.settings_note(s)

    sampler.change(on_sampler, sampler, [steps, settings], queue=False, api_visibility="private")
