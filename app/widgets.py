"""Widgets and wiring the tabs share: the image editor (uploads checked by the page before
they are sent, and again by the server), output images, one control per registry ``Param``,
the image / degradation / prior controls of Restore and Compare, library errors as
``gr.Error``, and the page's CSS and script. (The Run / Stop / status group is
:mod:`app.run_stop`.)
"""

from __future__ import annotations

import functools
import inspect
import io
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr
from PIL import Image, UnidentifiedImageError

import mgps

from . import catalog, limits, parse
from .convert import MAX_MEGAPIXELS

__all__ = [
    "CSS",
    "upload_check",
    "editor",
    "examples",
    "image",
    "control",
    "ProblemInputs",
    "problem_controls",
    "wire_problem_inputs",
    "user_error",
    "guard",
    "with_keywords",
    "gallery",
    "toast_notes",
]

log = logging.getLogger(__name__)

CSS = """
.mgps-note {font-size: 0.9em; opacity: 0.85}
.mgps-gallery .caption-label, .mgps-gallery figcaption {
  white-space: normal !important; overflow: visible !important; text-overflow: clip !important;
  max-width: none !important; font-size: 0.8em; line-height: 1.2
}
.mgps-table th, .mgps-table th * {word-break: normal !important; overflow-wrap: normal !important}
@media (max-width: 640px) {  /* Restore on a phone: the settings and Run right under the canvas */
  .row:has(> .column > #restore-editor) {flex-direction: column}
  .column:has(> #restore-editor) {display: contents}
  .column:has(> #restore-editor) > * {order: 2; width: 100%}
  .column:has(> #restore-editor) > #restore-editor,
  .column:has(> #restore-editor) > #restore-editor-note {order: 0}
  .row:has(> .column > #restore-editor) > .column:not(:has(> #restore-editor)) {order: 1}
}
"""

UPLOAD_SCRIPT = Path(__file__).with_name("upload_check.js")


def upload_check(editor_id: str) -> str:
    """The script that checks each file given to the editor ``editor_id`` before it is
    uploaded (:file:`app/upload_check.js`), with the app's limits filled in."""
    limits = json.dumps({"mb": catalog.MAX_UPLOAD_MB, "megapixels": MAX_MEGAPIXELS})
    script = UPLOAD_SCRIPT.read_text(encoding="utf-8")
    return script.replace("EDITOR_ID;", json.dumps(editor_id) + ";").replace(
        "LIMITS;", limits + ";"
    )


# ---------------------------------------------------------------------------- the editor
def _guard_uploads(editor: gr.ImageEditor) -> gr.ImageEditor:
    """Make ``editor`` refuse files that are not images, or images over
    :data:`~app.convert.MAX_MEGAPIXELS`, with a clear message and before decoding them (the
    server's check, for API clients; the page checks at upload, naming the user's file);
    read 16-bit and float images at their full range (not clipped white); and hold each
    value to the limits of :mod:`app.limits` (layers, decoded pixels, pending blobs).

    (Wrapping the instance's converter rather than subclassing: gradio writes a ``.pyi`` stub
    next to the source of every component subclass.)
    """
    convert = editor.convert_and_format_image

    def checked(file: Any, flatten_on_white: bool = False) -> Any:
        path = getattr(file, "path", None)
        source = io.BytesIO(bytes(file)) if isinstance(file, bytes | bytearray) else path
        if source is not None:
            name = limits.short(getattr(file, "orig_name", None) or Path(path or "image").name)
            try:
                with Image.open(source) as img:
                    w, h = img.size
            except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as err:
                raise parse.refuse(
                    f"{name} is not an image this app can read (PNG, JPEG, BMP, GIF, TIFF, "
                    f"WebP): {type(err).__name__}"
                ) from None
            if w * h > MAX_MEGAPIXELS * 1_000_000:
                raise parse.refuse(
                    f"{name} is {w}×{h} = {w * h / 1e6:.0f} megapixels; the limit is "
                    f"{MAX_MEGAPIXELS}. Downscale it first."
                )
            try:
                if isinstance(source, io.BytesIO):
                    source.seek(0)
                file = limits.eight_bit_png(source) or file  # 16-bit, float: scaled
            except ValueError as err:
                raise parse.refuse(f"{name}: {err}") from None
        try:
            return convert(file, flatten_on_white)
        except gr.Error:
            raise
        except Exception as err:  # noqa: BLE001 - truncated files and the like
            raise parse.refuse(f"could not read the uploaded image: {err}") from None

    preprocess = editor.preprocess

    def within_limits(payload: Any) -> Any:
        value = payload
        if payload is not None and getattr(payload, "id", None) is not None:
            value = editor.blob_storage.get(payload.id)  # the page's upload, as bytes
        if value is not None:

            def source(f: Any) -> Any:
                return getattr(f, "path", None) or (io.BytesIO(f) if f else None)

            try:
                limits.check_editor_files(
                    source(value.background),
                    [source(f) for f in value.layers or []],
                    source(value.composite),
                )
            except ValueError as err:
                if getattr(payload, "id", None) is not None:
                    editor.blob_storage.pop(payload.id, None)
                raise parse.refuse(str(err)) from None
        return preprocess(payload)

    accept = editor.accept_blobs

    def accept_blobs(data: Any) -> Any:
        index = data.data.get("index")
        if index not in (None, "null", ""):
            try:
                index = int(index)
            except (TypeError, ValueError):
                raise parse.refuse(
                    f"a layer index must be a number; got {limits.short(index)}"
                ) from None
            if not 0 <= index < limits.MAX_LAYERS:
                raise parse.refuse(f"a layer index must be below {limits.MAX_LAYERS}")
        pending, key = editor.blob_storage, data.data.get("id")
        size = sum(len(f[1]) for f in data.files)
        while (  # uploads never used: the oldest others go
            len(pending) - (key in pending) >= limits.MAX_PENDING_BLOBS
            or limits.pending_bytes(pending) + size > limits.MAX_PENDING_MB * 2**20
        ):
            oldest = next((k for k in pending if k != key), None)
            if oldest is None:
                break
            pending.pop(oldest)
        return accept(data)

    accept_blobs = functools.wraps(accept)(accept_blobs)
    accept_blobs._is_server_fn = True  # type: ignore[attr-defined]
    editor.convert_and_format_image = checked  # type: ignore[method-assign]
    editor.preprocess = within_limits  # type: ignore[method-assign]
    editor.accept_blobs = accept_blobs  # type: ignore[method-assign]
    return editor


BRUSH_SIZE = 3  # image pixels: right for the 28×28 digits; the toolbar's "Brush Size" changes it


def editor(tab: str, label: str) -> gr.ImageEditor:
    """The image editor of ``tab`` (``#<tab>-editor``) and, under it, the line where the page
    says whether an upload was accepted (``#<tab>-editor-note``, whose script checks each file
    before it is uploaded)."""
    widget = gr.ImageEditor(
        label=label,
        type="numpy",
        image_mode="RGBA",
        sources=("upload", "clipboard"),
        layers=False,
        transforms=(),
        brush=gr.Brush(colors=["#ff2d55"], color_mode="fixed", default_size=BRUSH_SIZE),
        eraser=gr.Eraser(default_size=BRUSH_SIZE),
        canvas_size=(256, 256),
        height=340,
        buttons=[],
        elem_id=f"{tab}-editor",
        elem_classes=["mgps-editor"],
    )
    gr.HTML(
        "",
        elem_id=f"{tab}-editor-note",
        js_on_load=upload_check(f"{tab}-editor"),
        padding=False,
    )
    return _guard_uploads(widget)


def examples(widget: gr.ImageEditor, prior: str, tab: str) -> None:
    """The shipped examples (digits, clothes, photographs), as editor values."""
    items = catalog.examples(prior)
    if not items:
        return
    gr.Examples(
        examples=[[{"background": str(e.path), "layers": [], "composite": None}] for e in items],
        inputs=[widget],
        label="Examples: 28×28 digits and clothes, and photographs (assets/examples)",
        example_labels=[e.label for e in items],
        cache_examples=False,
        examples_per_page=12,
        elem_id=f"{tab}-examples",
    )


def image(label: str, elem_id: str | None = None, **kw: Any) -> gr.Image:
    return gr.Image(
        label=label,
        format="png",
        type="numpy",
        interactive=False,
        elem_id=elem_id,
        buttons=["download"],
        **kw,
    )


def gallery(items: list[Any], columns: int, tile: int) -> Any:
    """A gallery value with a height that fits its rows (no blank band, no inner scroll on a
    wide page)."""
    rows = max(1, -(-len(items) // columns))
    return gr.Gallery(value=items, height=rows * tile + 50)


# ---------------------------------------------------------------------------- errors
def user_error(err: BaseException) -> gr.Error:
    """A library error as a message for the user (never a crash)."""
    if isinstance(err, mgps.SamplerDivergedError):
        return gr.Error(
            f"The sampler diverged. {err}", title="Sampler diverged", print_exception=False
        )
    if isinstance(err, ValueError | KeyError):
        return parse.refuse(str(err))
    log.exception("unexpected error in a handler")
    return gr.Error(limits.cut(f"Unexpected error ({type(err).__name__}): {err}"), title="Error")


def guard(stream: Iterator[Any]) -> Iterator[Any]:
    """``stream``, its library errors raised as ``gr.Error``."""
    try:
        yield from stream
    except gr.Error:
        raise
    except Exception as err:  # noqa: BLE001 - reported to the user
        raise user_error(err) from None


def toast_notes(notes: list[str]) -> None:
    """Loader notes worth a toast: crops, resizes, ignored strokes; not the colour-mode
    conversions that every editor upload goes through."""
    for note in notes:
        if not note.removeprefix("observation: ").startswith(
            ("converted", "composited", "mask: read")
        ):
            gr.Info(note)


def with_keywords(fn: Any, names: list[str]) -> Any:
    """Declare ``**params`` of ``fn`` as keyword-only parameters ``names`` (default None), so
    that API clients see named, optional parameters (one per registry ``Param``)."""
    sig = inspect.signature(fn)
    head_params = [
        p for p in sig.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD
    ]
    extra = [inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, default=None) for n in names]
    fn.__signature__ = sig.replace(parameters=[*head_params, *extra])
    return fn


# ---------------------------------------------------------------------------- controls
def control(p: mgps.Param, value: Any, key: str) -> gr.components.Component:
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
    prior: gr.Dropdown
    operator: gr.Dropdown
    operator_groups: dict[str, gr.Group]
    operator_controls: dict[str, gr.components.Component]  # "<operator>__<param>" -> widget
    sigma_y: gr.Slider
    seed: gr.Number
    num_samples: gr.Slider
    prior_note: gr.Markdown

    def operator_params(self, operator: str, values: dict[str, Any]) -> dict[str, Any]:
        prefix = f"{operator}__"
        return {k[len(prefix) :]: v for k, v in values.items() if k.startswith(prefix)}


def prior_note(prior: str) -> str:
    """The chosen prior's description, and which priors cannot load here and why."""
    by_reason: dict[str, list[str]] = {}
    for p in catalog.priors():
        if not p.available:
            by_reason.setdefault(p.why, []).append(p.label)
    text = mgps.PRIORS[prior].description if prior in mgps.PRIORS else ""
    for why, labels in by_reason.items():
        text += f"\n\nUnavailable ({why}): " + "; ".join(labels) + "."
    return text


def prior_and_operator(tab: str, prior: str) -> tuple[gr.Dropdown, gr.Dropdown]:
    """The prior and degradation dropdowns, side by side (the top of a tab's settings)."""
    with gr.Row():
        choices = [(p.label, p.name) for p in catalog.priors() if p.available]
        prior_box = gr.Dropdown(
            choices=choices, value=prior, label="Prior", scale=1, elem_id=f"{tab}-prior"
        )
        operator = gr.Dropdown(
            choices=[(catalog.operator_label(e), e.name) for e in catalog.image_operators()],
            value=catalog.DEFAULT_OPERATOR,
            label="Degradation: y = A(x) + σ_y·noise",
            scale=1,
            elem_id=f"{tab}-operator",
        )
    return prior_box, operator


def problem_controls(
    tab: str,
    widget: gr.ImageEditor,
    prior: gr.Dropdown,
    operator: gr.Dropdown,
    num_samples: int,
) -> ProblemInputs:
    """The settings of the problem under the Run button: the chosen degradation's parameters,
    σ_y, the seed, the number of samples and the prior's description."""
    groups: dict[str, gr.Group] = {}
    controls: dict[str, gr.components.Component] = {}
    for e in catalog.image_operators():
        params = catalog.operator_params(e)
        if not params:
            continue
        with gr.Group(visible=e.name == catalog.DEFAULT_OPERATOR) as group:
            for p in params:
                key = f"{e.name}__{p.name}"
                controls[key] = control(p, p.default, f"{tab}-{e.name}-{p.name}")
        groups[e.name] = group
    with gr.Row():
        seed = gr.Number(
            value=0, precision=0, minimum=0, maximum=2**31 - 1, label="Seed", min_width=80
        )
        n = gr.Slider(
            1,
            catalog.MAX_SAMPLES,
            value=num_samples,
            step=1,
            label="Samples N",
            elem_id=f"{tab}-num-samples",
        )
    sigma_y = gr.Slider(
        0.001,
        1.0,
        value=mgps.DEFAULT_SIGMA_Y,
        step=0.001,
        label="σ_y (observation noise, [-1, 1] units)",
    )
    note = gr.Markdown(prior_note(prior.value), elem_classes=["mgps-note"])
    return ProblemInputs(widget, prior, operator, groups, controls, sigma_y, seed, n, note)


def wire_problem_inputs(inputs: ProblemInputs) -> None:
    """Show the chosen degradation's parameters and the chosen prior's description."""
    names = list(inputs.operator_groups)

    def show(op: str) -> dict[Any, Any]:
        return {inputs.operator_groups[n]: gr.update(visible=(n == op)) for n in names}

    inputs.operator.change(
        show,
        inputs.operator,
        [inputs.operator_groups[n] for n in names],
        queue=False,
        api_visibility="private",
    )
    inputs.prior.change(
        prior_note, inputs.prior, inputs.prior_note, queue=False, api_visibility="private"
    )
