"""The ECG tab: its handler called as a plain function on the shipped ``ecg`` prior (few steps,
two samples), the demo built with the tab, and the clear errors (incompatible sampler, no
trained prior)."""

from __future__ import annotations

import math
import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import numpy as np  # noqa: E402
import plotly.graph_objects as go  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

import mgps  # noqa: E402
from app import ecg_runs  # noqa: E402
from mgps.ecg.tasks import window_metrics  # noqa: E402

needs_prior = pytest.mark.skipif(
    ecg_runs.availability() is not None, reason=str(ecg_runs.availability())
)

FAST = {  # a few cheap steps per sampler (the tab's defaults are the paper's counts)
    "ddnm": {},
    "mgps": {"num_gradient_steps": 1, "num_gradient_steps_initial": 1, "warm_start": False},
}


def _run(task: str, sampler: str, steps: int = 4, n: int = 2) -> list[ecg_runs.EcgFrame]:
    request = ecg_runs.EcgRequest(
        window=5,
        task=task,
        sampler=sampler,
        num_steps=steps,
        num_samples=n,
        seed=3,
        params=FAST[sampler],
    )
    return list(ecg_runs.reconstruct(request))


@needs_prior
@pytest.mark.parametrize(
    ("task", "sampler"), [("missing_leads", "mgps"), ("missing_block", "ddnm")]
)
def test_reconstruct_streams_then_ends_with_finite_metrics(task, sampler):
    frames = _run(task, sampler)
    # the first figure, one frame per step (so Stop acts within a step), the final one
    assert [f.step for f in frames] == [0, 1, 2, 3, 4, 4]
    first, last = frames[0], frames[-1]
    assert first.figure is not None and not first.final
    assert any(f.figure is not None for f in frames[1:-1])  # the current x̂0 is streamed
    assert last.final and last.metrics is not None
    m = last.metrics
    for key in ("mae", "rmse", "mae_mean", "rmse_mean", "mae12", "rmse12", "seconds"):
        assert math.isfinite(m[key]), key
    assert m["mae"] > 0 and m["num_samples"] == 2 and m["task"] == task
    assert len(last.table) == 3 and all(len(r) == len(ecg_runs.TABLE_COLUMNS) for r in last.table)
    # the final figure: 12 subplots, truth + 2 samples on each, the observation marked
    fig = last.figure
    assert isinstance(fig, go.Figure)
    names = [t.name for t in fig.data]
    assert names.count("true signal") == 12
    assert names.count("sample 1") == names.count("sample 2") == 12
    assert "observed y" in names
    go.Figure(frames[1].figure.to_dict())  # the unvalidated streamed frames are valid plotly
    shaded = [s for s in fig.layout.shapes if s.type == "rect"]
    assert bool(shaded) == (task == "missing_block")  # the observed half is shaded


def test_12_lead_errors_match_the_benchmark_for_missing_leads():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(9, 32, generator=g, dtype=torch.float64)
    samples = x + 0.1 * torch.randn(3, 9, 32, generator=g, dtype=torch.float64)
    op = mgps.OPERATORS["ecg_missing_leads"].obj((9, 32))
    ours = ecg_runs._errors(samples, x, op.missing_mask())
    ref = window_metrics(samples, x, op.missing_mask(), "missing_leads")
    for key in ("mae", "rmse", "mae_mean", "mae12", "rmse12"):
        assert ours[key] == pytest.approx(ref[key]), key
    # missing block: the block of all 12 leads, nothing else
    block = mgps.OPERATORS["ecg_missing_block"].obj((9, 32)).missing_mask()
    m12 = ecg_runs._missing_12(block)
    assert m12.shape == (12, 32) and m12[:, 16:].all() and not m12[:, :16].any()


@needs_prior
def test_incompatible_sampler_or_bad_input_is_a_clear_value_error():
    with pytest.raises(ValueError, match="PSLD cannot run .*ECG.*latent"):
        next(ecg_runs.reconstruct(ecg_runs.EcgRequest(sampler="psld")))
    with pytest.raises(ValueError, match="unknown sampler 'nope'.*mgps"):
        next(ecg_runs.reconstruct(ecg_runs.EcgRequest(sampler="nope")))
    with pytest.raises(ValueError, match="unknown ECG task"):
        next(ecg_runs.reconstruct(ecg_runs.EcgRequest(task="missing_everything")))
    with pytest.raises(ValueError, match="number of samples must be between 1 and 10"):
        next(ecg_runs.reconstruct(ecg_runs.EcgRequest(num_samples=11)))
    with pytest.raises(ValueError, match="test window must be between 0 and"):
        next(ecg_runs.reconstruct(ecg_runs.EcgRequest(window=10**6)))
    # the UI turns it into a gr.Error with the library's message
    import gradio as gr

    from app.widgets import guard

    with pytest.raises(gr.Error, match="PSLD cannot run"):
        list(guard(ecg_runs.reconstruct(ecg_runs.EcgRequest(sampler="psld"))))
    # only pixel samplers that can run the masks are offered, with the paper's steps
    offered = [name for _, name in ecg_runs.ecg_samplers("missing_leads")]
    assert offered[0] == "mgps" and {"psld", "resample"}.isdisjoint(offered)
    assert set(offered) == {n for n in mgps.SAMPLERS.names(with_tag="pixel")}
    assert ecg_runs.default_steps("mgps") == 50 and ecg_runs.default_steps("diffpir") == 500


@needs_prior
def test_demo_builds_with_the_ecg_tab(app_main):
    demo = app_main.demo
    api = demo.get_api_info()["named_endpoints"]
    assert "/ecg" in api
    params = [p["parameter_name"] for p in api["/ecg"]["parameters"]]
    assert params == ["window", "task", "sampler", "num_steps", "num_samples", "seed"]
    fig, info = ecg_runs.preview(0, "missing_block", 0)
    assert "test window 0" in info and len(fig.data) > 12
    assert 0 <= ecg_runs.random_window() < ecg_runs.num_test_windows()


def test_without_a_trained_prior_the_tab_explains_instead_of_crashing(monkeypatch, app_main):
    monkeypatch.setattr(mgps.PRIORS["ecg"].obj, "available", lambda: False)
    why = ecg_runs.availability()
    assert why is not None and "not trained yet" in why and "ecg_train.py" in why
    with pytest.raises(ValueError, match="not trained yet"):
        next(ecg_runs.reconstruct(ecg_runs.EcgRequest()))
    demo = app_main.build_demo()  # constructs; the tab shows the explanation and no Run button
    assert "/ecg" not in demo.get_api_info()["named_endpoints"]
    texts = [
        getattr(b, "value", "")
        for b in demo.blocks.values()
        if getattr(b, "elem_id", None) == "ecg-unavailable"
    ]
    assert texts and "not trained yet" in texts[0]


def test_figure_marks_the_observed_lead_i():
    x = np.random.default_rng(0).normal(size=(9, 64)) * 0.2
    observed = np.full_like(x, np.nan)
    observed[0] = x[0]
    fig = ecg_runs.ecg_figure(ecg_runs.ecg_base(x, observed), x[None] + 0.01, title="t")
    obs = [t for t in fig.data if t.name == "observed y"]
    assert len(obs) == 1 and obs[0].line.width > 2  # only lead I is determined by y
    assert not [s for s in fig.layout.shapes if s.type == "rect"]
