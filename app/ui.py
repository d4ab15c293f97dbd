"""Layout and wiring of the Gradio app. Widgets are generated from the library's registries
(``catalog``); the work is done by plain handlers (``handlers``, ``gmm_tab``). This module
turns their frames into component updates and library errors into ``gr.Error``.

Tabs: Restore, Compare, Midpoint trade-off, ECG.
"""

from __future__ import annotations

import dataclasses
import inspect
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gradio as gr
from PIL import Image, UnidentifiedImageError

import mgps

from . import catalog, ecg_tab, gmm_tab, handlers
from .convert import MAX_MEGAPIXELS
from .device import DEVICE, gpu, on_space, preload_priors

__all__ = ["build_demo", "launch_kwargs", "preload", "QUEUE_SIZE"]

log = logging.getLogger(__name__)

QUEUE_SIZE = 16  # jobs waiting at most; more are refused with "queue full"
HEAVY = "device"  # concurrency id shared by every sampling event: one job at a time per device
CSS = ".mgps-note {font-size: 0.9em; opacity: 0.85}"

HEADER = f"""
# MGPS — diffusion posterior sampling with midpoint guidance
Restore an image with a diffusion prior and **watch the posterior samples form**:
Moufad et al., *Variational Diffusion Posterior Sampling with Midpoint Guidance*, ICLR 2025
([arXiv:2410.09945](https://arxiv.org/abs/2410.09945)). The embedded 28×28 priors run on a CPU
in seconds; everything offered below comes from the `mgps` library's registries.
<span class="mgps-note">{catalog.LIMITS_TEXT} Device: {DEVICE.type.upper()}.</span>
"""


# ---------------------------------------------------------------------------- components
def _guard_uploads(editor: gr.ImageEditor) -> gr.ImageEditor:
    """Make ``editor`` refuse files that are not images, or images over
    :data:`~app.convert.MAX_MEGAPIXELS`, with a clear message and before decoding them.

    (Wrapping the instance's converter rather than subclassing: gradio writes a ``.pyi`` stub
    next to the source of every component subclass.)
    """
    convert = editor.convert_and_format_image

    def checked(file: Any, flatten_on_white: bool = False) -> Any:
        path = getattr(file, "path", None)
        if path is not None:
            name = getattr(file, "orig_name", None) or Path(path).name
            try:
                with Image.open(path) as img:
                    w, h = img.size
            except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as err:
                raise gr.Error(
                    f"{name!r} is not an image this app can read (PNG, JPEG, BMP, GIF, TIFF, "
                    f"WebP): {type(err).__name__}",
                    print_exception=False,
                ) from None
            if w * h > MAX_MEGAPIXELS * 1_000_000:
                raise gr.Error(
                    f"{name!r} is {w}×{h} = {w * h / 1e6:.0f} megapixels; the limit is "
                    f"{MAX_MEGAPIXELS}. Downscale it first.",
                    print_exception=False,
                )
        try:
            return convert(file, flatten_on_white)
        except gr.Error:
            raise
        except Exception as err:  # noqa: BLE001 - truncated files and the like
            raise gr.Error(f"could not read the uploaded image: {err}") from None

    editor.convert_and_format_image = checked  # type: ignore[method-assign]
    return editor


BRUSH_SIZE = 3  # image pixels: right for the 28×28 digits; the toolbar's "Brush Size" changes it


def _editor(label: str) -> gr.ImageEditor:
    editor = gr.ImageEditor(
        label=label,
        type="numpy",
        image_mode="RGBA",
        sources=("upload", "clipboard"),
        layers=False,
        transforms=(),
        brush=gr.Brush(colors=["#ff2d55"], color_mode="fixed", default_size=BRUSH_SIZE),
        eraser=gr.Eraser(default_size=BRUSH_SIZE),
        canvas_size=(256, 256),
        height=380,
        buttons=[],
        elem_classes=["mgps-editor"],
    )
    return _guard_uploads(editor)


def _image(label: str, elem_id: str | None = None, **kw: Any) -> gr.Image:
    return gr.Image(
        label=label,
        format="png",
        type="numpy",
        interactive=False,
        elem_id=elem_id,
        buttons=["download"],
        **kw,
    )


# ---------------------------------------------------------------------------- examples
def _examples(editor: gr.ImageEditor, label: str) -> None:
    files = catalog.examples()
    if not files:
        return
    gr.Examples(
        examples=[[{"background": str(f), "layers": [], "composite": None}] for f in files],
        inputs=[editor],
        label=label,
        example_labels=[f.stem.replace("_", " ") for f in files],
        cache_examples=False,
        examples_per_page=12,
    )


# ---------------------------------------------------------------------------- errors
def _user_error(err: BaseException) -> gr.Error:
    """A library error as a message for the user (never a crash)."""
    if isinstance(err, mgps.SamplerDivergedError):
        return gr.Error(
            f"The sampler diverged. {err}", title="Sampler diverged", print_exception=False
        )
    if isinstance(err, ValueError | KeyError):
        return gr.Error(str(err), title="Cannot run this", print_exception=False)
    log.exception("unexpected error in a handler")
    return gr.Error(f"Unexpected error ({type(err).__name__}): {err}", title="Error")


def _guard(stream: Iterator[Any]) -> Iterator[Any]:
    try:
        yield from stream
    except gr.Error:
        raise
    except Exception as err:  # noqa: BLE001 - reported to the user
        raise _user_error(err) from None


# ---------------------------------------------------------------------------- shared inputs
def _control(p: mgps.Param, value: Any, key: str) -> gr.components.Component:
    """One widget for a registry ``Param``."""
    info = p.help or None
    label = p.name.replace("_", " ")
    if isinstance(p.default, bool):
        return gr.Checkbox(value=bool(value), label=label, info=info, key=key, elem_id=key)
    if p.choices:
        return gr.Dropdown(
            choices=list(p.choices), value=value, label=label, info=info, key=key, elem_id=key
        )
    is_int = isinstance(p.default, int)
    if p.default is None:  # a number box cannot be empty: text, empty = the default
        return gr.Textbox(
            value="" if value is None else str(value),
            label=label + " (empty: default)",
            info=info,
            key=key,
            elem_id=key,
            placeholder="default",
        )
    if p.low is None or p.high is None or (p.high - p.low) > 1000:
        return gr.Number(
            value=value,
            label=label,
            info=info,
            minimum=p.low,
            maximum=p.high,
            precision=0 if is_int else None,
            step=p.step or (1 if is_int else None),
            key=key,
            elem_id=key,
        )
    return gr.Slider(
        minimum=p.low,
        maximum=p.high,
        value=value,
        step=p.step or (1 if is_int else 0.01),
        label=label,
        info=info,
        key=key,
        elem_id=key,
    )


@dataclass
class ProblemInputs:
    """Image, degradation and prior controls (shared by the Restore and Compare tabs)."""

    editor: gr.ImageEditor
    operator: gr.Dropdown
    operator_groups: dict[str, gr.Group]
    operator_controls: dict[str, gr.components.Component]  # "<operator>__<param>" -> widget
    sigma_y: gr.Slider
    prior: gr.Dropdown
    prior_note: gr.Markdown
    seed: gr.Number
    num_samples: gr.Slider

    def operator_params(self, operator: str, values: dict[str, Any]) -> dict[str, Any]:
        prefix = f"{operator}__"
        return {k[len(prefix) :]: v for k, v in values.items() if k.startswith(prefix)}


def _prior_note(prior: str) -> str:
    """The chosen prior's description, and which priors cannot load here and why."""
    by_reason: dict[str, list[str]] = {}
    for p in catalog.priors():
        if not p.available:
            by_reason.setdefault(p.why, []).append(p.label)
    text = mgps.PRIORS[prior].description if prior in mgps.PRIORS else ""
    for why, labels in by_reason.items():
        text += f"\n\nUnavailable ({why}): " + "; ".join(labels) + "."
    return text


def _problem_inputs(tab: str, num_samples: int) -> ProblemInputs:
    editor = _editor("Image — draw over the region to restore (for the free-form mask)")
    _examples(editor, "Examples (28×28 digits and clothes; the editor zooms in)")
    ops = catalog.image_operators()
    operator = gr.Dropdown(
        choices=[(catalog.operator_label(e), e.name) for e in ops],
        value=catalog.DEFAULT_OPERATOR,
        label="Degradation",
        info="the forward model A: y = A(x) + σ_y·noise",
    )
    groups: dict[str, gr.Group] = {}
    controls: dict[str, gr.components.Component] = {}
    for e in ops:
        params = catalog.operator_params(e)
        if not params:
            continue
        with gr.Group(visible=e.name == catalog.DEFAULT_OPERATOR) as group:
            for p in params:
                key = f"{e.name}__{p.name}"
                controls[key] = _control(p, p.default, f"{tab}-{e.name}-{p.name}")
        groups[e.name] = group
    sigma_y = gr.Slider(
        0.001, 1.0, value=0.05, step=0.001, label="σ_y (observation noise, [-1, 1] units)"
    )
    choices = [(p.label, p.name) for p in catalog.priors() if p.available]
    prior = gr.Dropdown(choices=choices, value=catalog.DEFAULT_PRIOR, label="Prior")
    prior_note = gr.Markdown(_prior_note(catalog.DEFAULT_PRIOR), elem_classes=["mgps-note"])
    with gr.Row():
        seed = gr.Number(value=0, precision=0, minimum=0, maximum=2**31 - 1, label="Seed")
        n = gr.Slider(
            1,
            catalog.MAX_SAMPLES,
            value=num_samples,
            step=1,
            label="Samples N",
            elem_id=f"{tab}-num-samples",
        )
    return ProblemInputs(editor, operator, groups, controls, sigma_y, prior, prior_note, seed, n)


def _show_operator_group(inputs: ProblemInputs) -> None:
    names = list(inputs.operator_groups)

    def show(op: str) -> list[Any]:
        return [gr.update(visible=(name == op)) for name in names]

    inputs.operator.change(
        show,
        inputs.operator,
        [inputs.operator_groups[n] for n in names],
        queue=False,
        api_visibility="private",
    )
    inputs.prior.change(
        _prior_note, inputs.prior, inputs.prior_note, queue=False, api_visibility="private"
    )


# ---------------------------------------------------------------------------- Restore tab
def _frame_status(frame: handlers.Frame, label: str) -> str:
    return frame.status(label)


def _notes(notes: list[str]) -> list[str]:
    """Loader notes worth a toast: crops, resizes, ignored strokes; not the colour-mode
    conversions that every editor upload goes through."""
    return [n for n in notes if not n.startswith(("converted", "composited", "mask: read"))]


def _with_keywords(fn: Any, names: list[str]) -> Any:
    """Declare ``**params`` of ``fn`` as keyword-only parameters ``names`` (default None), so
    that API clients see named, optional parameters (one per registry ``Param``)."""
    sig = inspect.signature(fn)
    head = [p for p in sig.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
    extra = [inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, default=None) for n in names]
    fn.__signature__ = sig.replace(parameters=[*head, *extra])
    return fn


def _gallery(items: list[Any], columns: int, tile: int) -> Any:
    """A gallery value with a height that fits its rows (no blank band, no inner scroll on a
    wide page)."""
    rows = max(1, -(-len(items) // columns))
    return gr.Gallery(value=items, height=rows * tile + 50)


def _skip(value: Any) -> Any:
    return gr.skip() if value is None else value


def _restore_duration(request: handlers.RestoreRequest) -> int:
    steps = int(request.sampler_params.get("num_steps") or 100)
    return int(min(300, 20 + 0.2 * steps * max(1, int(request.num_samples)) ** 0.5))


_gpu_restore = gpu(duration=_restore_duration)(handlers.restore)


# whether the library's Progress records carry x_t (the panel is hidden until they do)
_STREAMS_X_T = "x_t" in {f.name for f in dataclasses.fields(handlers.Progress)}


def _restore_tab() -> None:
    with gr.Row():
        with gr.Column(scale=5):
            inputs = _problem_inputs("restore", catalog.DEFAULT_SAMPLES)
        with gr.Column(scale=4):
            sampler = gr.Dropdown(
                choices=catalog.sampler_choices(catalog.DEFAULT_OPERATOR, catalog.DEFAULT_PRIOR),
                value=catalog.DEFAULT_SAMPLER,
                label="Sampler",
                info="parameters below start at the paper's settings for the task; steps are "
                "CPU-friendly (the paper uses 1000 for most baselines)",
            )
            compat = gr.Markdown("", elem_classes=["mgps-note"])
            sampler_groups: dict[str, gr.Group] = {}
            sampler_controls: dict[str, gr.components.Component] = {}
            for e in mgps.SAMPLERS:
                values = catalog.initial_values(e.name, catalog.DEFAULT_OPERATOR)
                with gr.Group(visible=e.name == catalog.DEFAULT_SAMPLER) as group:
                    gr.Markdown(f"**{e.label}** — {e.reference}", elem_classes=["mgps-note"])
                    for p in e.params:
                        key = f"{e.name}__{p.name}"
                        sampler_controls[key] = _control(
                            p, values[p.name], f"restore-{e.name}-{p.name}"
                        )
                sampler_groups[e.name] = group
            with gr.Row():
                run = gr.Button("Run", variant="primary", elem_id="restore-run")
                stop = gr.Button("Stop", variant="stop", elem_id="restore-stop")
            status = gr.Textbox(
                label="Progress", interactive=False, elem_id="restore-status", lines=1
            )
    with gr.Row(equal_height=True):
        x0 = _image("x̂0: current estimate of the clean image", "restore-x0")
        midpoint = _image("midpoint sample x_ℓ (MGPS)", "restore-midpoint")
        x_t = _image("x_t: the current noisy state", "restore-xt", visible=_STREAMS_X_T)
    with gr.Row(equal_height=True):
        observation = _image("Observation y", "restore-observation")
        restoration = _image("Restoration (the sample most consistent with y)", "restore-result")
    gallery = gr.Gallery(
        label="N samples, their mean and per-pixel std",
        columns=6,
        format="png",
        height="auto",
        fit_columns=False,
        elem_id="restore-gallery",
        object_fit="contain",
    )
    table = gr.Markdown(elem_id="restore-metrics")
    with gr.Accordion("Raw metrics (JSON)", open=False):
        metrics = gr.JSON(label="metrics")

    controls = {**inputs.operator_controls, **sampler_controls}
    assert len(controls) == len(inputs.operator_controls) + len(sampler_controls), "name clash"

    def run_restore(
        editor: Any,
        operator: str,
        prior: str,
        sampler: str,
        sigma_y: float,
        num_samples: int,
        seed: int,
        progress: gr.Progress = gr.Progress(),  # noqa: B008
        **params: Any,
    ) -> Iterator[tuple[Any, ...]]:
        """Restore an image and stream x̂0, the midpoint and x_t, then the results."""
        request = handlers.RestoreRequest(
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
        )
        label = mgps.SAMPLERS[sampler].label if sampler in mgps.SAMPLERS else str(sampler)
        last = 0.0
        for frame in _guard(_gpu_restore(request)):
            if isinstance(frame, handlers.Final):
                yield (
                    f"{label}: done in {frame.seconds:.1f} s",
                    frame.observation,
                    gr.skip(),
                    gr.skip(),
                    gr.skip(),
                    frame.restoration,
                    _gallery(frame.gallery, columns=6, tile=205),
                    frame.table,
                    frame.metrics,
                )
                return
            for note in _notes(frame.notes):
                gr.Info(note)
            if frame.num_steps:
                progress((frame.step, frame.num_steps), desc=label, unit="steps")
            now = time.monotonic()
            if frame.step == 0:  # a new run: clear the previous results
                last = now
                yield (
                    _frame_status(frame, label),
                    frame.observation,
                    None,
                    None,
                    None,
                    None,
                    None,
                    "",
                    None,
                )
                continue
            if not frame.has_images and now - last < 0.1 and frame.step < frame.num_steps:
                continue  # keep the stream light; Stop still acts within a step or 0.1 s
            last = now
            yield (
                _frame_status(frame, label),
                _skip(frame.observation),
                _skip(frame.x0_hat),
                _skip(frame.midpoint),
                _skip(frame.x_t),
                gr.skip(),
                gr.skip(),
                gr.skip(),
                gr.skip(),
            )

    run_event = run.click(
        _with_keywords(run_restore, list(controls)),
        inputs=[
            inputs.editor,
            inputs.operator,
            inputs.prior,
            sampler,
            inputs.sigma_y,
            inputs.num_samples,
            inputs.seed,
        ],
        inputs_kwargs=controls,
        outputs=[status, observation, x0, midpoint, x_t, restoration, gallery, table, metrics],
        api_name="restore",
        concurrency_limit=1,
        concurrency_id=HEAVY,
        show_progress="full",
        show_progress_on=[status],
    )
    stop.click(None, None, None, cancels=[run_event], queue=False, api_visibility="private")

    # --- widgets that follow the choices
    _show_operator_group(inputs)
    names = list(sampler_groups)

    def on_sampler(s: str) -> list[Any]:
        return [gr.update(visible=(n == s)) for n in names]

    sampler.change(
        on_sampler,
        sampler,
        [sampler_groups[n] for n in names],
        queue=False,
        api_visibility="private",
    )

    def on_choice(op: str, prior: str, s: str) -> tuple[Any, str]:
        why = catalog.incompatibility(s, op, prior) if s else None
        note = f"⚠️ {why}" if why else ""
        if op == "mask":
            note += ("\n\n" if note else "") + "Draw over the region to restore with the brush."
        return gr.update(choices=catalog.sampler_choices(op, prior)), note

    for comp in (inputs.operator, inputs.prior, sampler):
        comp.change(
            on_choice,
            [inputs.operator, inputs.prior, sampler],
            [sampler, compat],
            queue=False,
            api_visibility="private",
        )

    # per-task presets: a new degradation sets the sampler parameters that have a per-task
    # setting for some degradation (to the new one's, or the default); the others are kept
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

    inputs.operator.change(
        on_operator,
        inputs.operator,
        [sampler_controls[k] for k in preset_keys],
        queue=False,
        api_visibility="private",
    )


# ---------------------------------------------------------------------------- Compare tab
def _compare_duration(request: handlers.CompareRequest) -> int:
    return int(min(300, 20 + 0.3 * int(request.num_steps) * len(request.samplers)))


_gpu_compare = gpu(duration=_compare_duration)(handlers.compare)

DEFAULT_COMPARE = ["mgps", "dps", "ddnm", "reddiff"]


def _compare_tab() -> None:
    with gr.Row():
        with gr.Column(scale=5):
            inputs = _problem_inputs("compare", 2)
        with gr.Column(scale=4):
            choices = [(e.label, e.name) for e in mgps.SAMPLERS]
            samplers = gr.CheckboxGroup(
                choices=choices,
                value=[s for s in DEFAULT_COMPARE if s in mgps.SAMPLERS],
                label=f"Samplers (at most {catalog.MAX_COMPARE})",
                info="all start from the same initial noise, drawn once from the seed",
            )
            compat = gr.Markdown("", elem_classes=["mgps-note"])
            steps = gr.Slider(2, catalog.MAX_STEPS, value=50, step=1, label="Steps (each sampler)")
            gr.Markdown(
                "Other parameters: each sampler's defaults with the paper's per-task settings. "
                "With the *Digits, exact* prior and a linear degradation the exact posterior "
                "mean and std are shown beside the samplers' (computing them takes a few seconds).",
                elem_classes=["mgps-note"],
            )
            with gr.Row():
                run = gr.Button("Compare", variant="primary", elem_id="compare-run")
                stop = gr.Button("Stop", variant="stop", elem_id="compare-stop")
            status = gr.Textbox(label="Progress", interactive=False, elem_id="compare-status")
    with gr.Row():
        observation = _image("Observation y", "compare-observation", scale=1)
        live = gr.Gallery(
            label="x̂0 of each sampler (sample 1)",
            columns=catalog.MAX_COMPARE // 2 + 1,
            format="png",
            height=260,
            elem_id="compare-live",
            scale=3,
            object_fit="contain",
        )
    plot = gr.Plot(label="‖y − A(x̂0)‖ per step", elem_id="compare-plot")
    table = gr.Dataframe(
        headers=handlers.TABLE_COLUMNS,
        label="Metrics and wall time",
        interactive=False,
        wrap=True,
        elem_id="compare-table",
    )
    summary = gr.Gallery(
        label="Posterior means and per-pixel stds (and the exact ones)",
        columns=8,
        format="png",
        height="auto",
        fit_columns=False,
        elem_id="compare-summary",
        object_fit="contain",
    )

    def run_compare(
        editor: Any,
        operator: str,
        prior: str,
        samplers: list[str],
        num_steps: int,
        sigma_y: float,
        num_samples: int,
        seed: int,
        progress: gr.Progress = gr.Progress(),  # noqa: B008
        **params: Any,
    ) -> Iterator[tuple[Any, ...]]:
        """Run several samplers side by side from the same initial noise."""
        request = handlers.CompareRequest(
            image=editor,
            samplers=tuple(samplers or ()),
            operator=operator,
            prior=prior,
            operator_params=inputs.operator_params(operator, params),
            num_steps=num_steps,
            sigma_y=sigma_y,
            num_samples=num_samples,
            seed=seed,
        )
        for frame in _guard(_gpu_compare(request)):
            for note in _notes(frame.notes):
                gr.Info(note)
            progress(frame.progress, desc="comparing")
            table_value = gr.skip() if frame.table is None else frame.table
            if frame.observation is not None:  # a new run: clear the previous results
                yield (frame.status, frame.observation, [], None, table_value, [])
                continue
            yield (
                frame.status,
                gr.skip(),
                _skip(frame.live),
                _skip(frame.figure),
                table_value,
                gr.skip() if frame.summary is None else _gallery(frame.summary, 8, 160),
            )

    run_event = run.click(
        _with_keywords(run_compare, list(inputs.operator_controls)),
        inputs=[
            inputs.editor,
            inputs.operator,
            inputs.prior,
            samplers,
            steps,
            inputs.sigma_y,
            inputs.num_samples,
            inputs.seed,
        ],
        inputs_kwargs=dict(inputs.operator_controls),
        outputs=[status, observation, live, plot, table, summary],
        api_name="compare",
        concurrency_limit=1,
        concurrency_id=HEAVY,
        show_progress="full",
        show_progress_on=[status],
    )
    stop.click(None, None, None, cancels=[run_event], queue=False, api_visibility="private")
    _show_operator_group(inputs)

    def on_choice(op: str, prior: str, chosen: list[str]) -> str:
        lines = []
        for s in chosen or []:
            why = catalog.incompatibility(s, op, prior)
            if why:
                lines.append(f"⚠️ {mgps.SAMPLERS[s].label} will be skipped: {why}")
        return "\n\n".join(lines)

    for comp in (inputs.operator, inputs.prior, samplers):
        comp.change(
            on_choice,
            [inputs.operator, inputs.prior, samplers],
            compat,
            queue=False,
            api_visibility="private",
        )


# ---------------------------------------------------------------------------- trade-off tab
@dataclass
class _History:
    key: tuple[Any, ...] = ()
    points: list[tuple[float, float]] = field(default_factory=list)


def _tradeoff_tab(tab: gr.Tab) -> None:
    gr.Markdown(
        "A prior that is a grid of **25 Gaussians in 2-D**, observed through **one** random "
        "projection y = ⟨a, x⟩ + σ_y·noise, so the exact posterior is known. MGPS denoises "
        "towards a **midpoint** ℓ = ⌊η t⌋ at each step: η = 0 trusts the prior transition "
        "all the way to the clean state, η = 1 is DPS-like (the likelihood is guessed at the "
        "current noise level). Move η and watch the samples (red) against the exact posterior "
        "(blue). Right: the exact W2 of the MGPS surrogate as a function of η on a Gaussian "
        "problem (the paper's Example 3.2) — the best trade-off is in between."
    )
    with gr.Row():
        sampler = gr.Dropdown(choices=gmm_tab.toy_samplers(), value="mgps", label="Sampler")
        eta = gr.Slider(
            0.0, 1.0, value=0.5, step=0.05, label="η (MGPS midpoint)", elem_id="tradeoff-eta"
        )
        sigma_y = gr.Slider(0.1, 2.0, value=0.5, step=0.05, label="σ_y")
        seed = gr.Number(value=0, precision=0, minimum=0, maximum=10_000, label="Seed (problem)")
        steps = gr.Slider(10, 300, value=gmm_tab.NUM_STEPS, step=10, label="Steps")
        run = gr.Button("Run", variant="primary", elem_id="tradeoff-run")
    summary = gr.Markdown(elem_id="tradeoff-summary")
    with gr.Row():
        scatter = gr.Plot(label="Prior, exact posterior and samples", elem_id="tradeoff-scatter")
        curve = gr.Plot(label="W2 vs η (Example 3.2)", elem_id="tradeoff-curve")
    animation = gr.Plot(label="Through the diffusion", elem_id="tradeoff-animation")
    history = gr.State(_History())

    def run_toy(
        sampler: str, eta: float, sigma_y: float, seed: int, steps: int, history: _History
    ) -> tuple[Any, ...]:
        """Run a sampler on the 2-D problem; returns the figures and the SW to the posterior."""
        try:
            view = gmm_tab.toy_view(sampler, float(eta), int(seed or 0), float(sigma_y), int(steps))
        except Exception as err:  # noqa: BLE001
            raise _user_error(err) from None
        key = (int(seed or 0), float(sigma_y), int(steps))
        if history.key != key:
            history = _History(key, [])
        if sampler == "mgps":
            history.points = [p for p in history.points if abs(p[0] - float(eta)) > 1e-9]
            history.points.append((float(eta), view.sw))
        curve_fig = gmm_tab.eta_curve_figure(float(eta), history.points)
        return view.summary, view.scatter, curve_fig, view.animation, history

    ins = [sampler, eta, sigma_y, seed, steps, history]
    outs = [summary, scatter, curve, animation, history]
    common = dict(concurrency_limit=1, concurrency_id="toy")
    run.click(run_toy, ins, outs, api_name="tradeoff", **common)
    eta.release(run_toy, ins, outs, api_visibility="private", **common)

    def first_visit(
        sampler: str, eta: float, sigma_y: float, seed: int, steps: int, history: _History
    ) -> tuple[Any, ...]:
        if history.points:
            return (gr.skip(),) * 5
        return run_toy(sampler, eta, sigma_y, seed, steps, history)

    tab.select(first_visit, ins, outs, api_visibility="private", **common)


# ---------------------------------------------------------------------------- ECG tab
_gpu_ecg = gpu(duration=ecg_tab.ecg_duration)(ecg_tab.reconstruct)

ECG_INTRO = (
    "Reconstruct a **12-lead ECG** with the `ecg` diffusion prior (paper §4.2): from **lead I "
    "alone** (the other leads missing) or from the **first half** of the window (the second "
    "half missing on every lead). The true signal is black, the observation the thick orange "
    "band, and each posterior sample a thin coloured line; while sampling, the lines are the "
    "current x̂0. σ_y = 0.05."
)


def _ecg_tab() -> None:
    gr.Markdown(ECG_INTRO)
    why = ecg_tab.availability()
    if why is not None:  # no trained prior or no data here: say so, offer nothing to run
        gr.Markdown(f"⚠️ {why}", elem_id="ecg-unavailable")
        gr.Markdown(ecg_tab.DATA_NOTE, elem_classes=["mgps-note"])
        return
    n_windows = ecg_tab.num_test_windows()
    try:
        first_figure, first_info = ecg_tab.preview(0, ecg_tab.DEFAULT_TASK, 0)
    except Exception as err:  # noqa: BLE001 - shown, not raised, at start-up
        log.warning("ECG preview failed: %s", err)
        first_figure, first_info = None, str(err)
    with gr.Row():
        with gr.Column(scale=2, min_width=320):
            task = gr.Radio(
                choices=ecg_tab.TASK_CHOICES,
                value=ecg_tab.DEFAULT_TASK,
                label="Task",
                elem_id="ecg-task",
            )
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
            sampler = gr.Dropdown(
                choices=ecg_tab.ecg_samplers(ecg_tab.DEFAULT_TASK),
                value=ecg_tab.DEFAULT_SAMPLER,
                label="Sampler",
                info="pixel-space samplers that can run the task",
                elem_id="ecg-sampler",
            )
            settings = gr.Markdown(
                ecg_tab.settings_note(ecg_tab.DEFAULT_SAMPLER), elem_classes=["mgps-note"]
            )
            steps = gr.Slider(
                2,
                catalog.MAX_STEPS,
                value=ecg_tab.default_steps(ecg_tab.DEFAULT_SAMPLER),
                step=1,
                label="Steps",
                info="starts at the paper's ECG count for the sampler (Table 14)",
                elem_id="ecg-steps",
            )
            with gr.Row():
                num_samples = gr.Slider(
                    1,
                    ecg_tab.MAX_SAMPLES,
                    value=ecg_tab.DEFAULT_SAMPLES,
                    step=1,
                    label="Samples",
                    elem_id="ecg-num-samples",
                )
                seed = gr.Number(value=0, precision=0, minimum=0, maximum=2**31 - 1, label="Seed")
            with gr.Row():
                run = gr.Button("Run", variant="primary", elem_id="ecg-run")
                stop = gr.Button("Stop", variant="stop", elem_id="ecg-stop")
            status = gr.Textbox(label="Progress", interactive=False, elem_id="ecg-status")
            gr.Markdown(ecg_tab.DATA_NOTE, elem_classes=["mgps-note"], elem_id="ecg-data-note")
        with gr.Column(scale=5):
            plot = gr.Plot(value=first_figure, label="12 leads", elem_id="ecg-plot")
            table = gr.Dataframe(
                headers=ecg_tab.TABLE_COLUMNS,
                label="Errors over the missing entries: MAE / RMSE of each sample (averaged), "
                "of the samples' mean, and of zero-filling; on the 9 modelled leads and on the "
                "12 rebuilt leads",
                interactive=False,
                wrap=True,
                elem_id="ecg-table",
            )

    def run_ecg(
        window: int,
        task: str,
        sampler: str,
        num_steps: int,
        num_samples: int,
        seed: int,
        progress: gr.Progress = gr.Progress(),  # noqa: B008
    ) -> Iterator[tuple[Any, ...]]:
        """Reconstruct a held-out synthetic ECG window (lead I observed, or its second half
        missing); streams the 12-lead figure, then the samples and an error table."""
        request = ecg_tab.EcgRequest(
            window=window,
            task=task,
            sampler=sampler,
            num_steps=num_steps,
            num_samples=num_samples,
            seed=seed,
        )
        label = mgps.SAMPLERS[sampler].label if sampler in mgps.SAMPLERS else str(sampler)
        last = 0.0
        for frame in _guard(_gpu_ecg(request)):
            if frame.num_steps:
                progress((frame.step, frame.num_steps), desc=label, unit="steps")
            now = time.monotonic()
            if frame.final or frame.step == 0:
                last = now
                yield frame.status, frame.figure, frame.table or None
                continue
            if frame.figure is None and now - last < 0.1:
                continue  # keep the stream light; Stop still acts within a step or 0.1 s
            last = now
            yield frame.status, _skip(frame.figure), gr.skip()

    run_event = run.click(
        run_ecg,
        inputs=[window, task, sampler, steps, num_samples, seed],
        outputs=[status, plot, table],
        api_name="ecg",
        concurrency_limit=1,
        concurrency_id=HEAVY,
        show_progress="full",
        show_progress_on=[status],
    )
    stop.click(None, None, None, cancels=[run_event], queue=False, api_visibility="private")

    def show_window(window: int, task: str, seed: int) -> tuple[Any, str]:
        try:
            return ecg_tab.preview(window, task, seed)
        except Exception as err:  # noqa: BLE001
            raise _user_error(err) from None

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
    shuffle.click(
        ecg_tab.random_window,
        None,
        window,
        queue=False,
        api_visibility="private",
    )

    def on_task(task: str, current: str) -> Any:
        choices = ecg_tab.ecg_samplers(task)
        names = [c[1] for c in choices]
        return gr.update(choices=choices, value=current if current in names else names[0])

    task.change(on_task, [task, sampler], sampler, queue=False, api_visibility="private")

    def on_sampler(s: str) -> tuple[int, str]:
        return ecg_tab.default_steps(s), ecg_tab.settings_note(s)

    sampler.change(on_sampler, sampler, [steps, settings], queue=False, api_visibility="private")


# ---------------------------------------------------------------------------- the demo
def build_demo() -> gr.Blocks:
    """The whole app (not launched). Spaces and ``python app.py`` both use it."""
    with gr.Blocks(title="MGPS — midpoint guidance posterior sampling") as demo:
        gr.Markdown(HEADER)
        with gr.Tabs():
            with gr.Tab("Restore", id="restore"):
                _restore_tab()
            with gr.Tab("Compare", id="compare"):
                _compare_tab()
            with gr.Tab("Midpoint trade-off", id="tradeoff") as tradeoff:
                _tradeoff_tab(tradeoff)
            with gr.Tab("ECG", id="ecg"):
                _ecg_tab()
    demo.queue(max_size=QUEUE_SIZE, default_concurrency_limit=1)
    return demo


def launch_kwargs() -> dict[str, Any]:
    """Arguments of ``demo.launch`` for ``python app.py`` (host and port from the usual
    GRADIO_SERVER_NAME / GRADIO_SERVER_PORT variables)."""
    return dict(css=CSS, show_error=True, max_file_size="25mb", footer_links=["api", "gradio"])


def preload() -> None:
    """Load the priors before the first request: on a Space every available hub prior (in the
    foreground, as ZeroGPU wants models loaded at start-up), locally the default embedded
    prior (in the background, so the page is served at once)."""
    if on_space():
        names = [p.name for p in catalog.priors() if p.available]
        preload_priors(names, background=False)
    else:
        preload_priors([catalog.DEFAULT_PRIOR], background=True)
