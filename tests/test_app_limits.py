"""The server's limits without a server: strict booleans, names and numbers; messages cut;
the editor's pending uploads ("blobs") bounded; layers and decoded pixels counted from the
headers; 16-bit and float images scaled or refused, never clipped."""

from __future__ import annotations

import io
import types

import gradio as gr
import numpy as np
import pytest
from PIL import Image

from app import checks, limits, parse, widgets
from mgps.utils.images import ImageLoadError, to_8bit


def test_booleans_are_read_strictly():
    assert checks.parse_bool("x", "false") is False and checks.parse_bool("x", "0") is False
    assert checks.parse_bool("x", "TRUE") is True and checks.parse_bool("x", 1) is True
    for bad in ("maybe", 2, [True], None):
        with pytest.raises(ValueError, match="x must be true or false"):
            checks.parse_bool("x", bad)
    import mgps

    params = checks.clean_params(mgps.SAMPLERS["mgps"], {"warm_start": "false"})
    assert params["warm_start"] is False


def test_names_and_numbers_are_checked_before_gradio_reads_them():
    with gr.Blocks():
        box = gr.Dropdown(choices=[("A", "a"), ("B", "b")], value="a")
        many = gr.CheckboxGroup(choices=["a", "b"])
        number = gr.Number()
    assert parse.check_value(box, "sampler", "a") == "a"
    with pytest.raises(ValueError, match="sampler takes one name"):
        parse.check_value(box, "sampler", ["a"])
    with pytest.raises(ValueError, match=r"sampler must be one of: a, b; got 'xxx.*characters\)"):
        parse.check_value(box, "sampler", "x" * 10**6)
    with pytest.raises(ValueError, match="each item of samplers"):
        parse.check_value(many, "samplers", ["a", "c"])
    with pytest.raises(ValueError, match="samplers takes a list"):
        parse.check_value(many, "samplers", "a")
    with pytest.raises(ValueError, match="seed must be a number"):
        parse.check_value(number, "seed", {"x": 1})
    assert len(limits.short("x" * 10**6)) < 120
    assert len(parse.refuse("y" * 10**6).message) < limits.MAX_MESSAGE + 40


def png(size: tuple[int, int], mode: str = "RGBA") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size).save(buffer, format="PNG")
    return buffer.getvalue()


def blob(key: str, kind: str = "background", index=None, data: bytes = b"x"):
    """What the page sends (a multipart form: the index is a string)."""
    return types.SimpleNamespace(
        data={"id": key, "type": kind, "index": index}, files=[("blob", data)]
    )


def test_pending_blobs_layers_and_pixels_are_bounded():
    with gr.Blocks():
        editor = widgets.editor("limits", "image")
    for k in range(limits.MAX_PENDING_BLOBS + 10):
        editor.accept_blobs(blob(f"id{k}"))
    assert len(editor.blob_storage) == limits.MAX_PENDING_BLOBS
    newest = f"id{limits.MAX_PENDING_BLOBS + 9}"
    editor.accept_blobs(blob(newest, "composite"))  # the same upload, another part: kept
    assert editor.blob_storage[newest].composite == b"x"
    with pytest.raises(gr.Error, match="layer index must be below"):
        editor.accept_blobs(blob("z", "layer", index=10**9))
    with pytest.raises(gr.Error, match="layer index must be a number"):
        editor.accept_blobs(blob("z", "layer", index="many"))
    # a value over the pixel limit is refused before decoding, and its blobs are dropped
    editor.blob_storage.clear()
    side = int((limits.MAX_REQUEST_MEGAPIXELS * 1e6 / 4) ** 0.5) + 10  # each under the limit
    for kind, index in (("background", None), ("composite", None), ("layer", "0"), ("layer", "1")):
        editor.accept_blobs(blob("big", kind, index, data=png((side, side), "L")))
    payload = types.SimpleNamespace(id="big")
    with pytest.raises(gr.Error, match="megapixels together"):
        editor.preprocess(payload)
    assert "big" not in editor.blob_storage
    with pytest.raises(ValueError, match="at most 2"):
        limits.check_editor_files(None, [None] * 3, None)


def test_high_depth_images_are_scaled_or_refused_never_clipped(tmp_path):
    ramp = np.linspace(0, 65535, 256).astype(np.uint16).reshape(16, 16)
    Image.fromarray(ramp).save(tmp_path / "ramp16.png")
    out = Image.open(io.BytesIO(limits.eight_bit_png(str(tmp_path / "ramp16.png"))))
    assert out.mode == "L" and np.asarray(out).max() == 255 and np.asarray(out).min() == 0
    assert (np.asarray(out) == 255).mean() < 0.01  # not white
    Image.new("RGB", (4, 4)).save(tmp_path / "rgb.png")
    assert limits.eight_bit_png(str(tmp_path / "rgb.png")) is None  # gradio's own conversion
    hot = Image.fromarray(np.full((4, 4), 300.0, np.float32))
    with pytest.raises(ImageLoadError, match="outside 0..1 and 0..255"):
        to_8bit(hot)
    wide = Image.fromarray(np.full((4, 4), 70000, np.int32))
    with pytest.raises(ImageLoadError, match="outside 0..65535"):
        to_8bit(wide)
    assert np.asarray(to_8bit(Image.fromarray(np.full((4, 4), 0.5, np.float32)))).max() == 128


def test_user_errors_are_logged_at_info_and_faults_with_their_traceback(caplog):
    import logging

    with caplog.at_level(logging.INFO, logger="app"):
        refused = widgets.user_error(ValueError("sampler must be one of: a, b; got 'c'"))
        try:
            raise RuntimeError("boom")
        except RuntimeError as err:
            fault = widgets.user_error(err)
    assert refused.print_exception is False and fault.print_exception is True
    (info, error) = caplog.records
    assert info.levelno == logging.INFO and info.exc_info is None
    assert error.levelno == logging.ERROR and error.exc_info[0] is RuntimeError
