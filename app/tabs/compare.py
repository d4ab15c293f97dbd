"""The Compare tab: one input, several samplers from the same seed and the same initial noise,
under one budget (equal cost by default: network calls, a VJP at its measured price), streamed
together: their current x̂0, ‖y − A(x̂0)‖ along each run, and a table of costs, metrics with 95 %
intervals and wall time whose status column follows each sampler (running, stopped at step k,
error, done); then a verdict line from the data. On the exact digits prior the exact posterior
mean and std beside theirs, and the samplers ranked by their distance to it. The image chosen
on Restore is carried over when the tab is opened.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import gradio as gr

import mgps

from .. import catalog, comparing, run_stop, status, widgets
from ..device import HEAVY, gpu, gpu_seconds, sampling_jobs

__all__ = ["build"]


def _duration(request: comparing.CompareRequest) -> int:
    """Seconds to ask ZeroGPU for."""
    return gpu_seconds(0.3, int(request.num_steps), runs=len(request.samplers))


def _fingerprint(value: Any) -> str:
    """A digest of an editor value's image and strokes ("" when it holds no image)."""
    if not isinstance(value, dict) or value.get("background") is None:
        return ""
    digest = hashlib.sha1()
    for part in [value["background"], *(value.get("layers") or [])]:
        digest.update(getattr(part, "tobytes", lambda p=part: str(p).encode())())
    return digest.hexdigest()


def carry_over(source: Any, carried: str) -> tuple[Any, str]:
    """On opening the tab: Restore's image (and strokes) into Compare's editor when Restore
    holds an image not carried before; otherwise nothing changes (what the user chose on
    Compare stays)."""
    mark = _fingerprint(source)
    if not mark or mark == carried:
        return gr.update(), carried
    gr.Info("The image chosen on Restore is carried over to Compare.")
    return source, mark


_gpu_compare = gpu(duration=_duration)(comparing.compare)


def _choices(prior: str) -> list[tuple[str, str]]:
    return [(mgps.SAMPLERS[n].label, n) for n in catalog.samplers_for_prior(prior)]


def _compat_note(operator: str, prior: str, chosen: list[str] | None) -> str:
    lines = []
    for s in chosen or []:
        why = catalog.incompatibility(s, operator, prior) if s in mgps.SAMPLERS else None
        if why:
            lines.append(f"⚠️ {mgps.SAMPLERS[s].label} will be skipped: {why}")
    hidden = catalog.hidden_samplers_note(prior)
    if hidden:
        lines.append(hidden)
    return "\n\n".join(lines)


def build(tab: gr.Tab | None = None, carry_from: gr.ImageEditor | None = None) -> None:
    """Lay out and wire the tab (inside the enclosing ``gr.Tab``, ``tab``); when it is opened,
    the image of the editor ``carry_from`` (Restore's) is carried over."""
    prior0 = catalog.default_prior()
    offered = [n for _, n in _choices(prior0)]
    chosen0 = [s for s in comparing.DEFAULT_SAMPLERS if s in offered]
    with gr.Row():
        with gr.Column(scale=5):
            editor = widgets.editor("compare", "Image: draw over the region to restore")
            widgets.examples(editor, prior0, "compare")
        with gr.Column(scale=4):
            prior, operator = widgets.prior_and_operator("compare", prior0)
            samplers = gr.CheckboxGroup(
                choices=_choices(prior0),
                value=chosen0,
                label=f"Samplers (at most {catalog.MAX_COMPARE}), all from the same initial noise",
                elem_id="compare-samplers",
            )
            controls = run_stop.run_controls("compare", "Compare")
            compat = gr.Markdown(
                _compat_note(catalog.DEFAULT_OPERATOR, prior0, chosen0),
                elem_classes=["mgps-note"],
            )
            budget = gr.Radio(
                choices=list(comparing.BUDGET_CHOICES),
                value="cost",
                label="Budget",
                info="Equal cost: each sampler gets the steps that cost what the first one's "
                "steps cost, in network calls (a call back-propagated through, a VJP, at its "
                "price measured on this device)",
                elem_id="compare-budget",
            )
            steps = gr.Slider(
                2,
                catalog.MAX_STEPS,
                value=50,
                step=1,
                label="Steps (equal cost: of the first sampler, which sets the budget; "
                "equal steps: of each)",
                elem_id="compare-steps",
            )
            inputs = widgets.problem_controls(
                "compare", editor, prior, operator, catalog.DEFAULT_SAMPLES
            )
            gr.Markdown(
                "Other parameters: each sampler's defaults with the paper's per-task settings. "
                "With the *Digits, exact* prior and a linear degradation the exact posterior "
                "mean and std are shown beside the samplers', and the samplers are ranked by "
                "their energy distance to it (computing it takes a few seconds).",
                elem_classes=["mgps-note"],
            )
    with gr.Row():
        observation = widgets.image("Observation y", "compare-observation", scale=1)
        live = gr.Gallery(
            label="x̂0 of each sampler (sample 1)",
            columns=catalog.MAX_COMPARE,
            format="png",
            height="auto",
            elem_id="compare-live",
            elem_classes=["mgps-gallery"],
            scale=3,
            object_fit="contain",
        )
    verdict = gr.Markdown("", elem_id="compare-verdict")
    plot = gr.Plot(label="‖y − A(x̂0)‖ along each run", elem_id="compare-plot")
    table = gr.Dataframe(
        headers=comparing.TABLE_COLUMNS,
        label="Cost, metrics and wall time: means ± 95 % intervals over the samples; cost = "
        "forward calls + (VJP price − 1) × VJPs (status: running, stopped at step k, error: …, "
        "done)",
        interactive=False,
        wrap=True,
        elem_id="compare-table",
        elem_classes=["mgps-table"],
    )
    summary = gr.Gallery(
        label="Posterior means and per-pixel stds (and the exact ones)",
        columns=8,
        format="png",
        height="auto",
        fit_columns=False,
        elem_id="compare-summary",
        elem_classes=["mgps-gallery"],
        object_fit="contain",
    )
    state = controls.status
    runs = run_stop.Runs()

    def run_compare(
        editor: Any,
        operator: str,
        prior: str,
        samplers: list[str],
        budget: str,
        num_steps: int,
        sigma_y: float,
        num_samples: int,
        seed: int,
        request: gr.Request = None,  # type: ignore[assignment]
        **params: Any,
    ) -> Iterator[dict[Any, Any]]:
        """Run several samplers side by side from the same initial noise."""
        job = comparing.CompareRequest(
            image=editor,
            samplers=tuple(samplers or ()),
            operator=operator,
            prior=prior,
            operator_params=inputs.operator_params(operator, params),
            num_steps=num_steps,
            sigma_y=sigma_y,
            num_samples=num_samples,
            seed=seed,
            budget=budget,
        )
        rows: list[list[Any]] | None = None

        def render(frame: comparing.CompareFrame) -> dict[Any, Any]:
            nonlocal rows
            widgets.toast_notes(frame.notes)
            update: dict[Any, Any] = {state: frame.status}
            if frame.table is not None:
                rows = frame.table
                update[table] = frame.table
            if frame.verdict is not None:
                update[verdict] = frame.verdict
            if frame.observation is not None:  # a new run: clear the previous results
                update.update({observation: frame.observation, live: [], plot: None})
                update.update({summary: [], verdict: "", table: None})
                return update
            if frame.live is not None:
                update[live] = frame.live
            if frame.figure is not None:
                update[plot] = frame.figure
            if frame.summary is not None:
                update[summary] = widgets.gallery(frame.summary, 8, 160)
            return update

        def stopped(frame: comparing.CompareFrame) -> dict[Any, Any] | None:
            if frame.final:
                return None
            return {
                state: status.stopped(frame.status),
                table: comparing.stopped_table(frame.table or rows),
            }

        yield from runs.stream(request, state, _gpu_compare(job), render, stopped)

    run_stop.wire_run(
        controls,
        runs,
        widgets.with_keywords(run_compare, list(inputs.operator_controls)),
        inputs=[
            editor,
            operator,
            prior,
            samplers,
            budget,
            steps,
            inputs.sigma_y,
            inputs.num_samples,
            inputs.seed,
        ],
        inputs_kwargs=dict(inputs.operator_controls),
        outputs=[state, observation, live, plot, table, summary, verdict],
        api_name="compare",
        concurrency_limit=sampling_jobs(),
        concurrency_id=HEAVY,
        show_progress="hidden",
    )
    widgets.wire_problem_inputs(inputs)

    def on_prior(prior_name: str, chosen: list[str]) -> Any:
        choices = _choices(prior_name)
        names = {n for _, n in choices}
        return gr.update(choices=choices, value=[s for s in chosen or [] if s in names])

    prior.change(on_prior, [prior, samplers], samplers, queue=False, api_visibility="private")
    for comp in (operator, prior, samplers):
        comp.change(
            _compat_note,
            [operator, prior, samplers],
            compat,
            queue=False,
            api_visibility="private",
        )
    if tab is not None and carry_from is not None:
        carried = gr.State("")
        tab.select(
            carry_over,
            [carry_from, carried],
            [editor, carried],
            api_visibility="private",  # queued: the message reaches the page
            show_progress="hidden",  # a late "pending" over an image editor takes its strokes
        )
