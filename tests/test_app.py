"""The app's handlers, called as plain functions on the embedded priors, and the UI built
without launching it. (Launched and driven by a client: test_app_client.py; by a browser:
test_app_browser.py.)"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

import mgps  # noqa: E402
from app import catalog, comparing, restoring, widgets  # noqa: E402
from app.convert import display, editor_image, editor_mask  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DIGIT = ROOT / "assets" / "examples" / "digit_3_1.png"


def stroke_layer(shape=(28, 28), rows=slice(10, 18), cols=slice(5, 20)) -> np.ndarray:
    """An RGBA layer as the ImageEditor sends it: opaque where the user drew."""
    layer = np.zeros((*shape, 4), np.uint8)
    layer[rows, cols] = (255, 45, 85, 255)
    return layer


def editor_value(layers=None, background=None) -> dict:
    bg = np.asarray(Image.open(DIGIT).convert("RGBA")) if background is None else background
    return {
        "background": bg,
        "layers": [stroke_layer()] if layers is None else layers,
        "composite": None,
    }


def drain(stream):
    return list(stream)


# ---------------------------------------------------------------------------- the package
def test_app_package_wins_over_app_py_and_demo_is_importable():
    import app

    assert Path(app.__file__).name == "__init__.py"
    spec = importlib.util.spec_from_file_location("app_main", ROOT / "app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    import gradio as gr

    assert isinstance(module.demo, gr.Blocks)
    api = module.demo.get_api_info()["named_endpoints"]
    assert {"/restore", "/compare", "/tradeoff"} <= set(api)
    names = [p["parameter_name"] for p in api["/restore"]["parameters"]]
    # every sampler parameter of the registry is a named (optional) API parameter
    for e in mgps.SAMPLERS:
        for p in e.params:
            assert f"{e.name}__{p.name}" in names
    assert module.demo._queue.max_size == module.QUEUE_SIZE


def test_device_is_chosen_once_and_the_zerogpu_decorator_is_a_no_op_here():
    from app import device

    def f():
        return 1

    assert device.gpu(duration=10)(f) is f
    assert device.DEVICE.type in ("cpu", "cuda")


# ---------------------------------------------------------------------------- catalog
def test_catalog_comes_from_the_registries():
    ops = [e.name for e in catalog.image_operators()]
    assert set(ops) == set(mgps.OPERATORS.names(with_tag="image")) - set(
        mgps.OPERATORS.names(with_tag="needs-weights")
    )
    priors = {p.name: p for p in catalog.priors()}
    assert set(priors) == {e.name for e in mgps.PRIORS if not e.tags & catalog.NON_IMAGE_TAGS}
    assert priors["digits"].available and priors["digits-exact"].available
    for p in priors.values():
        assert p.available or p.why
    assert catalog.incompatibility("mgps", "jpeg", "digits") is None
    why = catalog.incompatibility("ddnm", "jpeg", "digits")
    assert why and "nonlinear" in why  # the library's own message
    assert catalog.incompatibility("psld", "box", "digits")  # latent-only sampler
    assert catalog.incompatibility("ddnm", "gaussian_blur", "digits") is None  # CG without an SVD
    assert catalog.initial_values("dps", "box")["step_size"] == 1.0  # paper's per-task preset
    assert catalog.initial_values("mgps", "box")["num_steps"] == 50


def test_editor_mask_reads_alpha_of_layers():
    assert editor_mask(editor_value(layers=[])) is None
    assert editor_mask(editor_value(layers=[np.zeros((28, 28, 4), np.uint8)])) is None
    mask = editor_mask(editor_value())
    assert mask.dtype == bool and mask[12, 10] and not mask[0, 0]
    assert editor_image(None) is None
    big = display(mgps.load_image(DIGIT, size=28, channels=1).image)
    assert big.shape == (224, 224) and big.dtype == np.uint8


# ---------------------------------------------------------------------------- restore
def test_restore_streams_frames_then_the_results():
    request = restoring.RestoreRequest(
        image=editor_value(),
        sampler="mgps",
        num_samples=2,
        seed=3,
        sampler_params={"num_steps": 4, "num_gradient_steps_initial": 2},
    )
    frames = drain(restoring.restore(request))
    progress = [f for f in frames if isinstance(f, restoring.Frame)]
    final = frames[-1]
    assert isinstance(final, restoring.Final)
    assert len(progress) == 5  # the observation, then one per step
    assert progress[0].observation is not None and progress[0].step == 0
    streamed = [f for f in progress if f.x0_hat is not None]
    assert len(streamed) >= 2 and streamed[0].midpoint is not None  # MGPS's midpoint
    assert streamed[0].x0_hat.shape == (224, 224)
    assert not np.array_equal(streamed[0].x0_hat, streamed[-1].x0_hat)
    assert [f.step for f in progress] == [0, 1, 2, 3, 4]
    assert final.restoration.shape == (224, 224)
    assert len(final.gallery) == 2 + 2  # samples, mean, std
    m = final.metrics
    assert len(m["psnr"]) == 2 and m["sampler"] == "mgps" and m["seed"] == 3
    assert "PSNR" in final.table and "data fit" in final.table


def test_restore_other_degradation_with_operator_params():
    request = restoring.RestoreRequest(
        image=str(DIGIT),
        operator="gaussian_blur",
        sampler="dps",
        num_samples=1,
        operator_params={"std": 2.0, "kernel_size": 31},
        sampler_params={"num_steps": 3},
    )
    frames = drain(restoring.restore(request))
    assert isinstance(frames[-1], restoring.Final)
    assert frames[-1].metrics["operator"] == "gaussian_blur"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (dict(image=None), "Upload an image"),
        (dict(image=editor_value(layers=[])), "draw over"),  # empty mask
        (
            dict(image=editor_value(layers=[stroke_layer(rows=slice(0, 28), cols=slice(0, 28))])),
            "observes no pixel",
        ),  # full mask
        (dict(num_samples=17), "between 1 and 16"),
        (dict(num_samples=2.5), "whole number"),
        (dict(sigma_y=float("nan")), "σ_y"),
        (dict(sigma_y=-1), "σ_y"),
        (dict(seed=-4), "seed"),
        (dict(sampler_params={"num_steps": 5000}), "num_steps"),
        (dict(sampler_params={"lr": float("inf")}), "finite"),
        (dict(sampler_params={"bogus": 1}), "no parameter"),
        (dict(sampler="ddnm", operator="jpeg"), "nonlinear"),
        (dict(sampler="nope"), "unknown sampler"),
        (dict(prior="celebahq-256"), "CelebA-HQ .* unavailable"),
        (dict(operator="nonlinear_blur"), "not offered"),
    ],
)
def test_restore_bad_input_raises_a_clear_value_error(change, message):
    request = restoring.RestoreRequest(
        **{
            "image": editor_value(),
            "sampler_params": {"num_steps": 2},
            "num_samples": 1,
            **change,
        }
    )
    if "prior" in change and {p.name: p for p in catalog.priors()}[change["prior"]].available:
        pytest.skip(f"{change['prior']} is available here (cached); the case needs it missing")
    with pytest.raises(ValueError, match=message):
        drain(restoring.restore(request))


def test_odd_images_are_accepted(tmp_path):
    """Grayscale, RGBA, a 1-pixel image and a wide image all load (with notes)."""
    cases = {
        "gray": np.full((40, 30), 200, np.uint8),
        "rgba": np.dstack([np.full((28, 28, 3), 90, np.uint8), np.full((28, 28), 128, np.uint8)]),
        "pixel": np.full((1, 1, 3), 255, np.uint8),
        "wide": np.zeros((10, 300, 3), np.uint8),
    }
    for name, array in cases.items():
        path = tmp_path / f"{name}.png"
        Image.fromarray(array).save(path)
        request = restoring.RestoreRequest(
            image=str(path),
            operator="box",
            sampler="ddnm",
            sampler_params={"num_steps": 2},
            num_samples=1,
        )
        frames = drain(restoring.restore(request))
        assert isinstance(frames[-1], restoring.Final), name


def test_huge_and_broken_images_are_refused_before_decoding(tmp_path):
    huge = tmp_path / "huge.png"
    Image.new("L", (5000, 5000)).save(huge)  # 25 MP > 20 MP
    with pytest.raises(ValueError, match="megapixels"):
        drain(restoring.restore(restoring.RestoreRequest(image=str(huge), operator="box")))
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    with pytest.raises(ValueError, match="not an image"):
        drain(restoring.restore(restoring.RestoreRequest(image=str(text), operator="box")))


def test_diverging_sampler_is_reported_as_a_gradio_error(monkeypatch):
    import gradio as gr

    def diverging(setup, sampler, **kw):
        raise mgps.SamplerDivergedError("MGPS diverged at step 3/50: lower lr")
        yield  # a generator, as the library's

    monkeypatch.setattr(restoring, "restore_stream", diverging)
    request = restoring.RestoreRequest(image=editor_value(), sampler_params={"num_steps": 2})
    with pytest.raises(gr.Error, match="diverged at step 3/50"):
        drain(widgets.guard(restoring.restore(request)))
    with pytest.raises(gr.Error, match="Upload an image"):
        drain(widgets.guard(restoring.restore(restoring.RestoreRequest(image=None))))


# ---------------------------------------------------------------------------- compare
def test_compare_streams_all_samplers_from_one_initial_noise(monkeypatch):
    import mgps.pipeline as pipeline

    seen = []
    real = pipeline.restore_stream

    def spy(setup, sampler, **kw):
        seen.append((sampler, kw["x_init"]))
        return real(setup, sampler, **kw)

    monkeypatch.setattr(comparing, "restore_stream", spy)
    request = comparing.CompareRequest(
        image=editor_value(),
        samplers=("mgps", "dps", "ddnm", "psld"),
        num_steps=3,
        num_samples=2,
        seed=5,
    )
    frames = drain(comparing.compare(request))
    assert [s for s, _ in seen] == ["mgps", "dps", "ddnm"]  # PSLD (latent only) skipped
    assert all(x is seen[0][1] for _, x in seen)  # one x_init shared by all
    assert seen[0][1].shape == (2, 1, 28, 28)
    assert any("PSLD" in n for n in frames[0].notes)
    assert len(frames) > 3
    final = frames[-1]
    assert final.final and len(final.table) == 3 and all(r[1] == "done" for r in final.table)
    assert len(final.live) == 3 and len(final.summary) == 6
    assert final.figure is not None and len(final.figure.data) == 3


def test_compare_on_the_exact_prior_shows_the_exact_posterior():
    request = comparing.CompareRequest(
        image=str(DIGIT),
        operator="half",
        prior="digits-exact",
        samplers=("ddnm",),
        num_steps=3,
        num_samples=2,
    )
    final = drain(comparing.compare(request))[-1]
    captions = [c for _, c in final.summary]
    assert "exact posterior mean" in captions and any("exact posterior std" in c for c in captions)
    assert final.table[0][-1] is not None  # RMSE against the exact mean
    assert "Energy distance to the exact posterior" in final.verdict.split("PSNR")[0]
    assert final.table[0][comparing.TABLE_COLUMNS.index("energy distance to the exact posterior")]


def test_compare_says_when_a_sampler_cannot_meet_the_budget():
    plan = {
        "ddnm": (2, comparing.budgets.Cost(2, 0)),
        "mgps": (2, comparing.budgets.Cost(40, 20)),
    }
    note = comparing.budget_note("cost", plan, 2.0, 2.0)
    assert "Equal cost: 2 forward calls each" in note
    assert "Off the budget by more than 10 %: MGPS costs 60 at 2 steps" in note


def test_compare_on_phase_retrieval_shows_the_best_fit_as_the_paper_scores_it():
    request = comparing.CompareRequest(
        image=str(DIGIT), operator="phase_retrieval", samplers=("dps",), num_steps=3, num_samples=3
    )
    final = drain(comparing.compare(request))[-1]
    assert [c for _, c in final.summary][0] == "DPS · best fit to y of 3"
    column = comparing.TABLE_COLUMNS.index("PSNR best fit (dB)")
    assert final.table[0][column] is not None
    # on a task scored on the mean, the summary shows the mean
    half = drain(comparing.compare(replace(request, operator="half")))[-1]
    assert [c for _, c in half.summary][0] == "DPS · mean of 3"


def test_compare_at_equal_cost_gives_each_sampler_the_budget_and_a_verdict():
    request = comparing.CompareRequest(
        image=str(DIGIT), operator="half", samplers=("mgps", "dps", "ddnm"), num_steps=4
    )
    assert request.budget == "cost" and request.num_samples >= 4
    frames = drain(comparing.compare(replace(request, num_samples=2)))
    final = frames[-1]
    assert final.status.startswith("Compare: done in ")
    column = comparing.TABLE_COLUMNS.index("cost (forward calls)")
    steps = comparing.TABLE_COLUMNS.index("steps")
    budget = final.table[0][column]  # MGPS at 4 steps sets the budget
    for row in final.table:  # the runs' own counts, a VJP at the measured price
        assert abs(row[column] - budget) <= 0.1 * budget, row
    assert [r[steps] for r in final.table][0] == "4/4"
    assert int(final.table[1][steps].split("/")[0]) > 4  # DPS's steps are cheaper: more of them
    assert "Equal cost" in frames[1].verdict and "VJP costs" in frames[1].verdict
    assert "**PSNR**" in final.verdict and "95 %" in final.verdict
    assert "±" in final.table[0][comparing.TABLE_COLUMNS.index("PSNR (dB)")]
    same = drain(comparing.compare(replace(request, num_samples=2, budget="steps")))[-1]
    assert {r[steps] for r in same.table} == {"4/4"}
    with pytest.raises(ValueError, match="budget must be one of"):
        drain(comparing.compare(replace(request, budget="time")))


def test_the_residual_axis_reads_one_two_five():
    assert comparing.log_ticks(0.9, 60) == [1, 2, 5, 10, 20, 50]
    ticks = comparing.log_ticks(0.05, 5000)  # too many for 1-2-5: powers of ten
    assert ticks == pytest.approx([0.1, 1, 10, 100, 1000])


def test_compare_carries_the_restore_image_over_once():
    from app.tabs import compare

    value = editor_value()
    shown, mark = compare.carry_over(value, "")
    assert shown is value and mark
    unchanged, same = compare.carry_over(value, mark)  # already carried: Compare's own stays
    assert same == mark and unchanged == {"__type__": "update"}
    empty, none = compare.carry_over({"background": None, "layers": []}, mark)
    assert none == mark and empty == {"__type__": "update"}


def test_compare_refuses_bad_requests():
    with pytest.raises(ValueError, match="at least one"):
        drain(comparing.compare(comparing.CompareRequest(image=str(DIGIT), samplers=())))
    with pytest.raises(ValueError, match="None of the chosen"):
        drain(
            comparing.compare(
                comparing.CompareRequest(
                    image=str(DIGIT), operator="jpeg", samplers=("ddnm", "diffpir")
                )
            )
        )
    with pytest.raises(ValueError, match="at most"):
        drain(
            comparing.compare(
                comparing.CompareRequest(image=str(DIGIT), samplers=tuple(mgps.SAMPLERS.names()))
            )
        )


# ---------------------------------------------------------------------------- trade-off tab
# tests/test_app_tradeoff.py
