"""Compare's budget (mgps.budget): VJPs counted apart from forward calls, counts on a stand-in
prior equal to a real run's, the steps each sampler gets under a budget, and the verdict
(mgps.verdict): a winner named only where the intervals separate, over-fitting flagged."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from mgps import budget
from mgps.metrics import energy_terms
from mgps.pipeline import CountingPrior, prepare, restore
from mgps.verdict import overfit_threshold, overfits, rank, verdict

ROOT = Path(__file__).resolve().parents[1]
DIGIT = ROOT / "assets" / "examples" / "digit_3_1.png"


@pytest.fixture(scope="module")
def half_mask():
    return prepare("digits", str(DIGIT), "half", sigma_y=0.05, seed=0)


def test_counting_prior_counts_vjps_apart_from_forward_calls():
    prior = CountingPrior(budget._StandIn(_Schedule()))
    x = torch.randn(2, 1, 4, 4, requires_grad=True)
    with torch.no_grad():
        prior.x0_pred(x, 10)  # a forward call
    out = prior.x0_pred(x, 10)  # forward with autograd, not back-propagated
    torch.autograd.grad(prior.x0_pred(x, 5).sum(), x)  # one VJP
    assert out.requires_grad
    assert (prior.network_calls, prior.vjps) == (3, 1)


class _Schedule:
    alphas_cumprod = torch.linspace(1.0, 0.01, 101, dtype=torch.float64)
    shape = (1, 4, 4)


@pytest.mark.parametrize("sampler", ["mgps", "dps", "daps"])
def test_counts_on_the_stand_in_equal_a_real_runs(half_mask, sampler):
    real = restore(half_mask, sampler, num_samples=2, params={"num_steps": 4})
    counted = budget.count_calls(sampler, half_mask.prior, half_mask.problem, 4, operator="half")
    assert (counted.forward_calls, counted.vjps) == (
        real.metrics["network_calls"],
        real.metrics["vjps"],
    )
    # DPS differentiates through every guided step, DAPS (a linear operator) through none
    assert {"dps": counted.vjps == 3, "daps": counted.vjps == 0}.get(sampler, counted.vjps > 0)


def test_the_vjp_price_is_measured_and_remembered(half_mask):
    price = budget.vjp_price(half_mask.prior, key="digits-test", num_samples=1)
    assert 1.0 <= price < 20.0
    assert budget.vjp_price(half_mask.prior, key="digits-test", num_samples=1) == price


def test_steps_for_budget_on_synthetic_costs():
    def affine(k: int) -> budget.Cost:  # 3 forward calls and 2 VJPs a step, 40 at the start
        return budget.Cost(40 + 3 * k, 2 * k)

    for target in (100.0, 777.0, 5000.0):
        k, cost = steps_for_budget_checked(target, affine, price=2.5)
        assert abs(cost.units(2.5) - target) <= 5.0 / 2 + 1e-9  # within half a step
    # a budget under the cheapest run: the fewest steps; over the dearest: the most
    assert budget.steps_for_budget(1.0, affine, 2.0)[0] == 2
    assert budget.steps_for_budget(1e9, affine, 2.0, high=300)[0] == 300
    with pytest.raises(ValueError, match="positive"):
        budget.steps_for_budget(0.0, affine, 2.0)


def steps_for_budget_checked(target, cost_at, price):
    calls = []

    def counted(k):
        calls.append(k)
        return cost_at(k)

    k, cost = budget.steps_for_budget(target, counted, price)
    assert cost == cost_at(k) and len(calls) <= 12  # a handful of counting runs
    return k, cost


def test_equal_cost_gives_each_sampler_steps_within_ten_percent_of_the_budget(half_mask):
    price = 2.0
    plan, target = budget.plan(
        ["mgps", "dps", "daps", "ddnm"],
        half_mask.prior,
        half_mask.problem,
        "half",
        budget="cost",
        num_steps=20,
        price=price,
    )
    mgps_cost = budget.count_calls("mgps", half_mask.prior, half_mask.problem, 20, operator="half")
    assert target == mgps_cost.units(price) and plan["mgps"][0] == 20
    for name, (steps, cost) in plan.items():
        assert abs(cost.units(price) - target) <= 0.1 * target, (name, steps, cost)
    assert plan["dps"][0] > 20 and plan["ddnm"][0] > plan["dps"][0]  # cheaper steps, more of them
    same, none = budget.plan(
        ["mgps", "dps"], half_mask.prior, half_mask.problem, "half", budget="steps", num_steps=7
    )
    assert none is None and [k for k, _ in same.values()] == [7, 7]
    own, _ = budget.plan(
        ["mgps", "dps"],
        half_mask.prior,
        half_mask.problem,
        "half",
        budget="defaults",
        default_steps={"mgps": 5, "dps": 9},
    )
    assert [k for k, _ in own.values()] == [5, 9]
    with pytest.raises(ValueError, match="budget must be one of"):
        budget.plan(["mgps"], half_mask.prior, half_mask.problem, "half", budget="time")


# ---------------------------------------------------------------------------- the verdict
def test_the_verdict_names_a_winner_only_where_the_intervals_separate():
    separated = rank(
        "PSNR",
        "dB",
        {
            "DPS": [15.0, 15.2, 14.9, 15.1],
            "MGPS": [18.0, 18.3, 17.9, 18.1],
            "DAPS": [12, 12.2, 11.9, 12],
        },
    )
    assert separated.order == ["MGPS", "DPS", "DAPS"]
    assert separated.winner == "MGPS" and separated.top_group == ["MGPS"]
    assert "**MGPS** is best" in separated.sentence()
    overlapping = rank(
        "PSNR",
        "dB",
        {
            "MGPS": [18.0, 16.0, 19.0, 17.0],
            "DPS": [17.5, 15.5, 18.0, 16.0],
            "DAPS": [10.0, 10.5, 9.5, 10.2],
        },
    )
    assert overlapping.order[0] == "MGPS"  # the best mean ...
    assert overlapping.winner is None  # ... but not a winner: its interval overlaps DPS's
    assert overlapping.top_group == ["MGPS", "DPS"]
    text = overlapping.sentence()
    assert "cannot be told apart" in text and "behind them: DAPS" in text and "is best" not in text
    # lower is better (a distance); one value each gives no interval, hence no winner
    distance = rank(
        "distance", "", {"A": [0.1, 0.11, 0.09], "B": [0.5, 0.52, 0.49]}, higher_is_better=False
    )
    assert distance.winner == "A"
    assert rank("PSNR", "dB", {"A": [20.0], "B": [10.0]}).winner is None


def test_a_data_fit_under_the_noise_level_is_flagged_as_over_fitting():
    sigma, m = 0.05, 392  # the half mask on 28×28: noise level σ√m ≈ 0.99
    threshold = overfit_threshold(sigma, m)
    assert 0.9 * sigma * math.sqrt(m) < threshold < sigma * math.sqrt(m)
    assert overfits([0.59, 0.60, 0.58, 0.59], sigma, m)  # DAPS's fit on the digits
    assert not overfits([1.0, 0.98, 1.02, 1.01], sigma, m)  # at the noise level
    assert not overfits([2.3, 2.4, 2.2, 2.5], sigma, m)  # above it
    text = verdict(
        [rank("PSNR", "dB", {"MGPS": [18, 18.5, 17.5, 18.2], "DAPS": [17, 17.5, 16.5, 17.2]})],
        fits={"MGPS": [1.0, 1.05, 0.99, 1.02], "DAPS": [0.59, 0.6, 0.58, 0.59]},
        sigma_y=sigma,
        num_observed=m,
    )
    assert "Over-fitting" in text and "DAPS" in text.split("Over-fitting")[1]
    assert "MGPS" not in text.split("Over-fitting")[1].split("fits y")[0]
    assert "Over-fitting" not in verdict(
        [], fits={"MGPS": [1.0, 1.05, 0.99]}, sigma_y=sigma, num_observed=m
    )


def test_energy_terms_are_zero_on_average_for_exact_samples_and_positive_otherwise():
    rng = np.random.default_rng(0)
    reference = rng.standard_normal((300, 20))
    exact = np.mean(
        [energy_terms(rng.standard_normal((4, 20)), reference).mean() for _ in range(100)]
    )
    narrow = np.mean(
        [energy_terms(0.3 * rng.standard_normal((4, 20)), reference).mean() for _ in range(100)]
    )
    shifted = np.mean(
        [energy_terms(rng.standard_normal((4, 20)) + 1, reference).mean() for _ in range(100)]
    )
    assert abs(exact) < 0.02 and narrow > 0.1 and shifted > 0.1
    with pytest.raises(ValueError, match="at least 2"):
        energy_terms(reference[:1], reference)


@pytest.mark.parametrize("sampler", ["mgps", "psld", "resample"])
def test_counts_on_a_latent_prior_go_through_a_stand_in_decoder(tiny_latent_prior, sampler):
    import mgps

    x = torch.zeros(1, *tiny_latent_prior.image_shape)
    op = mgps.OPERATORS["sr4"].obj(tuple(tiny_latent_prior.image_shape))
    problem = mgps.measure(x, op, 0.05, torch.Generator().manual_seed(0))
    counting = CountingPrior(tiny_latent_prior)
    for _ in mgps.run(
        sampler,
        counting,
        problem,
        num_steps=4,
        num_samples=1,
        generator=torch.Generator().manual_seed(0),
    ):
        pass
    counted = budget.count_calls(sampler, tiny_latent_prior, problem, 4)
    assert (counted.forward_calls, counted.vjps) == (counting.network_calls, counting.vjps)
