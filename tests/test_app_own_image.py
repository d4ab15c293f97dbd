"""Bring your own image, in the app's handlers (called as plain functions on the embedded
priors): an image that is already degraded restored as the observation y (no PSNR, the data
fit against the noise level), examples that bring their prior, a photograph on a CPU told what
would work, an image that does not look like the prior warned about, a drawn image restored,
the run's archive, what Stop leaves, and no progress shown over the canvas by the events that
write to the editor. (In a browser: test_app_browser_own_image.py; the
face prior on a faked GPU: test_app_space.py.)"""

from __future__ import annotations

import json
import os
import pickle
import zipfile
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

from app import own_image, restoring, status  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "assets" / "examples"
PHOTOS = EXAMPLES / "photos"
RUN_FILES = {"observation.png", "sample_0.png", "mean.png", "std.png", "best.png", "metrics.json"}


def quick(image, operator="sr4", sampler="ddnm", steps=6, n=2, **kw) -> restoring.RestoreRequest:
    params = {"num_steps": steps}
    if sampler == "mgps":
        params["num_gradient_steps_initial"] = 1
    return restoring.RestoreRequest(
        image=image,
        operator=operator,
        sampler=sampler,
        num_samples=n,
        sampler_params=params,
        **kw,
    )


def archive_files(final: restoring.Final) -> dict[str, bytes]:
    assert final.archive is not None and final.archive.suffix == ".zip"
    with zipfile.ZipFile(final.archive) as zf:
        return {Path(name).name: zf.read(name) for name in zf.namelist()}


def low_res_digit(tmp_path: Path) -> Path:
    """A digit the test degrades itself, outside the project: a ×4 BOX downscale (7×7)."""
    path = tmp_path / "low_res_7.png"
    Image.open(EXAMPLES / "digit_7_12.png").resize((7, 7), Image.Resampling.BOX).save(path)
    return path


# ---------------------------------------------------------------------------- observation mode
def test_a_low_res_digit_is_restored_as_the_observation_with_no_psnr(tmp_path):
    final = list(
        restoring.restore(quick(str(low_res_digit(tmp_path)), input_mode=own_image.OBSERVATION))
    )[-1]
    assert isinstance(final, restoring.Final)
    m = final.metrics
    assert m["input_mode"] == "observation" and m["psnr"] is None and m["psnr_note"]
    assert "original image is not known" in final.table  # why there is no PSNR
    assert "dB" not in final.table and "data fit ‖y − A(x̂)‖" in final.table
    assert f"noise alone: ≈ {m['expected_residual_norm']:.2f}" in final.table
    assert final.restoration.shape == final.observation.shape == (224, 224)  # 28×28 and 7×7
    before, after = final.before_after
    assert before.shape == after.shape
    files = archive_files(final)
    assert RUN_FILES | {"sample_1.png"} <= set(files) and "input.png" not in files
    assert json.loads(files["metrics.json"])["input_mode"] == "observation"
    assert Image.open(final.archive.parent / "mgps-sr4-digits" / "observation.png").size == (7, 7)


def test_the_same_digit_degraded_by_the_app_is_scored_against_its_truth():
    final = list(restoring.restore(quick(str(EXAMPLES / "digit_7_12.png"))))[-1]
    assert final.metrics["input_mode"] == "degrade" and len(final.metrics["psnr"]) == 2
    assert "PSNR of the samples" in final.table
    assert {"input.png"} | RUN_FILES <= set(archive_files(final))


def test_a_jpeg_observation_reports_the_quality_read_from_the_file(tmp_path):
    path = tmp_path / "digit_q10.jpg"
    Image.open(EXAMPLES / "digit_3_1.png").save(path, quality=10)
    assert own_image.jpeg_quality(str(path)) == 10
    assert own_image.jpeg_quality(str(EXAMPLES / "digit_3_1.png")) is None  # a PNG
    request = quick(str(path), "jpeg", "mgps", steps=3, n=1, input_mode=own_image.OBSERVATION)
    final = list(restoring.restore(request))[-1]
    assert final.metrics["operator_params"] == {"quality": 10}
    # the editor sends the JPEG re-encoded (as pixels); the file as uploaded rides beside it
    pixels = np.asarray(Image.open(path).convert("RGBA"))
    editor = {"background": pixels, "layers": [], "composite": None}
    assert own_image.same_picture(str(path), editor)
    assert not own_image.same_picture(str(EXAMPLES / "digit_7_12.png"), editor)
    setup = restoring.setup_for(
        editor, "jpeg", "digits", {}, 0.05, 0, input_mode="observation", original=str(path)
    )
    assert setup.operator_params == {"quality": 10}
    assert any("own quantisation tables" in n for n in setup.notes)
    other = {**editor, "background": np.asarray(Image.open(EXAMPLES / "digit_7_12.png"))}
    with pytest.raises(ValueError, match="quality"):  # a file the editor no longer shows
        restoring.setup_for(
            other, "jpeg", "digits", {}, 0.05, 0, input_mode="observation", original=str(path)
        )
    # a PNG under JPEG asks for the quality; given, it is used
    png = quick(str(EXAMPLES / "digit_3_1.png"), "jpeg", "mgps", steps=2, n=1)
    png = restoring.RestoreRequest(**{**png.__dict__, "input_mode": own_image.OBSERVATION})
    with pytest.raises(ValueError, match="quality"):
        list(restoring.restore(png))
    given = restoring.RestoreRequest(**{**png.__dict__, "operator_params": {"quality": 7}})
    assert list(restoring.restore(given))[-1].metrics["operator_params"] == {"quality": 7}


def test_operators_that_cannot_take_a_real_file_are_refused_before_run():
    for op in ("phase_retrieval", "hdr"):
        hint = own_image.observation_hint(op)
        assert hint.startswith("⚠️") and "cannot restore an image that is already degraded" in hint
        request = quick(str(EXAMPLES / "digit_3_1.png"), op, "mgps", input_mode="observation")
        with pytest.raises(ValueError, match="already degraded"):
            list(restoring.restore(request))
    assert "low-resolution" in own_image.observation_hint("sr4")
    assert "kernel" in own_image.observation_hint("gaussian_blur")
    assert "damaged part" in own_image.observation_hint("mask")


def test_observation_mode_with_a_drawn_mask_and_the_noise_estimate():
    digit = np.asarray(Image.open(EXAMPLES / "digit_3_1.png").convert("RGBA"))
    layer = np.zeros((28, 28, 4), np.uint8)
    layer[10:16, 4:24] = (255, 45, 85, 255)
    value = {"background": digit, "layers": [layer], "composite": None}
    final = list(restoring.restore(quick(value, "mask", input_mode="observation")))[-1]
    assert final.metrics["psnr"] is None and final.metrics["operator"] == "mask"
    sigma, why = own_image.noise_suggestion(value, "digits", "mask")
    assert 0 < sigma < 0.05 and why.startswith("noise level")  # a clean digit: little noise
    rng = np.random.default_rng(0)
    noisy = np.clip(digit[..., :3] + rng.normal(0, 40, digit[..., :3].shape), 0, 255)
    noisy_value = {**value, "background": noisy.astype(np.uint8)}
    assert own_image.noise_suggestion(noisy_value, "digits", "mask")[0] > sigma + 0.1
    # before the mask is drawn, or for an operator that takes no file: no suggestion
    assert own_image.noise_suggestion({**value, "layers": []}, "digits", "mask") is None
    assert own_image.noise_suggestion(value, "digits", "hdr") is None
    # a 7×7 low-resolution image is too small to tell noise from edges: the rounding noise
    small, why = own_image.noise_suggestion(str(EXAMPLES / "digit_3_1.png"), "digits", "sr4")
    assert small < 0.01 and "too small" in why


# ---------------------------------------------------------------------------- examples and priors
def test_an_example_brings_its_prior():
    clothes = own_image.prior_for_example(
        own_image.example_kind(EXAMPLES / "fashion_2.png"), "digits"
    )
    assert clothes.prior == "fashion" and "Fashion" in clothes.note
    digit = own_image.prior_for_example(
        own_image.example_kind(EXAMPLES / "digit_3_1.png"), "fashion"
    )
    assert digit.prior == "digits"
    same = own_image.prior_for_example("digits", "digits-exact")  # already one of its priors
    assert same.prior == "digits-exact" and same.note == ""


def test_a_photograph_on_a_cpu_says_what_would_work():
    kind = own_image.example_kind(PHOTOS / "astronaut.png")
    assert kind == "photo"
    choice = own_image.prior_for_example(kind, "digits")
    assert choice.prior is None  # no face prior loads here (offline, no hub weights)
    assert "CelebA-HQ" in choice.note and "GPU Space" in choice.note and "offline" in choice.note
    assert "MNIST digits" in choice.note  # what Run would do instead


def test_an_image_unlike_the_prior_gets_a_one_line_warning():
    astronaut = own_image.fit_warning(str(PHOTOS / "astronaut.png"), "digits")
    assert astronaut.startswith("⚠️") and "colour image" in astronaut and "\n" not in astronaut
    assert "No colour prior can run here" in astronaut and "GPU Space" in astronaut  # offline
    cameraman = own_image.fit_warning(str(PHOTOS / "cameraman.png"), "digits")  # grey photo
    assert "light background" in cameraman
    assert own_image.fit_warning(str(EXAMPLES / "digit_3_1.png"), "digits") == ""
    assert own_image.fit_warning(str(EXAMPLES / "fashion_2.png"), "fashion") == ""
    # and the run says it too, in its table
    final = list(restoring.restore(quick(str(PHOTOS / "astronaut.png"), "box", n=1)))[-1]
    assert "⚠️ This is a colour image" in final.table


# ---------------------------------------------------------------------------- drawing
def seven(shape=(28, 28)) -> np.ndarray:
    """A "7" drawn with the brush (red, opaque): a bar and a diagonal."""
    layer = np.zeros((*shape, 4), np.uint8)
    layer[6:9, 7:21] = (255, 45, 85, 255)
    for r in range(9, 23):
        c = 20 - (r - 9) // 2
        layer[r, c - 1 : c + 2] = (255, 45, 85, 255)
    return layer


def test_a_drawn_image_is_the_image_not_the_mask():
    canvas = own_image.blank_canvas("digits")
    assert canvas["background"].shape == (28, 28, 4) and not canvas["background"][..., :3].any()
    value = {**canvas, "layers": [seven()]}
    image = own_image.drawn_image(value)
    assert image.shape == (28, 28, 3) and image[7, 10].min() == 255 and image[0, 0].max() == 0
    request = quick(value, "box", strokes=own_image.STROKES_IMAGE)
    setup = restoring.setup_for(value, "box", "digits", {}, 0.05, 0, strokes="image")
    x = setup.x_true[0, 0]
    assert x[7, 10] > 0.9 and x[0, 0] < -0.9  # white ink on black: a 7, not a white square
    assert 0.1 < float((x > 0).float().mean()) < 0.3
    final = list(restoring.restore(request))[-1]
    assert isinstance(final, restoring.Final) and "input.png" in archive_files(final)
    # under the free-form mask, strokes that are the image leave nothing to restore
    with pytest.raises(ValueError, match="strokes are the image"):
        restoring.setup_for(value, "mask", "digits", {}, 0.05, 0, strokes="image")
    # baked into the image, the next strokes are the mask
    baked = own_image.bake_strokes(value)
    assert baked["layers"] == [] and baked["background"][7, 10, :3].min() == 255
    mask = np.zeros((28, 28, 4), np.uint8)
    mask[12:20, 8:20, 3] = 255
    masked = restoring.setup_for({**baked, "layers": [mask]}, "mask", "digits", {}, 0.05, 0)
    assert masked.x_true[0, 0, 7, 10] > 0.9


def test_what_writes_to_the_editor_shows_no_progress_over_the_canvas(app_main):
    """The page applies a status to the editor only after reading its value (which uploads its
    image), so a late "pending" could stay over the canvas and take the strokes: the events
    that write to the editor show no progress on it (in a browser, test_app_browser_own_image.py
    draws on a blank canvas after a stopped run)."""
    editors = {"restore-editor", "compare-editor"}
    writers = {
        fn.name: fn.show_progress
        for fn in app_main.demo.fns.values()
        if any(getattr(block, "elem_id", None) in editors for block in fn.outputs)
    }
    assert {"on_blank", "on_strokes", "on_example", "carry_over"} <= set(writers), writers
    assert set(writers.values()) == {"hidden"}, writers


# ---------------------------------------------------------------------------- Stop
def test_stop_leaves_the_latest_samples_marked_and_their_archive():
    leftovers = restoring.Leftovers()
    frames = []
    for frame in restoring.restore(quick(str(EXAMPLES / "digit_3_1.png"), "box", steps=20)):
        leftovers.feed(frame)
        frames.append(frame)
        if frame.step == 7:  # Stop pressed here
            break
    # frames cross a process boundary on ZeroGPU: they pickle, small, without the prior
    sizes = [len(pickle.dumps(f)) for f in frames]
    assert max(sizes) < 200_000 and frames[0].problem.prior is None
    assert leftovers.final(0, 20, "DDNM+", 1.0) is None  # before the first step
    partial = leftovers.final(7, 20, "DDNM+", 1.0)
    assert partial.stopped_at == (7, 20)
    assert partial.status("DDNM+") == status.stopped_at("DDNM+", 7, 20)
    assert partial.status("DDNM+") == "DDNM+: stopped at step 7/20"
    shown = max(f.step for f in frames if f.scored is not None)  # the latest frame with images
    assert 0 < shown <= 7
    assert partial.table.startswith(f"**Stopped at step 7/20**: the x̂0 of step {shown}.")
    assert len(partial.gallery) == 2 + 2  # the samples so far, their mean and std
    files = archive_files(partial)
    assert RUN_FILES | {"input.png"} <= set(files)
    metrics = json.loads(files["metrics.json"])
    assert metrics["stopped_at_step"] == 7 and metrics["samples_at_step"] == shown
    assert metrics["num_steps"] == 20 and metrics["sampler"] == "ddnm" and len(metrics["psnr"]) == 2
