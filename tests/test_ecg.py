"""ECG modality: lead helpers, data file, operators, the EcgPrior, samplers and the benchmark."""

from __future__ import annotations

import argparse
import json
import math

import numpy as np
import pytest
import torch

import mgps
import mgps.ecg  # noqa: F401  (registers the ECG prior and operators)
from mgps.ecg.data import DATA_PATH, load_ecg_data, record_segments
from mgps.ecg.leads import (
    LEADS_9,
    LEADS_12,
    augmented_leads,
    einthoven_residual,
    twelve_leads,
    with_einthoven,
)
from mgps.ecg.model import UNet1d, UNet1dConfig
from mgps.ecg.operators import block_bounds, missing_block, missing_leads
from mgps.ecg.prior import ECG_PRIOR_DIR, EcgPrior
from mgps.operators import has_svd, measure
from mgps.paper.ecg import PAPER_STEPS, select_windows, table, window_metrics
from mgps.priors.loading import PriorUnavailableError
from mgps.samplers.common import operator_supports
from mgps.schedules import x0_from_eps

f64 = torch.float64
L = 64  # short windows keep the tests fast


def tiny_prior(length: int = L, seed: int = 0, prediction: str = "v_prediction") -> EcgPrior:
    """A random 1-D UNet prior on (9, length) with non-trivial (non-zero) output layers."""
    torch.manual_seed(seed)
    net = UNet1d(UNet1dConfig(channels=(8, 16), length=length, groups=4, heads=2))
    with torch.no_grad():
        for p in net.parameters():
            if p.abs().sum() == 0:  # zero-initialised output convs: make the net non-trivial
                p.normal_(0, 0.05)
    return EcgPrior(net, {"prediction_type": prediction}, info={"training": {"step": 0}})


# ----------------------------------------------------------------------------- leads
@pytest.mark.parametrize("kind", ["torch", "numpy"])
def test_twelve_leads_obey_einthoven_and_goldberger(kind, rng):
    x9 = with_einthoven(torch.randn(3, 9, 50, generator=rng, dtype=f64))
    if kind == "numpy":
        x9 = x9.numpy()
    x12 = twelve_leads(x9)
    assert type(x12) is type(x9) and tuple(x12.shape) == (3, 12, 50)
    lead = {name: x12[:, i] for i, name in enumerate(LEADS_12)}
    close = np.testing.assert_allclose
    close(lead["III"], lead["II"] - lead["I"], atol=1e-12)  # Einthoven
    close(lead["aVR"] + lead["aVL"] + lead["aVF"], 0 * lead["I"], atol=1e-12)  # Goldberger
    close(lead["aVR"], -(lead["I"] + lead["II"]) / 2, atol=1e-12)
    close(lead["aVL"], lead["I"] - lead["II"] / 2, atol=1e-12)
    close(lead["aVF"], lead["II"] - lead["I"] / 2, atol=1e-12)
    for i, name in enumerate(LEADS_9):
        close(lead[name], x9[:, i], atol=0)
    close(augmented_leads(x9), x12[:, 3:6], atol=0)
    close(einthoven_residual(x9), 0 * lead["I"], atol=1e-12)


def test_leads_reject_bad_shapes():
    with pytest.raises(ValueError, match=r"\(\.\.\., 9, L\)"):
        twelve_leads(torch.zeros(2, 12, 10))
    with pytest.raises(TypeError):
        augmented_leads([[0.0]])


@pytest.mark.skipif(not DATA_PATH.is_file(), reason="assets/ecg/ecg_windows.npz not generated")
def test_data_file():
    data = load_ecg_data()
    n = len(data.windows)
    assert data.windows.shape == (n, 9, 256) and data.sampling_rate == 100
    assert [str(s) for s in data.meta["leads"]] == list(LEADS_9)
    with np.load(DATA_PATH) as f:
        assert f["windows"].dtype == np.float16
    # limb leads obey III = II − I (up to float16 rounding)
    assert np.abs(einthoven_residual(data.windows)).max() < 3e-3
    # train/test split by record
    assert not set(data.record[data.is_test]) & set(data.record[~data.is_test])
    assert 0 < data.is_test.sum() < n
    segments = record_segments(data, "test")
    assert sum(s.shape[-1] for s in segments) == data.is_test.sum() * 256
    assert np.isfinite(data.windows).all() and 0.05 < data.windows.std() < 1.0


# ----------------------------------------------------------------------------- operators
@pytest.mark.parametrize("factory", [missing_leads, missing_block])
def test_operator_contracts(factory, rng):
    for shape in factory.test_shapes:
        op = factory(shape)
        assert op.linear and has_svd(op) and op.name.startswith("ecg_")
        x = torch.randn(3, *shape, generator=rng, dtype=f64)
        y = op.A(x)
        v = torch.randn_like(y)
        torch.testing.assert_close((y * v).sum(1), (x * op.A_adjoint(v)).flatten(1).sum(1))
        torch.testing.assert_close(op.A(op.A_pinv(y)), y)
        torch.testing.assert_close(op.V(op.V_adjoint(x)), x)
        s = op.singular_values()
        c = op.V_adjoint(x)
        torch.testing.assert_close(op.U(s.to(f64) * c[:, : s.numel()]), y)
        assert op.A_pinv(y).shape == x.shape
    entry = mgps.OPERATORS[factory.__name__.replace("missing", "ecg_missing")]
    assert {"linear", "svd", "ecg"} <= entry.tags
    assert factory.test_shape == (9, 64)
    assert entry.defaults() and factory((9, 256), **entry.defaults()).x_shape == (9, 256)


def test_missing_leads_observes_lead_one(rng):
    x = torch.randn(2, 9, L, generator=rng)
    op = missing_leads((9, L))
    torch.testing.assert_close(op.A(x), x[:, 0, :])
    assert op.missing_mask()[0].sum() == 0 and op.missing_mask()[1:].all()
    two = missing_leads((9, L), leads="I, v1")
    torch.testing.assert_close(two.A(x), x[:, [0, 3], :].flatten(1))
    with pytest.raises(ValueError, match="unknown lead"):
        missing_leads((9, L), leads="aVR")
    with pytest.raises(ValueError, match=r"\(9, L\)"):
        missing_leads((3, 16, 16))


def test_missing_block_positions(rng):
    x = torch.randn(1, 9, L, generator=rng)
    op = missing_block((9, L))
    assert op.missing_mask()[:, L // 2 :].all() and not op.missing_mask()[:, : L // 2].any()
    torch.testing.assert_close(op.A(x), x[:, :, : L // 2].flatten(1))
    assert block_bounds(256) == (128, 256) and block_bounds(256, block="first") == (0, 128)
    assert block_bounds(256, start=0.25) == (64, 192)
    assert block_bounds(256, block="random", seed=3) in ((0, 128), (128, 256))
    assert block_bounds(100, fraction=0.3, block="second") == (70, 100)
    with pytest.raises(ValueError, match="block must be"):
        missing_block((9, L), block="middle")
    with pytest.raises(ValueError, match="fraction"):
        missing_block((9, L), fraction=1.5)


# ----------------------------------------------------------------------------- prior
@pytest.mark.parametrize("prediction", ["v_prediction", "epsilon"])
def test_prior_round_trip_tweedie_and_gradients(prediction, tmp_path, rng):
    prior = tiny_prior(prediction=prediction)
    assert isinstance(prior, mgps.types.Prior)
    assert prior.shape == (9, L) and prior.alphas_cumprod.shape == (1001,)
    assert prior.alphas_cumprod[0] == 1 and prior.num_train_timesteps == 1000
    betas = torch.linspace(1e-4, 0.02, 1000, dtype=f64)
    torch.testing.assert_close(prior.alphas_cumprod[1:], torch.cumprod(1 - betas, 0))
    assert not any(p.requires_grad for p in prior.net.parameters())

    prior.save(tmp_path / "ecg")
    assert {p.name for p in (tmp_path / "ecg").iterdir()} == {"config.json", "model.safetensors"}
    loaded = EcgPrior.load(tmp_path / "ecg")
    assert json.loads((tmp_path / "ecg" / "config.json").read_text())["model"]["length"] == L
    x = torch.randn(2, 9, L, generator=rng)
    assert loaded.diffusion["prediction_type"] == prediction
    for t in (1, 500, 1000):
        a = float(prior.alphas_cumprod[t])
        out = prior.net(x, torch.full((2,), t - 1))  # padded time t -> network timestep t − 1
        if prediction == "epsilon":
            expected = x0_from_eps(x, out, a)
        else:  # v = √a ε − √(1−a) x0
            expected = math.sqrt(a) * x - math.sqrt(1 - a) * out
        torch.testing.assert_close(prior.x0_pred(x, t), expected)
        torch.testing.assert_close(loaded.x0_pred(x, t), expected)
        p64, x64 = prior.to(dtype=f64), x.to(f64)  # ε̂ → x̂0 divides by √a: check in float64
        torch.testing.assert_close(x0_from_eps(x64, p64.eps_pred(x64, t), a), p64.x0_pred(x64, t))

    xg = x.clone().requires_grad_(True)
    with torch.enable_grad():
        prior.x0_pred(xg, 300).pow(2).sum().backward()
    assert xg.grad is not None and torch.isfinite(xg.grad).all() and xg.grad.abs().sum() > 0
    assert prior.to(dtype=f64).x0_pred(x.to(f64), 10).dtype == f64
    with pytest.raises(ValueError, match="between 1 and 1000"):
        prior.x0_pred(x, 0)
    with pytest.raises(PriorUnavailableError, match="ecg_train.py"):
        EcgPrior.load(tmp_path / "nothing")


def test_prior_registered():
    entry = mgps.PRIORS["ecg"]
    assert {"embedded", "ecg", "pixel"} <= entry.tags
    assert entry.keyword_names() == [] or set(entry.keyword_names()) <= {"device", "dtype"}


@pytest.mark.skipif(
    not (ECG_PRIOR_DIR / "model.safetensors").is_file(), reason="ECG prior not exported yet"
)
def test_shipped_prior_loads():
    from mgps.priors import load_prior

    prior = load_prior("ecg")
    assert isinstance(prior, EcgPrior) and prior.shape == (9, 256)
    with torch.no_grad():
        assert torch.isfinite(prior.x0_pred(torch.randn(1, 9, 256), 500)).all()


# ----------------------------------------------------------------------------- samplers
PIXEL_SAMPLERS = mgps.SAMPLERS.names(with_tag="pixel")


@pytest.mark.parametrize("sampler", PIXEL_SAMPLERS)
@pytest.mark.parametrize("factory", [missing_leads, missing_block])
def test_samplers_run_on_ecg(sampler, factory):
    prior = tiny_prior()
    op = factory((9, L))
    if not operator_supports(mgps.SAMPLERS[sampler].tags, op):
        pytest.skip(f"{sampler} does not apply")
    g = torch.Generator().manual_seed(0)
    x_true = 0.3 * torch.randn(2, 9, L, generator=g)
    problem = measure(x_true, op, 0.05, g)  # y has a batch of 2: one observation per chain
    x = mgps.sample(sampler, prior, problem, num_steps=5, num_samples=2, generator=g)
    assert x.shape == (2, 9, L) and torch.isfinite(x).all()


# ----------------------------------------------------------------------------- benchmark
def _tiny_data(path, n_records: int = 4, windows: int = 2, length: int = L):
    g = np.random.default_rng(0)
    x = g.standard_normal((n_records * windows, 9, length)).astype(np.float32) * 0.3
    x[:, 2] = x[:, 1] - x[:, 0]
    record = np.repeat(np.arange(n_records), windows)
    np.savez_compressed(
        path,
        windows=x.astype(np.float16),
        record=record.astype(np.int32),
        position=np.tile(np.arange(windows), n_records).astype(np.int32),
        is_test=record >= n_records // 2,
        sampling_rate=np.int32(100),
        leads=np.asarray(LEADS_9),
    )
    return path


def test_window_metrics_and_selection():
    x = torch.zeros(9, 8)
    s = torch.ones(3, 9, 8)
    missing = missing_leads((9, 8)).missing_mask()
    m = window_metrics(s, x, missing, "missing_leads")
    assert m["mae"] == 1 and m["rmse"] == 1 and m["mae_mean"] == 1
    # 12 leads of an all-ones window: aVR = −1, aVL = 0, aVF = 1; 10 of the 11 missing are ±1
    assert math.isclose(m["mae12"], 10 / 11) and math.isclose(m["rmse12"], math.sqrt(10 / 11))
    assert set(m) == {"mae", "rmse", "mae_mean", "mae12", "rmse12"}
    is_test = np.array([0, 1, 1, 1, 1, 0], dtype=bool)
    record = np.array([0, 1, 1, 2, 2, 3])
    idx = select_windows(is_test, record, 2, seed=0)
    assert len(idx) == 2 and len(set(record[idx])) == 2 and is_test[idx].all()
    with pytest.raises(ValueError, match="test windows"):
        select_windows(is_test, record, 9, seed=0)


def test_benchmark_tiny(tmp_path):
    data = _tiny_data(tmp_path / "tiny.npz")
    result = table(
        tmp_path / "out",
        prior=tiny_prior(),
        data_path=data,
        num_windows=2,
        num_samples=2,
        samplers=["mgps", "ddnm"],
        overrides={"mgps": {"num_steps": 3}, "ddnm": {"num_steps": 3}},
        log=lambda *_: None,
    )
    assert (tmp_path / "out" / "ecg_table.md").is_file()
    saved = json.loads((tmp_path / "out" / "ecg_table.json").read_text())
    assert saved["config"]["prior_training_step"] == 0
    for task in ("missing_block", "missing_leads"):
        for name in ("zero-fill", "mgps", "ddnm"):
            entry = result["summary"][task][name]
            assert (
                entry["runs"] == 2 and math.isfinite(entry["mae"]) and entry["rmse"] >= entry["mae"]
            )
    assert "mae12" in result["summary"]["missing_leads"]["mgps"]
    assert PAPER_STEPS == {
        "mgps": 50,
        "dps": 400,
        "pgdm": 200,
        "ddnm": 200,
        "diffpir": 500,
        "reddiff": 400,
    }


def test_cli_parser():
    from mgps.paper.cli import add_ecg_commands

    parser = argparse.ArgumentParser()
    add_ecg_commands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(
        ["ecg", "table", "--out", "x", "--n-windows", "3", "--param", "mgps:num_steps=7"]
    )
    assert args.n_windows == 3 and args.n_samples == 4 and callable(args.func)
