"""The Restore tab's "bring your own image" controls: whether the image is clean (the app
degrades it) or already degraded (it is y); what the strokes are (the mask, or the image:
draw on a blank canvas); examples that bring their prior; a one-line warning when the image
does not look like what the prior knows; the noise level estimated from the image and a JPEG's
quality read from the file as it was uploaded (the editor re-encodes its image as PNG, so the
page also hands the untouched file to a hidden file box: :file:`app/original_file.js`).

The words and checks come from :mod:`app.own_image`; this module lays out and wires them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from . import catalog, own_image

__all__ = ["OwnImage", "drawing_controls", "mode_controls", "examples", "wire"]

ORIGINAL_SCRIPT = Path(__file__).with_name("original_file.js")
INK = "#ffffff"  # the brush colour when the strokes are the image
MASK_COLOUR = "#ff2d55"  # ... and when they are the mask (the editor's own brush)


def _brush(colour: str) -> gr.Brush:
    from .widgets import BRUSH_SIZE

    return gr.Brush(colors=[colour], color_mode="fixed", default_size=BRUSH_SIZE)


@dataclass
class OwnImage:
    """The controls, once laid out (:func:`drawing_controls`, :func:`mode_controls`)."""

    strokes: gr.Radio
    blank: gr.Button
    fit_note: gr.Markdown
    original: gr.File
    read: gr.State  # (file name, JPEG quality or None, path) of the last upload, or None
    input_mode: gr.Radio | None = None
    mode_note: gr.Markdown | None = None
    sigma_estimate: gr.Button | None = None
    sigma_why: gr.Markdown | None = None
    kind: gr.Textbox | None = None


def drawing_controls(tab: str, editor_id: str) -> OwnImage:
    """Under the editor: a blank canvas, what the strokes are, the prior-fit warning, and the
    hidden box that receives the uploaded file as it is."""
    with gr.Row():
        strokes = gr.Radio(
            choices=own_image.STROKE_MODES,
            value=own_image.STROKES_MASK,
            label="Your strokes are",
            elem_id=f"{tab}-strokes",
            scale=3,
        )
        with gr.Column(scale=1, min_width=150):
            blank = gr.Button(
                "Blank canvas: draw your own image", size="sm", elem_id=f"{tab}-blank"
            )
    fit_note = gr.Markdown("", elem_id=f"{tab}-fit-note")
    original = gr.File(
        label="the uploaded file, as it is",
        type="filepath",
        visible="hidden",
        elem_id=f"{tab}-original",
    )
    script = ORIGINAL_SCRIPT.read_text(encoding="utf-8")
    script = script.replace("EDITOR_ID;", json.dumps(editor_id) + ";").replace(
        "FILE_ID;", json.dumps(f"{tab}-original") + ";"
    )
    gr.HTML("", js_on_load=script, padding=False, elem_id=f"{tab}-original-hook")
    return OwnImage(strokes, blank, fit_note, original, gr.State(None))


def mode_controls(tab: str, own: OwnImage) -> OwnImage:
    """The input mode (``#<tab>-input-mode``) and what it means for the chosen degradation."""
    own.input_mode = gr.Radio(
        choices=own_image.INPUT_MODES,
        value=own_image.DEGRADE,
        label="Your image",
        elem_id=f"{tab}-input-mode",
    )
    own.mode_note = gr.Markdown("", elem_id=f"{tab}-mode-note", elem_classes=["mgps-note"])
    return own


def sigma_estimate(tab: str, own: OwnImage) -> None:
    """A button that sets σ_y to the noise level suggested from the image, and where the
    suggestion comes from (hidden until there is one)."""
    with gr.Row(equal_height=True):
        own.sigma_estimate = gr.Button(
            "Use the suggested σ_y",
            size="sm",
            visible=False,
            scale=1,
            min_width=150,
            elem_id=f"{tab}-sigma-estimate",
        )
        own.sigma_why = gr.Markdown(
            "", elem_id=f"{tab}-sigma-why", elem_classes=["mgps-note"], min_height=0
        )


def examples(editor: gr.ImageEditor, prior: str, tab: str, own: OwnImage) -> gr.Examples | None:
    """The shipped examples; each brings the kind of image it is (its prior follows, see
    :func:`wire`)."""
    items = catalog.examples(prior)
    if not items:
        return None
    own.kind = gr.Textbox(visible=False, label="kind of example")
    return gr.Examples(
        examples=[
            [
                {"background": str(e.path), "layers": [], "composite": None},
                own_image.example_kind(e.path),
            ]
            for e in items
        ],
        inputs=[editor, own.kind],
        label="Examples: 28×28 digits and clothes, and photographs (assets/examples); "
        "each switches to its prior",
        example_labels=[e.label for e in items],
        cache_examples=False,
        examples_per_page=12,
        elem_id=f"{tab}-examples",
    )


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def wire(
    own: OwnImage,
    example_set: gr.Examples | None,
    editor: gr.ImageEditor,
    prior: gr.Dropdown,
    operator: gr.Dropdown,
    sigma_y: gr.Slider,
    jpeg_quality: gr.components.Component | None,
) -> None:
    """The events: an example switches the prior; a new image or prior re-checks the fit; the
    input mode and the degradation say what the image is taken as; the blank canvas and the
    stroke mode; the noise estimate; a JPEG's quality read from the uploaded file."""
    assert own.input_mode is not None and own.mode_note is not None
    assert own.sigma_estimate is not None and own.sigma_why is not None
    sigma_out = [own.sigma_estimate, own.sigma_why]
    private = {"queue": False, "api_visibility": "private"}
    # The events that write to the editor show no progress on it: the page applies each status
    # of the editor only after reading the editor's value (which uploads its image and layers),
    # so a "pending" can land after its own "complete" and leave the spinner over the canvas
    # for good, eating the strokes (Gradio 6). These events are quick, so nothing is lost.
    to_editor = {**private, "show_progress": "hidden"}

    def mode_note(mode: str, op: str, read: Any = None) -> str:
        """What the image is taken as; under JPEG, the quality read from the file."""
        if mode != own_image.OBSERVATION:
            return ""
        note = own_image.observation_hint(op)
        if op == "jpeg" and read:
            name, quality = read[0], read[1]
            if quality is None:
                note += f" “{name}” is not a JPEG file: set the quality it was saved with below."
            else:
                note += f" Quality {quality} read from “{name}” (set below; change it to override)."
        return note

    def quality_value(mode: str, op: str, read: Any) -> Any:
        """The JPEG quality control: the quality read from the file, in observation mode."""
        if mode == own_image.OBSERVATION and op == "jpeg" and read and read[1] is not None:
            return min(99, int(read[1]))
        return gr.update()

    def estimate_button(mode: str, value: Any, prior_name: str, op: str, read: Any) -> tuple:
        """σ_y as the library would take it from the image (in observation mode), and why."""
        none = (gr.update(visible=False), "")
        if mode != own_image.OBSERVATION:
            return none
        if op == "jpeg" and read:  # the file as it is: its own tables, its quality
            value = read[2]
        found = own_image.noise_suggestion(value, prior_name, op)
        if found is None:
            return none
        sigma, why = found
        return gr.update(visible=True, value=f"Use σ_y ≈ {sigma:.3f}"), why.split("; ")[0]

    # --- examples bring their prior
    if example_set is not None and own.kind is not None:

        def on_example(value: Any, kind: str, current: str, mode: str, op: str) -> tuple[Any, ...]:
            choice = own_image.prior_for_example(kind, current)
            name = choice.prior or current
            # where no prior fits, the note says so (and what would work)
            warning = own_image.fit_warning(value, name) if choice.prior else ""
            fit = "\n\n".join(t for t in (choice.note, warning) if t)
            return (
                gr.update(value=name),
                fit,
                own_image.STROKES_MASK,
                gr.update(brush=_brush(MASK_COLOUR)),
                *estimate_button(mode, value, name, op, None),
                None,  # no uploaded file now
            )

        example_set.load_input_event.then(
            on_example,
            [editor, own.kind, prior, own.input_mode, operator],
            [prior, own.fit_note, own.strokes, editor, *sigma_out, own.read],
            **to_editor,
        )

    # --- another prior: does the image look like what it knows? (a new upload: below)
    prior.input(  # the visitor's choice (an example's own switch says why it switched)
        lambda value, p: own_image.fit_warning(value, p),
        [editor, prior],
        own.fit_note,
        **private,
    )

    # --- the input mode and the degradation
    quality_out = [jpeg_quality] if jpeg_quality is not None else []

    def on_mode(mode: str, op: str, read: Any, value: Any, prior_name: str) -> tuple[Any, ...]:
        quality = [quality_value(mode, op, read)] if quality_out else []
        button = estimate_button(mode, value, prior_name, op, read)
        return (mode_note(mode, op, read), *button, *quality)

    for control in (own.input_mode, operator):  # the suggested σ_y depends on both
        control.change(
            on_mode,
            [own.input_mode, operator, own.read, editor, prior],
            [own.mode_note, *sigma_out, *quality_out],
            **private,
        )

    # --- σ_y from the image
    def use_estimate(label: str) -> Any:
        number = _number(label.split("≈")[-1].split(",")[0]) if "≈" in (label or "") else None
        return gr.update() if number is None else min(1.0, max(0.001, round(number, 3)))

    own.sigma_estimate.click(use_estimate, own.sigma_estimate, sigma_y, **private)

    # --- drawing: a blank canvas; what the strokes are
    def on_blank(prior_name: str) -> tuple[Any, ...]:
        return (
            own_image.blank_canvas(prior_name),
            own_image.STROKES_IMAGE,
            None,  # no uploaded file now
            "Draw your image in white on the black canvas; then Run degrades and restores it. "
            "To restore part of your drawing with the free-form mask, switch 'Your strokes "
            "are' to the mask: the drawing stays as the image.",
        )

    own.blank.click(
        on_blank, prior, [editor, own.strokes, own.read, own.fit_note], **to_editor
    ).then(lambda: gr.update(brush=_brush(INK)), None, editor, **to_editor)

    def on_strokes(mode: str, value: Any) -> tuple[Any, ...]:
        if mode == own_image.STROKES_IMAGE:
            return gr.update(brush=_brush(INK)), gr.update()
        baked = own_image.bake_strokes(value)  # the drawing becomes the image
        if baked is None:
            return gr.update(brush=_brush(MASK_COLOUR)), gr.update()
        return (
            gr.update(value=baked, brush=_brush(MASK_COLOUR)),
            "Your drawing is now the image; new strokes mark the part to restore.",
        )

    own.strokes.input(on_strokes, [own.strokes, editor], [editor, own.fit_note], **to_editor)

    # --- a new upload, as the file it was (the page hands it on; the editor's own upload
    # event also fires when an example loads): does it look like what the prior knows, its
    # noise level, and a JPEG's quality read from its tables; then the box is emptied, ready
    # for the next file
    def on_original(path: str | None, mode: str, op: str, prior_name: str) -> tuple[Any, ...]:
        if path is None:
            return (gr.update(),) * (6 + len(quality_out))
        read = (Path(path).name, own_image.jpeg_quality(path), path)
        quality = [quality_value(mode, op, read)] if quality_out else []
        return (
            read,
            mode_note(mode, op, read),
            None,
            own_image.fit_warning(path, prior_name),
            *estimate_button(mode, path, prior_name, op, read),
            *quality,
        )

    own.original.upload(
        on_original,
        [own.original, own.input_mode, operator, prior],
        [own.read, own.mode_note, own.original, own.fit_note, *sigma_out, *quality_out],
        **private,
    )
