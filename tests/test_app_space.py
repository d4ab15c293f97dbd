"""What the app does where it runs: the default prior on a GPU (faked here) and on a CPU, the
number of sampling jobs at once on ZeroGPU and on one device, the shipped example photographs
and their licences, the page's upload check, and the status lines and time estimates."""

from __future__ import annotations

import os
import re
import types
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from app import catalog, comparing, device, restoring, status, widgets  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def _block(demo, elem_id: str):
    found = [b for b in demo.blocks.values() if getattr(b, "elem_id", None) == elem_id]
    assert found, elem_id
    return found[0]


# ---------------------------------------------------------------------------- the default prior
def test_default_prior_is_the_face_model_on_a_gpu_where_it_loads(monkeypatch, app_main):
    real = catalog._availability
    loads = {"face": True}

    def availability(entry):  # whether the face model loads here (the hub cache), as told
        if entry.name == catalog.GPU_PRIOR:
            return (True, "") if loads["face"] else (False, "not in the local cache")
        return real(entry)

    monkeypatch.setattr(catalog, "_availability", availability)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert device._pick_device().type == "cuda"
    monkeypatch.setattr(device, "DEVICE", device._pick_device())  # a GPU Space
    assert catalog.default_prior() == catalog.GPU_PRIOR == "celebahq-256"
    demo = app_main.build_demo()  # the tabs start on it, the photographs first
    assert _block(demo, "restore-prior").value == "celebahq-256"
    assert _block(demo, "compare-prior").value == "celebahq-256"
    first = _block(demo, "restore-examples").samples[0][0]
    assert "astronaut.png" in str(first)
    # a GPU but the hub prior cannot load (offline, not cached): the digits
    loads["face"] = False
    assert catalog.default_prior() == "digits"
    # a CPU: the digits, even where the face model could load
    loads["face"] = True
    monkeypatch.setattr(device, "DEVICE", torch.device("cpu"))
    assert catalog.default_prior() == "digits"
    assert "digit" in str(catalog.examples("digits")[0].path.name)


def test_sampling_jobs_at_once_on_zero_gpu_and_on_one_device(monkeypatch, app_main):
    def limits(demo) -> dict[str, int | None]:
        names = {"restore", "compare", "ecg"}
        return {
            fn.api_name: fn.concurrency_limit for fn in demo.fns.values() if fn.api_name in names
        }

    monkeypatch.delenv("SPACES_ZERO_GPU", raising=False)
    assert device.sampling_jobs() == 1
    assert set(limits(app_main.build_demo()).values()) == {1}
    # ZeroGPU: `spaces` installed and SPACES_ZERO_GPU set; each call gets a GPU of its own
    fake = types.SimpleNamespace(GPU=lambda duration: lambda fn: fn)
    monkeypatch.setattr(device, "spaces", fake)
    monkeypatch.setenv("SPACES_ZERO_GPU", "true")
    assert device.on_zero_gpu() and device.sampling_jobs() == device.ZERO_GPU_JOBS > 1
    demo = app_main.build_demo()
    assert set(limits(demo).values()) == {device.ZERO_GPU_JOBS}
    assert "up to 4 run at once" in app_main.header()


# ---------------------------------------------------------------------------- examples
def test_example_photographs_have_a_source_and_a_licence():
    photos = sorted((ROOT / "assets" / "examples" / "photos").glob("*.png"))
    assert len(photos) >= 3
    sources = (ROOT / "assets" / "examples" / "photos" / "SOURCES.md").read_text()
    for photo in photos:
        row = next(line for line in sources.splitlines() if f"`{photo.name}`" in line)
        assert re.search(r"public domain|CC0", row), photo.name
    labels = [e.label for e in catalog.examples("digits")]
    assert "digit 3" in labels and "astronaut (photo)" in labels
    # a photograph restores with the digits prior too (centre-cropped, resized, grayscale)
    request = restoring.RestoreRequest(
        image=str(photos[0]),
        operator="box",
        sampler="ddnm",
        num_samples=1,
        sampler_params={"num_steps": 2},
    )
    assert isinstance(list(restoring.restore(request))[-1], restoring.Final)


def test_only_samplers_that_can_run_with_the_prior_are_offered():
    offered = [name for _, name in catalog.sampler_choices("mask", "digits")]
    assert "mgps" in offered and not {"psld", "resample"} & set(offered)
    note = catalog.hidden_samplers_note("digits")
    assert "PSLD" in note and "ReSample" in note and "latent" in note
    assert catalog.hidden_samplers_note("ldm-celebahq-256").startswith("Not offered")
    assert "psld" in catalog.samplers_for_prior("ldm-celebahq-256")


def test_the_page_checks_uploads_with_the_app_limits():
    script = widgets.upload_check("restore-editor")
    assert 'const editorId = "restore-editor";' in script
    assert f'"mb": {catalog.MAX_UPLOAD_MB}' in script and '"megapixels": 20' in script
    code = [line for line in script.splitlines() if not line.lstrip().startswith("//")]
    assert not any("EDITOR_ID" in line or "LIMITS;" in line for line in code)  # filled in


# ---------------------------------------------------------------------------- status lines
def test_status_lines_have_four_states():
    running = status.running("MGPS", 12, 50, 3.1, 9.0)
    assert running == "MGPS: running, step 12/50 · 3.1 s · about 9.0 s left"
    assert status.stopped(running + " · ‖y − A(x̂0)‖ = 1.2") == "MGPS: stopped at step 12/50"
    assert status.stopped("ECG: starting… (window 3)") == "ECG: stopped before the first step"
    assert status.stopped("MGPS: done in 3.0 s") == "MGPS: done in 3.0 s"
    assert status.stopped("error: no image") == "error: no image"
    assert status.done("MGPS", 75) == "MGPS: done in 1 min 15 s"
    assert status.duration(725) == "12 min" and status.duration(4.25) == "4.2 s"
    rows = [["MGPS", "running", "12/50"], ["DPS", "done", "50/50"]]
    assert [r[1] for r in comparing.stopped_table(rows)] == ["stopped at step 12/50", "done"]


def test_time_left_and_estimates_follow_measured_steps():
    left = status.Remaining(100, window=5)
    assert left.update(0, 0.0) is None
    for k in range(1, 11):  # 1 s a step for 10 steps, then 0.1 s a step
        left.update(k, float(k))
    for k in range(11, 21):
        last = left.update(k, 10.0 + 0.1 * (k - 10))
    assert last == pytest.approx(0.1 * 80)  # the pace of the last steps
    book = status.RateBook()
    book.record("digits", "mgps", [0.5] * 10 + [0.1] * 40, num_samples=4)
    assert book.estimate("digits", "dps", 50, 4, linear_in_samples=True) is None
    assert book.estimate("digits", "mgps", 50, 4, linear_in_samples=True) == pytest.approx(9.0)
    assert book.estimate("digits", "mgps", 400, 4, linear_in_samples=True) == pytest.approx(44.0)
    assert book.estimate("digits", "mgps", 400, 16, linear_in_samples=True) == pytest.approx(176)
    assert book.estimate("digits", "mgps", 400, 2, linear_in_samples=False) == pytest.approx(44)
    # the network's measured batch cost carries a rate to another number of samples
    book.calibrate("digits", cost_one=0.03, cost_many=0.18, many=16)
    assert book.estimate("digits", "mgps", 400, 16, linear_in_samples=True) == pytest.approx(
        44.0 * 0.18 / 0.06
    )
    book.record("digits", "dps", [0.1] * 3, num_samples=1)  # too short to learn from
    assert book.estimate("digits", "dps", 50, 1, linear_in_samples=True) is None


def test_a_finished_run_gives_the_next_one_an_estimate(monkeypatch):
    monkeypatch.setattr(status, "RATES", status.RateBook())
    assert "after the first steps" in restoring.estimate_note("digits", "ddnm", 1000, 16)
    request = restoring.RestoreRequest(
        image=str(ROOT / "assets" / "examples" / "digit_3_1.png"),
        operator="box",
        sampler="ddnm",
        num_samples=2,
        sampler_params={"num_steps": 6},
    )
    frames = list(restoring.restore(request))
    running = [f for f in frames if isinstance(f, restoring.Frame) and f.step > 0]
    assert "running, step 1/6" in running[0].status("DDNM+")
    assert running[0].left is not None and running[-1].left == pytest.approx(0)
    assert frames[-1].status("DDNM+").startswith("DDNM+: done in")
    note = restoring.estimate_note("digits", "ddnm", 1000, 16)
    assert "1000 steps × 16 samples: about" in note


def test_the_first_update_carries_the_prior_estimate_of_the_initial_noise():
    """Before the first guided step the x̂0 panel shows D_T(x_T), the prior's estimate from
    the noise the sampler starts from: a blurred average digit, not the restoration."""
    from mgps.samplers.common import start

    request = restoring.RestoreRequest(
        image=str(ROOT / "assets" / "examples" / "digit_3_1.png"),
        operator="box",
        sampler="mgps",
        num_samples=2,
        seed=4,
        sampler_params={"num_steps": 3, "num_gradient_steps_initial": 1},
    )
    frames = list(restoring.restore(request))
    first = frames[0]
    assert first.step == 0 and first.observation is not None and first.x0_prior is not None
    setup = restoring.setup_for(request.image, "box", "digits", {}, 0.05, 4)
    timesteps, x_t = start(
        "mgps", setup.prior, setup.problem, 3, 2, None, torch.Generator().manual_seed(4)
    )
    with torch.no_grad():
        expected = setup.prior.x0_pred(x_t, int(timesteps[-1]))
    from app.convert import display

    assert np.array_equal(first.x0_prior, display(expected[:1].clamp(-1, 1)))
    guided = next(f for f in frames[1:] if getattr(f, "x0_hat", None) is not None)
    assert not np.array_equal(first.x0_prior, guided.x0_hat)


def test_the_noise_level_label_is_drawn_at_its_line_on_the_log_axis():
    request = comparing.CompareRequest(
        image=str(ROOT / "assets" / "examples" / "digit_3_1.png"),
        operator="box",
        samplers=("ddnm",),
        num_steps=3,
        num_samples=1,
    )
    final = list(comparing.compare(request))[-1]
    fig = final.figure
    line = fig.layout.shapes[0]
    label = fig.layout.annotations[0]
    assert fig.layout.yaxis.type == "log" and "noise level" in label.text
    assert label.y == pytest.approx(np.log10(line.y0))  # log axis: annotations take log10


# ---------------------------------------------------------------------------- own images
def test_a_face_photo_that_is_already_degraded_restores_with_the_face_prior_on_a_gpu(
    monkeypatch, app_main, tiny_pixel_prior, tmp_path
):
    """On a GPU Space, where the face prior loads: the tabs start on it, a photograph example
    keeps it and raises no warning, and a real face photo degraded outside the project (a ×4
    BOX downscale) is restored as the observation y, with no PSNR and the run's archive. The
    GPU is faked and the face prior is a tiny random model of 3×16×16 images: this checks the
    flow, not the quality."""
    import json
    import zipfile

    from PIL import Image

    from app import own_image
    from mgps.priors import loading

    real_availability, real_load = catalog._availability, loading.load_prior
    monkeypatch.setattr(
        catalog,
        "_availability",
        lambda e: (True, "") if e.name == catalog.GPU_PRIOR else real_availability(e),
    )
    monkeypatch.setattr(  # the face prior is the tiny one; the others load on the CPU
        loading,
        "load_prior",
        lambda spec, **kw: tiny_pixel_prior if spec == catalog.GPU_PRIOR else real_load(spec),
    )
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(device, "DEVICE", device._pick_device())  # a GPU Space
    assert catalog.default_prior() == "celebahq-256"
    demo = app_main.build_demo()
    assert _block(demo, "restore-input-mode").value == own_image.DEGRADE
    photo = ROOT / "assets" / "examples" / "photos" / "astronaut.png"
    choice = own_image.prior_for_example(own_image.example_kind(photo), "celebahq-256")
    assert choice.prior == "celebahq-256" and choice.note == ""
    assert own_image.prior_for_example("photo", "digits").prior == "celebahq-256"
    assert own_image.fit_warning(str(photo), "celebahq-256") == ""  # a colour photo fits
    on_digits = own_image.fit_warning(str(photo), "digits")  # and the face prior is named
    assert "Colour priors here: CelebA-HQ faces 256×256" in on_digits
    grey = own_image.fit_warning(str(photo.with_name("cameraman.png")), "celebahq-256")
    assert "grey image" in grey
    small = tmp_path / "astronaut_x4.png"
    Image.open(photo).resize((64, 64), Image.Resampling.BOX).save(small)
    request = restoring.RestoreRequest(
        image=str(small),
        operator="sr4",
        prior="celebahq-256",
        sampler="mgps",
        num_samples=2,
        sampler_params={"num_steps": 2, "num_gradient_steps_initial": 1},
        input_mode=own_image.OBSERVATION,
    )
    frames = list(restoring.restore(request))
    final = frames[-1]
    assert isinstance(final, restoring.Final)
    assert any("resized" in note for note in frames[0].notes)  # 64×64 → 4×4, said so
    assert final.metrics["psnr"] is None and final.metrics["prior"] == "celebahq-256"
    assert final.restoration.ndim == 3  # a colour restoration
    with zipfile.ZipFile(final.archive) as zf:
        names = {Path(n).name for n in zf.namelist()}
        metrics = json.loads(zf.read(next(n for n in zf.namelist() if n.endswith(".json"))))
    assert {"observation.png", "sample_1.png", "best.png", "metrics.json"} <= names
    assert metrics["input_mode"] == "observation" and metrics["operator_params"] == {"factor": 4}
