"""Why there is a midpoint trade-off (mgps.tradeoff; docs/algorithms.md §8): the two sources of
the surrogate's error on Example 3.2's Gaussian, each checked against a Monte-Carlo run of the
chain that shares nothing with the moment recursion but the time grid; and the teaching
sweep's statistics (mgps.mixture2d.eta_verdict)."""

import math

import numpy as np
import pytest
import torch

from mgps.metrics import gaussian_w2
from mgps.mixture2d import EtaSweep, TeachingSettings, eta_verdict
from mgps.priors.gaussian_mixture import default_toy_alphas_cumprod
from mgps.schedules import spaced_timesteps
from mgps.tradeoff import ERRORS, decomposition, eta_curve, random_instance, surrogate_moments


def _gauss(rng, mean, cov, n):
    """n draws of N(mean[i], cov) (mean of shape (n, d) or (d,))."""
    L = np.linalg.cholesky(cov + 1e-300 * np.eye(len(cov)))
    return mean + rng.standard_normal((n, len(cov))) @ L.T


def _condition(c_aa, c_ab, c_bb):
    """Gain K and covariance of a | b for a jointly Gaussian (a, b): E[a|b] = m_a + K (b − m_b)."""
    gain = c_ab @ np.linalg.inv(c_bb)
    return gain, c_aa - gain @ c_ab.T


def monte_carlo_chain(inst, eta, num_steps, backward, potential, n, proposals, rng):
    """The surrogate chain run with particles: at each step, ``proposals`` candidates x_ℓ per
    particle from the backward transition (the exact conditional of the forward process, or
    DDPM's Gaussian through D_t), one kept with probability ∝ the likelihood at ℓ (DPS's
    N(y; A D_ℓ(x_ℓ), σ_y²), or g_ℓ estimated without bias by g(x_0) for one x_0 ~ p(x_0 | x_ℓ)),
    then the forward-process bridge to t'. Every Gaussian conditional is formed here from the
    joint covariances of the forward process, not from the recursion's formulas."""
    mu, Sig, A = (inst.mean.numpy(), inst.cov.numpy(), inst.A.numpy())
    y, s2 = inst.y.numpy(), inst.sigma_y**2
    d = len(mu)
    eye = np.eye(d)
    acp = default_toy_alphas_cumprod().numpy()
    ts = spaced_timesteps(len(acp) - 1, num_steps)

    def denoiser(t):  # x_0 | x_t: gain, covariance; mean = μ + K (x_t − √a_t μ)
        a = acp[t]
        return _condition(Sig, math.sqrt(a) * Sig, a * Sig + (1 - a) * eye)

    def loglik(x0):
        r = x0 @ A.T - y
        return -0.5 * (r**2).sum(-1) / s2

    x = rng.standard_normal((n, d))
    for i in range(num_steps, 1, -1):
        t, tp = ts[i], ts[i - 1]
        ell = min(max(1, int(eta * tp)), tp)
        a_t, a_l = acp[t], acp[ell]
        if backward == "exact":  # x_ℓ | x_t under the forward process of the Gaussian prior
            c_ll = a_l * Sig + (1 - a_l) * eye
            r = a_t / a_l
            K, C = _condition(c_ll, math.sqrt(r) * c_ll, r * c_ll + (1 - r) * eye)
            mean = math.sqrt(a_l) * mu + (x - math.sqrt(a_t) * mu) @ K.T
        else:  # DDPM: q(x_ℓ | x_0 = D_t(x_t), x_t)
            K0, _ = denoiser(t)
            x0 = mu + (x - math.sqrt(a_t) * mu) @ K0.T
            r = a_t / a_l
            mean = (math.sqrt(a_l) * (1 - r) * x0 + math.sqrt(r) * (1 - a_l) * x) / (1 - a_t)
            C = (1 - a_l) * (1 - r) / (1 - a_t) * eye
        cand = _gauss(rng, np.repeat(mean, proposals, 0), C, n * proposals)
        Kl, Cl = denoiser(ell)
        x0_mean = mu + (cand - math.sqrt(a_l) * mu) @ Kl.T
        if potential == "exact":
            logw = loglik(_gauss(rng, x0_mean, Cl, len(cand)))
        else:  # DPS at the midpoint; the sampler applies g to x_ℓ itself at ℓ = 1
            logw = loglik(cand if ell == 1 else x0_mean)
        logw = logw.reshape(n, proposals)
        w = np.exp(logw - logw.max(1, keepdims=True))
        u = rng.random((n, 1)) * w.sum(1, keepdims=True)
        pick = np.minimum((np.cumsum(w, 1) < u).sum(1), proposals - 1)
        x_l = cand.reshape(n, proposals, d)[np.arange(n), pick]
        if ell == tp:
            x = x_l
        else:  # bridge q(x_t' | x_ℓ, x_t) of the forward process
            a_p = acp[tp]
            r_pl, r_tp, r_tl = a_p / a_l, a_t / a_p, a_t / a_l
            x = (math.sqrt(r_pl) * (1 - r_tp) * x_l + math.sqrt(r_tp) * (1 - r_pl) * x) / (
                1 - r_tl
            ) + math.sqrt((1 - r_pl) * (1 - r_tp) / (1 - r_tl)) * rng.standard_normal((n, d))
    K1, _ = denoiser(ts[1])
    return mu + (x - math.sqrt(acp[ts[1]]) * mu) @ K1.T


@pytest.mark.parametrize("name", ["likelihood", "transition"])
def test_each_error_is_exact_against_monte_carlo(name):
    """Each source alone: the recursion's output moments and W2 match a particle run of the
    chain (20 000 particles, 64 proposals: the resampling's O(1/64) bias is within the
    tolerance at σ_y = 0.6) at two η where the error differs."""
    backward, potential = ERRORS[name]
    inst = random_instance(0, dim=2, obs_dim=1, sigma_y=0.6)
    post_mean, post_cov = inst.posterior()
    rng = np.random.default_rng(0)
    w2 = {}
    for eta in (0.15, 0.9):
        m, c = surrogate_moments(inst, eta, 8, backward=backward, potential=potential)
        xs = monte_carlo_chain(inst, eta, 8, backward, potential, 20_000, 64, rng)
        mc_m, mc_c = np.mean(xs, 0), np.cov(xs.T)
        scale = float(np.sqrt(np.trace(c.numpy())))
        assert np.abs(mc_m - m.numpy()).max() < 0.03 * scale + 0.01, (eta, mc_m, m)
        assert np.abs(mc_c - c.numpy()).max() < 0.03 * scale**2, (eta, mc_c, c)
        exact = gaussian_w2(m, c, post_mean, post_cov)
        mc = gaussian_w2(torch.from_numpy(mc_m), torch.from_numpy(mc_c), post_mean, post_cov)
        assert abs(mc - exact) < 0.03 + 0.1 * exact, (name, eta, mc, exact)
        w2[eta] = exact
    # the check can fail: the two η give errors further apart than its tolerance
    assert abs(w2[0.15] - w2[0.9]) > 0.06 + 0.1 * max(w2.values()), w2


def test_decomposition_crosses_and_its_combination_is_example_3_2():
    """On the tab's instances: the likelihood's error grows with η, the transition's shrinks,
    they cross, the surrogate's (both) is Example 3.2's curve, a U with its minimum inside,
    and with neither the error is the η-free floor."""
    etas = np.array([0.05, 0.3, 0.5, 0.6, 0.7, 0.9, 1.0])
    config = dict(dim=20, obs_dim=10, sigma_y=0.1, num_steps=100)
    d = decomposition(etas, [0, 1], **config)
    like, trans, both = d.mean("likelihood"), d.mean("transition"), d.mean("surrogate")
    assert like[-1] > 5 * like[0] and trans[0] > 5 * trans[-1]
    assert like[0] < trans[0] and like[-1] > trans[-1]
    assert 0.3 < d.crossing() < 0.9
    np.testing.assert_allclose(d.curves["surrogate"], eta_curve(etas, [0, 1], **config))
    k = int(np.argmin(both))
    assert 0 < k < len(etas) - 1 and both[0] > 3 * both[k] and both[-1] > 3 * both[k]
    assert np.ptp(d.curves["exact"], axis=0).max() == 0 and (d.mean("exact") < both).all()


def _sweep(sw) -> EtaSweep:
    sw = np.asarray(sw, dtype=float)
    return EtaSweep(TeachingSettings(), [0.0, 0.5, 1.0], list(range(sw.shape[1])), 1, sw)


def test_eta_verdict_separates_only_with_paired_intervals():
    base = np.arange(6.0)  # problems differ a lot; η shifts every problem alike
    clear = _sweep([base + 3, base + 1, base + 2 + 0.1 * base])
    v = eta_verdict(clear)
    assert v.best == 0.5 and v.worse == [0.0, 1.0] and v.in_between
    assert v.half[1] > 1  # the per-η interval is wide: only the paired one separates
    noisy = _sweep([base + 1.2, base + 1 + [0.5, -0.5, 0.5, -0.5, 0.5, -0.5], base + 2])
    v = eta_verdict(noisy)
    assert v.best == 0.5 and 0.0 not in v.worse and not v.in_between
    end = eta_verdict(_sweep([base + 1, base + 2, base + 3]))
    assert end.best == 0.0 and not end.in_between
    with pytest.raises(ValueError, match="at least 2"):
        EtaSweep.from_json({**clear.to_json(), "sw": [[1.0], [2.0], [3.0]], "problems": [0]})
    assert EtaSweep.from_json(clear.to_json()).sw.tolist() == clear.sw.tolist()


def test_tradeoff_commands(tmp_path, capsys):
    from mgps.cli import main

    args = ["tradeoff", "sweep", "--out", str(tmp_path), "--name", "t", "--etas", "0,1"]
    args += ["--n-problems", "2", "--steps", "10", "--n-samples", "50", "--quiet"]
    assert main(args) == 0
    sweep = EtaSweep.load(tmp_path / "t.json")
    assert sweep.sw.shape == (2, 2) and sweep.settings.num_steps == 10
    assert sweep.command == (
        f"mgps tradeoff sweep --out {tmp_path} --name t --etas 0,1 --n-problems 2 "
        "--n-runs 1 --sigma-y 0.5 --steps 10 --spacing 8 --n-samples 50"
    )
    md = (tmp_path / "t.md").read_text()
    assert "| η | mean SW" in md and "Verdict:" in md
    assert "lowest mean SW at η = " in capsys.readouterr().out
    assert main(["tradeoff", "sweep", "--out", str(tmp_path), "--etas", "0,2"]) != 0
    assert "--etas needs at least 2 values in [0, 1], got 0,2" in capsys.readouterr().err
    out = tmp_path / "d.csv"
    args = ["tradeoff", "decomposition", "--out", str(out), "--n-etas", "5", "--n-seeds", "1"]
    assert main([*args, "--dim", "6", "--obs-dim", "3", "--steps", "20"]) == 0
    lines = out.read_text().splitlines()
    assert lines[0] == "eta,w2_likelihood,w2_transition,w2_surrogate,w2_exact" and len(lines) == 6
    assert "cross at eta" in capsys.readouterr().out
