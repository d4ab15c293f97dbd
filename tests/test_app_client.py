"""The launched app driven through gradio_client (offline, loopback): a restore job streams
and finishes, a cancelled job stops, eight jobs submitted at once each get their own result
(checked against direct library runs with the same seed), bad uploads get a clear error."""

from __future__ import annotations

import os
import time
import zipfile
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "assets" / "examples").glob("digit_*.png"))


@pytest.fixture(scope="module")
def served(app_main):
    """The app launched on a free loopback port, and a client connected to it."""
    from gradio_client import Client

    demo = app_main.build_demo()
    _, url, _ = demo.launch(
        prevent_thread_lock=True, quiet=True, server_name="127.0.0.1", **app_main.launch_kwargs()
    )
    client = Client(url, verbose=False)
    try:
        yield client
    finally:
        client.close()
        demo.close()


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A stroke layer (RGBA, opaque where drawn) and a file that is not an image."""
    root = tmp_path_factory.mktemp("inputs")
    layer = np.zeros((28, 28, 4), np.uint8)
    layer[9:17, 4:22] = (255, 45, 85, 255)
    Image.fromarray(layer).save(root / "stroke.png")
    (root / "notes.png").write_text("this is not an image")
    return root


def editor(background: Path, layers: list[Path] = ()) -> dict:
    from gradio_client import handle_file

    return {
        "background": handle_file(str(background)),
        "layers": [handle_file(str(p)) for p in layers],
        "composite": None,
    }


def wait(job, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not job.done():
        if time.monotonic() > deadline:
            raise AssertionError(f"job not done after {timeout} s: {job.status()}")
        time.sleep(0.05)


def is_update(value) -> bool:
    """A 'no change' output (gr.skip())."""
    return isinstance(value, dict) and value.get("__type__") == "update"


def items(gallery) -> list:
    """The images of a gallery output (a list, or an update with a value and a height)."""
    return gallery["value"] if isinstance(gallery, dict) else gallery


def read(path) -> np.ndarray:
    return np.asarray(Image.open(path))


def test_restore_job_streams_and_finishes(served, files):
    job = served.submit(
        editor(EXAMPLES[0], [files / "stroke.png"]),
        api_name="/restore",
        sampler="mgps",
        num_samples=2,
        seed=1,
        mgps__num_steps=4,
        mgps__num_gradient_steps_initial=2,
    )
    wait(job)
    outs = job.outputs()
    status, observation, x0, midpoint, _x_t, restoration, gallery, table, metrics = outs[-1][:9]
    slider, download = outs[-1][9:]  # the before/after pair and the run's zip
    assert len(outs) >= 4, "expected the observation, streamed steps and the result"
    streamed = [o[2] for o in outs[1:-1] if isinstance(o[2], str)]
    assert len(streamed) >= 2  # x̂0 frames
    assert read(streamed[0]).shape == (224, 224)
    assert isinstance(outs[0][1], str) and read(outs[0][1]).shape == (224, 224)  # observation first
    assert isinstance(outs[0][2], str) and "before guidance" in outs[0][0]  # the prior's x̂0
    assert "done" in status
    assert read(restoration).shape == (224, 224)
    assert len(items(gallery)) == 4  # 2 samples, mean, std
    assert "PSNR" in table
    assert metrics["sampler"] == "mgps" and len(metrics["psnr"]) == 2 and metrics["seed"] == 1
    assert len(slider) == 2 and read(slider[0]).shape[:2] == read(slider[1]).shape[:2]
    path = download["value"] if isinstance(download, dict) else download
    with zipfile.ZipFile(path) as zf:
        assert {"metrics.json", "best.png", "observation.png"} <= {
            Path(n).name for n in zf.namelist()
        }


def test_cancelled_job_stops(served, files):
    job = served.submit(
        editor(EXAMPLES[1], [files / "stroke.png"]),
        api_name="/restore",
        sampler="mgps",
        num_samples=1,
        mgps__num_steps=400,
    )
    deadline = time.monotonic() + 60
    while len(job.outputs()) < 3:
        assert time.monotonic() < deadline, "the job did not start streaming"
        time.sleep(0.05)
    job.cancel()
    t0 = time.monotonic()
    wait(job, timeout=30)
    n = len(job.outputs())
    last = job.outputs()[-1][0]
    assert "step" in last and "/400" in last
    assert int(last.split("step ")[1].split("/")[0]) < 100  # far from the end
    time.sleep(1.0)
    assert len(job.outputs()) == n  # nothing more streamed after the cancel
    # the device is free again: a short job runs at once
    quick = served.submit(
        editor(EXAMPLES[2]),
        api_name="/restore",
        operator="box",
        sampler="ddnm",
        num_samples=1,
        ddnm__num_steps=2,
    )
    wait(quick, timeout=30)
    assert time.monotonic() - t0 < 30
    assert "done" in quick.outputs()[-1][0]


def test_eight_jobs_at_once_each_get_their_own_result(served):
    from app.convert import display
    from app.device import DEVICE
    from mgps.pipeline import prepare, restore

    jobs = []
    for k in range(8):
        image = EXAMPLES[k % len(EXAMPLES)]
        jobs.append(
            (
                k,
                image,
                served.submit(
                    editor(image),
                    api_name="/restore",
                    operator="box",
                    sampler="ddnm",
                    num_samples=1,
                    seed=100 + k,
                    ddnm__num_steps=3,
                ),
            )
        )
    results = {}
    for k, image, job in jobs:
        wait(job, timeout=180)
        outs = job.outputs()
        assert outs and "done" in outs[-1][0], f"job {k}: {outs[-1][0] if outs else 'no output'}"
        results[k] = (image, outs[-1])
    expected = {}
    for k, (image, out) in results.items():
        setup = prepare("digits", image, "box", sigma_y=0.05, seed=100 + k, device=DEVICE)
        result = restore(setup, "ddnm", num_samples=1, params={"num_steps": 3}, seed=100 + k)
        expected[k] = display(result.samples[:1])
        got = read(out[5])
        metrics = out[8]
        assert metrics["seed"] == 100 + k
        assert abs(metrics["psnr"][0] - result.metrics["psnr"][0]) < 1e-3, k
        assert np.abs(got.astype(int) - expected[k].astype(int)).max() <= 1, k
    # and the eight results are different from each other (nothing crossed or shared)
    for a in range(8):
        for b in range(a + 1, 8):
            assert not np.array_equal(expected[a], expected[b])


def test_bad_inputs_get_clear_errors(served, files):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="not an image"):
        served.predict(editor(files / "notes.png"), api_name="/restore", operator="box")
    with pytest.raises(AppError, match="draw over"):
        served.predict(editor(EXAMPLES[0]), api_name="/restore", operator="mask")
    with pytest.raises(AppError, match="nonlinear"):
        served.predict(editor(EXAMPLES[0]), api_name="/restore", operator="jpeg", sampler="ddnm")


def test_compare_endpoint_streams_a_plot_and_a_table(served):
    job = served.submit(
        editor(EXAMPLES[3]),
        api_name="/compare",
        samplers=["ddnm", "dps"],
        operator="half",
        num_steps=3,
        num_samples=1,
    )
    wait(job)
    outs = job.outputs()
    status, _observation, live, plot, table, summary, verdict = outs[-1]
    assert status.startswith("Compare: done in ")
    assert len(live) == 2 and len(items(summary)) == 2  # means (N = 1)
    assert "Equal cost" in verdict and "no interval" in verdict  # one sample: no verdict
    assert plot["type"] == "plotly"
    assert [row[1] for row in table["data"]] == ["done", "done"]
