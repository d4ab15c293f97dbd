"""The Midpoint trade-off tab (app/tradeoff_*.py, app/tabs/tradeoff.py): one run's
pictures and its animation's snapshots (the start and the end labelled as drawn), the SW chart
from the committed sweep with words that follow its data, the decomposition chart, and two
visitors (two gradio_client sessions) that do not see each other's runs."""

from __future__ import annotations

import json
import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from app import tradeoff_charts, tradeoff_runs, tradeoff_scatter, tradeoff_text  # noqa: E402
from mgps.mixture2d import EtaSweep, TeachingSettings, eta_verdict  # noqa: E402

FAST = TeachingSettings(num_steps=20)


def _svg_only(fig) -> bool:
    return all(t.type == "scatter" for t in fig.data)


def test_view_and_animation_frames_are_labelled_as_drawn():
    run = tradeoff_runs.tradeoff_run("mgps", eta=0.5, settings=FAST)
    assert np.isfinite(run.sw) and "Wasserstein" in tradeoff_text.run_summary(run)
    snap = run.snapshots
    scatter = tradeoff_scatter.scatter_figure(run)
    names = [t.name for t in scatter.data]
    assert "exact posterior" in names and "prior" in names and "⟨a, x⟩ = y" in names
    first, last = (tradeoff_scatter.animation_figure(snap, k) for k in (0, len(snap) - 1))
    # the start: x_T is pure noise (drawn), no midpoint yet; the end: the samples, drawn
    assert "the start" in first.layout.title.text and "pure noise" in first.layout.title.text
    assert snap.times[0] == 1000 and np.std(first.data[3].x) > 0.8
    assert len(first.data[4].x) == 0  # no midpoint at the start
    assert "the end, t = 0: the samples" in last.layout.title.text
    np.testing.assert_allclose(last.data[3].x, np.round(snap.x_t[-1][:, 0], 3))
    middle = tradeoff_scatter.animation_figure(snap, 3)
    assert "midpoint ℓ = " in middle.layout.title.text and len(middle.data[4].x) > 0
    assert not np.array_equal(first.data[3].x, last.data[3].x)
    assert first.layout.xaxis.range == last.layout.xaxis.range
    x_lo, x_hi = first.layout.xaxis.range
    prior_x = snap.prior[:, 0]
    assert x_lo <= prior_x.min() and x_hi >= prior_x.max()
    assert x_hi - x_lo < 1.3 * (prior_x.max() - prior_x.min())  # fitted, not a wide margin
    assert first.layout.xaxis.constrain == "domain"  # equal scales shrink the plot, not the data
    dps = tradeoff_runs.tradeoff_run("dps", settings=FAST).snapshots
    assert (
        not dps.mgps and len(tradeoff_scatter.animation_figure(dps, 2).data) == 5
    )  # no midpoint trace
    for fig in (scatter, first, tradeoff_charts.decomposition_figure(0.5)):
        assert _svg_only(fig)  # no WebGL traces: they would eat the editors' contexts
    with pytest.raises(ValueError, match="η must lie"):
        tradeoff_runs.tradeoff_run("mgps", eta=1.5)
    with pytest.raises(ValueError, match="between modes"):
        tradeoff_runs.settings_of(0.5, 100, 40)


def _sweep(sw, etas=(0.0, 0.5, 1.0)) -> EtaSweep:
    sw = np.asarray(sw, dtype=float)
    return EtaSweep(FAST, list(etas), list(range(sw.shape[1])), 1, sw, "mgps tradeoff sweep …")


def test_sw_words_name_a_best_eta_only_where_the_intervals_separate_it():
    base = np.arange(6.0)
    clear = _sweep([base + 3, base + 1, base + 2 + 0.1 * base])
    words = tradeoff_charts.sw_words(clear)
    assert "η = 0.5" in words and "measurably best" in words and "Clearly worse" in words
    noisy = _sweep([base + 1.2, base + 1 + 0.5 * (-1) ** base, base + 2])
    words = tradeoff_charts.sw_words(noisy)
    assert "measurably best" not in words and "do **not** separate" in words
    assert "Not distinguishable from it with 6 problems: η = 0" in words
    end = tradeoff_charts.sw_words(_sweep([base + 1, base + 2, base + 3]))
    assert "an end of the range" in end and "measurably" not in end
    other = tradeoff_charts.sw_words(clear, TeachingSettings(num_steps=50))
    assert "not the sweep's" in other
    # the chart: each problem, the mean with its interval, the visitor's runs with its settings
    runs = [
        tradeoff_charts.YourRun(0.3, 0, FAST, 2.0),
        tradeoff_charts.YourRun(0.6, 1, TeachingSettings(), 9.0),  # other settings: not drawn
    ]
    fig = tradeoff_charts.sw_figure(clear, 0.3, runs)
    mean, yours = fig.data[-2], fig.data[-1]
    assert list(mean.x) == [0.0, 0.5, 1.0] and mean.y[1] == pytest.approx(3.5)
    assert mean.error_y.array[1] > 0 and list(yours.x) == [0.3] and _svg_only(fig)


def test_sweep_loader_reads_the_committed_sweep_and_explains_a_missing_one(tmp_path):
    assert "missing" in tradeoff_charts.load_sweep(tmp_path / "none.json")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**_sweep([[1.0, 2.0]] * 3).to_json(), "sw": [[1.0]]}))
    assert "cannot be read" in tradeoff_charts.load_sweep(bad)
    assert (
        "no sweep" in tradeoff_charts.sw_figure(tradeoff_charts.load_sweep(bad)).layout.title.text
    )
    sweep = tradeoff_charts.load_sweep()
    assert isinstance(sweep, EtaSweep), sweep
    assert len(sweep.problems) >= 10 and len(sweep.etas) >= 5 and "mgps tradeoff" in sweep.command
    assert tradeoff_charts.sweep_settings() == sweep.settings
    v = eta_verdict(sweep)
    words = tradeoff_charts.sw_words(sweep)
    assert f"lowest mean SW is at η = {v.best:g}" in words
    assert ("measurably best" in words) == v.in_between


def test_decomposition_chart_and_words():
    fig = tradeoff_charts.decomposition_figure(0.4)
    names = [t.name for t in fig.data]
    assert len(names) == 4 and any("likelihood" in n for n in names)
    assert any("transition" in n for n in names) and any("surrogate" in n for n in names)
    words = tradeoff_charts.decomposition_words()
    assert "cross at η ≈" in words and "a U" in words and "reproduces" in words


@pytest.fixture
def served(app_main, tmp_path, monkeypatch):
    """The app launched with a small sweep of 20-step runs (fast), and a client factory."""
    from gradio_client import Client

    sweep = _sweep(np.arange(9.0).reshape(3, 3) + 1)
    path = tmp_path / "teaching.json"
    path.write_text(json.dumps(sweep.to_json()))
    monkeypatch.setattr(tradeoff_charts, "SWEEP_PATH", path)
    demo = app_main.build_demo()
    _, url, _ = demo.launch(
        prevent_thread_lock=True, quiet=True, server_name="127.0.0.1", **app_main.launch_kwargs()
    )
    clients: list = []

    def client():
        clients.append(Client(url, verbose=False))
        return clients[-1]

    try:
        yield client
    finally:
        for c in clients:
            c.close()
        demo.close()


def _your_runs(out) -> tuple[list, list]:
    fig = json.loads(out[4]["plot"])
    (yours,) = [t for t in fig["data"] if t["name"].startswith("your runs")]
    return list(yours["x"]), list(yours["y"])


def test_two_visitors_do_not_see_each_others_runs(served):
    """Visitor A runs η = 0.2 then 0.8, visitor B η = 0.5 in between: each sees only its own
    runs on the SW chart, over the same committed sweep; A's second run keeps A's first."""
    a, b = served(), served()
    settings = ("mgps", 0, FAST.sigma_y, FAST.num_steps, FAST.spacing)

    def run(client, eta):
        sampler, seed, *rest = settings
        return client.predict(sampler, eta, seed, *rest, api_name="/tradeoff")

    a1 = run(a, 0.2)
    b1 = run(b, 0.5)
    a2 = run(a, 0.8)
    assert _your_runs(a1)[0] == [0.2] and _your_runs(b1)[0] == [0.5]
    assert _your_runs(a2)[0] == [0.2, 0.8]
    sw_a = float(a2[0].split("**")[3])  # the summary's SW, drawn as A's last run
    assert _your_runs(a2)[1][-1] == pytest.approx(sw_a, abs=0.006)
    strip = lambda out: [t for t in json.loads(out[4]["plot"])["data"] if "your" not in t["name"]]  # noqa: E731
    assert strip(a2) == strip(b1)  # the sweep itself: the same for everybody
    assert "η = 0.8" in a2[0] and "η = 0.5" in b1[0]
