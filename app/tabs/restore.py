"""The Restore tab: an image (uploaded, an example that brings its prior, or drawn on a blank
canvas), clean (the app degrades it) or already degraded (it is y), a degradation, a prior and
a sampler; Run streams x̂0, MGPS's midpoint sample and x_t, then the restoration, a
before/after slider, the N samples with their mean and per-pixel std, the metrics and the
run's files in one zip. Stop keeps the last step's x̂0 on the page. Run, Stop and the status
sit at the top of the settings; the sampler's parameters are in a collapsed "Advanced" section.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import gradio as gr

import mgps

from .. import catalog, own_image_widgets, restoring, run_stop, status, widgets
from ..device import HEAVY, gpu, gpu_seconds, sampling_jobs

__all__ = ["build"]


def _duration(request: restoring.RestoreRequest) -> int:
    """Seconds to ask ZeroGPU for."""
    steps = int(request.sampler_params.get("num_steps") or 100)
    return gpu_seconds(0.2, steps, samples=int(request.num_samples))


_gpu_restore = gpu(duration=_duration)(restoring.restore)

MASK_HINT = "Draw over the region to restore with the brush."


def _compat_note(operator: str, prior: str, sampler: str | None) -> str:
    lines = []
    why = catalog.incompatibility(sampler, operator, prior) if sampler else None
    if why:
        lines.append(f"⚠️ {why}")
    hidden = catalog.hidden_samplers_note(prior)
    if hidden:
        lines.append(hidden)
    if operator == "mask":
        lines.append(MASK_HINT)
    return "\n\n".join(lines)


@dataclass
class _Image:
    """The image column: the editor with its own-image controls and examples, and what a run
    streams under it."""

    editor: gr.ImageEditor
    own: own_image_widgets.OwnImage
    example_set: Any
    x0: gr.Image
    midpoint: gr.Image
    x_t: gr.Image


@dataclass
class _Settings:
    """The settings column: prior, degradation, sampler, Run / Stop, the problem's controls and
    the sampler's parameters (``sampler_controls`` keyed ``<sampler>__<param>``)."""

    prior: gr.Dropdown
    operator: gr.Dropdown
    sampler: gr.Dropdown
    controls: run_stop.RunControls
    compat: gr.Markdown
    inputs: widgets.ProblemInputs
    sampler_groups: dict[str, gr.Group]
    sampler_controls: dict[str, gr.components.Component]


@dataclass
class _Results:
    """What a finished run shows under both columns."""

    observation: gr.Image
    restoration: gr.Image
    slider: gr.ImageSlider
    gallery: gr.Gallery
    table: gr.Markdown
    download: gr.DownloadButton
    metrics: gr.JSON


def _image_column(prior0: str) -> _Image:
    editor = widgets.editor(
        "restore",
        "Image: upload yours, pick an example, or draw on a blank canvas",
    )
    own = own_image_widgets.drawing_controls("restore", "restore-editor")
    example_set = own_image_widgets.examples(editor, prior0, "restore", own)
    with gr.Row(equal_height=True):  # what a run streams, under the image
        x0 = widgets.image("x̂0: estimate of the clean image", "restore-x0", height=230)
        midpoint = widgets.image("midpoint sample x_ℓ (MGPS)", "restore-midpoint", height=230)
        x_t = widgets.image("x_t: the noisy state", "restore-xt", height=230)
    return _Image(editor, own, example_set, x0, midpoint, x_t)


def _sampler_settings() -> tuple[dict[str, gr.Group], dict[str, gr.components.Component]]:
    """The "Advanced" section: one group of controls per sampler, the chosen one visible."""
    sampler_groups: dict[str, gr.Group] = {}
    sampler_controls: dict[str, gr.components.Component] = {}
    with gr.Accordion("Advanced: sampler settings", open=False, elem_id="restore-advanced"):
        gr.Markdown(
            "They start at the paper's settings for the degradation; the steps are "
            "CPU-friendly (the paper uses 1000 for most baselines).",
            elem_classes=["mgps-note"],
        )
        for e in mgps.SAMPLERS:
            values = catalog.initial_values(e.name, catalog.DEFAULT_OPERATOR)
            with gr.Group(visible=e.name == catalog.DEFAULT_SAMPLER) as group:
                gr.Markdown(f"**{e.label}**: {e.reference}", elem_classes=["mgps-note"])
                for p in e.params:
                    key = f"{e.name}__{p.name}"
                    sampler_controls[key] = widgets.control(
                        p, values[p.name], f"restore-{e.name}-{p.name}"
                    )
            sampler_groups[e.name] = group
    return sampler_groups, sampler_controls


def _settings_column(image: _Image, prior0: str) -> _Settings:
    prior, operator = widgets.prior_and_operator("restore", prior0)
    sampler = gr.Dropdown(
        choices=catalog.sampler_choices(catalog.DEFAULT_OPERATOR, prior0),
        value=catalog.DEFAULT_SAMPLER,
        label="Sampler",
        elem_id="restore-sampler",
    )
    controls = run_stop.run_controls("restore")
    own_image_widgets.mode_controls("restore", image.own)
    compat = gr.Markdown(
        _compat_note(catalog.DEFAULT_OPERATOR, prior0, catalog.DEFAULT_SAMPLER),
        elem_classes=["mgps-note"],
    )
    inputs = widgets.problem_controls(
        "restore", image.editor, prior, operator, catalog.DEFAULT_SAMPLES
    )
    own_image_widgets.sigma_estimate("restore", image.own)
    sampler_groups, sampler_controls = _sampler_settings()
    return _Settings(
        prior, operator, sampler, controls, compat, inputs, sampler_groups, sampler_controls
    )


def _results_panel() -> _Results:
    with gr.Row(equal_height=True):
        observation = widgets.image("Observation y", "restore-observation")
        restoration = widgets.image(
            "Restoration (the sample most consistent with y)", "restore-result"
        )
        slider = gr.ImageSlider(
            label="Before / after: y and the restoration (drag)",
            type="numpy",
            format="png",
            interactive=False,
            elem_id="restore-slider",
        )
    gallery = gr.Gallery(
        label="N samples, their mean and per-pixel std",
        columns=6,
        format="png",
        height="auto",
        fit_columns=False,
        elem_id="restore-gallery",
        elem_classes=["mgps-gallery"],
        object_fit="contain",
    )
    table = gr.Markdown(elem_id="restore-metrics")
    download = gr.DownloadButton(
        "Download the run (zip: input or observation, samples, mean, std, best, metrics.json)",
        value=None,
        interactive=False,
        elem_id="restore-download",
    )
    with gr.Accordion("Raw metrics (JSON)", open=False):
        metrics = gr.JSON(label="metrics")
    return _Results(observation, restoration, slider, gallery, table, download, metrics)


def build() -> gr.ImageEditor:
    """Lay out and wire the tab (inside the enclosing ``gr.Tab``); return its image editor
    (Compare carries its image over)."""
    prior0 = catalog.default_prior()
    with gr.Row():
        with gr.Column(scale=5):
            image = _image_column(prior0)
        with gr.Column(scale=4):
            settings = _settings_column(image, prior0)
    run_event = _wire_run(image, settings, _results_panel())
    _wire_choices(image, settings)
    _wire_estimate(settings, run_event)
    _wire_presets(settings)
    return image.editor


def _restore_handler(
    image: _Image, settings: _Settings, shown: _Results, runs: run_stop.Runs
) -> Callable[..., Iterator[dict[Any, Any]]]:
    """The Run handler: it streams x̂0, the midpoint and x_t, then the results; on Stop it
    shows the last step's x̂0."""
    inputs, state = settings.inputs, settings.controls.status
    x0, midpoint, x_t = image.x0, image.midpoint, image.x_t
    observation, restoration, slider = shown.observation, shown.restoration, shown.slider
    gallery, table, metrics, download = shown.gallery, shown.table, shown.metrics, shown.download

    def run_restore(
        editor: Any,
        operator: str,
        prior: str,
        sampler: str,
        sigma_y: float,
        num_samples: int,
        seed: int,
        input_mode: str,
        strokes: str,
        read: Any = None,
        request: gr.Request = None,  # type: ignore[assignment]
        **params: Any,
    ) -> Iterator[dict[Any, Any]]:
        """Restore an image and stream x̂0, the midpoint and x_t, then the results."""
        job = restoring.RestoreRequest(
            image=editor,
            operator=operator,
            prior=prior,
            sampler=sampler,
            operator_params=inputs.operator_params(operator, params),
            sampler_params={
                k.split("__", 1)[1]: v for k, v in params.items() if k.startswith(f"{sampler}__")
            },
            sigma_y=sigma_y,
            num_samples=num_samples,
            seed=seed,
            input_mode=input_mode,
            strokes=strokes,
            original=read[2] if read else None,  # the uploaded file as it is
        )
        label = mgps.SAMPLERS[sampler].label if sampler in mgps.SAMPLERS else str(sampler)
        last = 0.0
        begin = time.perf_counter()
        leftovers = restoring.Leftovers()  # what Stop leaves on the page

        def results(final: restoring.Final) -> dict[Any, Any]:
            return {
                state: final.status(label),
                observation: final.observation,
                restoration: final.restoration,
                slider: final.before_after,
                gallery: widgets.gallery(final.gallery, columns=6, tile=195),
                table: final.table,
                metrics: final.metrics,
                download: gr.update(value=final.archive, interactive=True),
            }

        def render(frame: restoring.Frame | restoring.Final) -> dict[Any, Any] | None:
            nonlocal last
            leftovers.feed(frame)
            if isinstance(frame, restoring.Final):
                return results(frame)
            widgets.toast_notes(frame.notes)
            now = time.monotonic()
            if frame.step == 0:  # a new run: clear the previous results
                last = now
                return {
                    state: frame.status(label),
                    observation: frame.observation,
                    x0: frame.x0_prior,
                    midpoint: None,
                    x_t: None,
                    restoration: None,
                    slider: None,
                    gallery: None,
                    table: "",
                    metrics: None,
                    download: gr.update(value=None, interactive=False),
                }
            if not frame.has_images and now - last < 0.1 and frame.step < frame.num_steps:
                return None  # keep the stream light; Stop still acts within a step or 0.1 s
            last = now
            update: dict[Any, Any] = {state: frame.status(label)}
            for component, value in ((x0, frame.x0_hat), (midpoint, frame.midpoint)):
                if value is not None:
                    update[component] = value
            if frame.x_t is not None:
                update[x_t] = frame.x_t
            return update

        def stopped(frame: restoring.Frame | restoring.Final) -> dict[Any, Any] | None:
            """What Stop leaves: the latest x̂0 of the N samples, scored, with the run's files
            so far, marked "stopped at step k/K"."""
            if isinstance(frame, restoring.Final):
                return None  # it finished meanwhile: show the results
            leftovers.feed(frame)
            partial = leftovers.final(
                frame.step, frame.num_steps, label, time.perf_counter() - begin
            )
            if partial is None:
                return {state: status.stopped_at(label, frame.step, frame.num_steps)}
            return {**results(partial), x0: partial.gallery[0][0]}

        yield from runs.stream(request, state, _gpu_restore(job), render, stopped)

    return run_restore


def _wire_run(image: _Image, settings: _Settings, shown: _Results) -> Any:
    """Run (one keyword per operator and sampler parameter for API clients) and Stop."""
    inputs, sampler_controls = settings.inputs, settings.sampler_controls
    params_of = {**inputs.operator_controls, **sampler_controls}
    assert len(params_of) == len(inputs.operator_controls) + len(sampler_controls), "name clash"
    runs = run_stop.Runs()
    run_restore = _restore_handler(image, settings, shown, runs)
    # the first nine outputs in this order: API clients read them by position
    outputs = [settings.controls.status, shown.observation, image.x0, image.midpoint, image.x_t]
    outputs += [shown.restoration, shown.gallery, shown.table, shown.metrics]
    outputs += [shown.slider, shown.download]
    return run_stop.wire_run(
        settings.controls,
        runs,
        widgets.with_keywords(run_restore, list(params_of)),
        inputs=[
            image.editor,
            settings.operator,
            settings.prior,
            settings.sampler,
            inputs.sigma_y,
            inputs.num_samples,
            inputs.seed,
            image.own.input_mode,
            image.own.strokes,
            image.own.read,
        ],
        inputs_kwargs=params_of,
        outputs=outputs,
        api_name="restore",
        concurrency_limit=sampling_jobs(),
        concurrency_id=HEAVY,
        show_progress="hidden",
    )


def _wire_choices(image: _Image, settings: _Settings) -> None:
    """The widgets that follow the choices: the problem's controls, the own-image controls,
    the sampler's group, the samplers offered and the compatibility note."""
    inputs, prior, operator = settings.inputs, settings.prior, settings.operator
    sampler, sampler_groups, compat = settings.sampler, settings.sampler_groups, settings.compat
    widgets.wire_problem_inputs(inputs)
    own_image_widgets.wire(
        image.own,
        image.example_set,
        image.editor,
        prior,
        operator,
        inputs.sigma_y,
        inputs.operator_controls.get("jpeg__quality"),
    )
    names = list(sampler_groups)

    def on_sampler(s: str) -> dict[Any, Any]:
        return {sampler_groups[n]: gr.update(visible=(n == s)) for n in names}

    sampler.change(
        on_sampler,
        sampler,
        [sampler_groups[n] for n in names],
        queue=False,
        api_visibility="private",
    )

    def on_choice(op: str, prior_name: str, s: str) -> tuple[Any, str]:
        choices = catalog.sampler_choices(op, prior_name)
        value = s if s in {name for _, name in choices} else catalog.DEFAULT_SAMPLER
        return gr.update(choices=choices, value=value), _compat_note(op, prior_name, value)

    for comp in (operator, prior, sampler):
        comp.change(
            on_choice,
            [operator, prior, sampler],
            [sampler, compat],
            queue=False,
            api_visibility="private",
        )


def _wire_estimate(settings: _Settings, run_event: Any) -> None:
    """The time estimate follows the sampler, the prior, the steps and the samples."""
    prior, sampler, inputs = settings.prior, settings.sampler, settings.inputs
    sampler_controls, controls = settings.sampler_controls, settings.controls
    steps_keys = [k for k in sampler_controls if k.endswith("__num_steps")]

    def on_estimate(prior_name: str, s: str, n: int, *steps: Any) -> str:
        by_sampler = {k.split("__")[0]: v for k, v in zip(steps_keys, steps, strict=True)}
        return restoring.estimate_note(prior_name, s, by_sampler.get(s), n)

    estimate_inputs = [prior, sampler, inputs.num_samples] + [
        sampler_controls[k] for k in steps_keys
    ]
    for comp in estimate_inputs:
        comp.change(
            on_estimate,
            estimate_inputs,
            controls.estimate,
            queue=False,
            api_visibility="private",
        )
    run_event.then(
        on_estimate, estimate_inputs, controls.estimate, queue=False, api_visibility="private"
    )


def _wire_presets(settings: _Settings) -> None:
    """Per-task presets: a new degradation sets the sampler parameters that have a per-task
    setting for some degradation (to the new one's, or the default); the others are kept."""
    operator, sampler_controls = settings.operator, settings.sampler_controls
    preset_keys = [
        k
        for k in sampler_controls
        if k.split("__", 1)[1] in catalog.preset_params(k.split("__")[0])
    ]

    def on_operator(op: str) -> list[Any]:
        out = []
        for key in preset_keys:
            s, name = key.split("__", 1)
            out.append(catalog.app_default(s, mgps.SAMPLERS[s].param(name), op))
        return out

    operator.change(
        on_operator,
        operator,
        [sampler_controls[k] for k in preset_keys],
        queue=False,
        api_visibility="private",
    )
