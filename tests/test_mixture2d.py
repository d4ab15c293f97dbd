"""The 2-D teaching problem behind the app's midpoint trade-off tab."""

import math

import torch

from mgps.mixture2d import run_toy, toy_problem


def test_toy_problem_and_snapshots():
    toy = toy_problem(seed=0)
    assert toy.prior.shape == (2,) and math.isclose(float(toy.posterior.weights.sum()), 1.0)
    run = run_toy(toy, "mgps", num_samples=200, num_steps=30, snapshots=10)
    assert run.samples.shape == (200, 2) and math.isfinite(run.sw)
    assert 10 <= len(run.snapshot_times) <= 32 and run.snapshot_times[-1] == 0
    # the start (x_T, pure noise), the intermediate states with their midpoints, the end
    assert run.snapshot_times[0] == 1000 and run.midpoint_times[0] is None
    assert float(run.x_t[0].std()) > 0.8 and run.midpoints[0] is None
    assert run.midpoints[-1] is None and (run.x_t[-1] == run.samples).all()
    inner = run.midpoint_times[1:-1]
    assert len(run.midpoints) == len(run.midpoint_times) == len(run.x_t) and len(inner) >= 9
    assert all(t is not None and 0 < t for t in inner)


def test_midpoint_trade_off_is_visible_on_the_toy():
    """What the tab teaches: on this instance η = 0.5 is closer to the exact posterior than η = 1
    (DPS-like) and than η = 0.1 (long Gaussian transitions)."""
    toy = toy_problem(seed=0)
    sw = {
        eta: run_toy(toy, "mgps", num_samples=500, num_steps=100, midpoint=eta).sw
        for eta in (0.1, 0.5, 1.0)
    }
    assert sw[0.5] < 0.8 * sw[1.0] and sw[0.5] < 0.8 * sw[0.1], sw


def test_toy_runs_every_pixel_sampler():
    toy = toy_problem(seed=1)
    for name in ("dps", "pgdm", "ddnm", "diffpir", "reddiff"):
        run = run_toy(toy, name, num_samples=50, num_steps=20)
        assert torch.isfinite(run.samples).all()
