"""The diffusers prior wrappers and ``load_prior``, on tiny random models (offline, CPU)."""

from __future__ import annotations

import json
import shutil
import time

import pytest
import torch
from conftest import tiny_autoencoder, tiny_unet

import mgps
from mgps.priors import (
    DiffusersLatentPrior,
    DiffusersPixelPrior,
    PriorSource,
    PriorUnavailableError,
    load_prior,
)
from mgps.priors.loading import _CACHE


@pytest.fixture(scope="module")
def unet():
    return tiny_unet()


@pytest.fixture(scope="module")
def unet_learned_variance():
    return tiny_unet(out_channels=6)


def _noisy(shape=(2, 3, 16, 16), seed=0):
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed))


# ---------------------------------------------------------------------------- schedule
@pytest.mark.parametrize("scheduler_cls", ["DDPMScheduler", "DDIMScheduler"])
@pytest.mark.parametrize(
    "beta", [("linear", 1e-4, 0.02), ("scaled_linear", 0.0015, 0.0195), ("squaredcos_cap_v2",)]
)
def test_padded_alphas_cumprod_matches_scheduler(unet, scheduler_cls, beta):
    import diffusers

    kwargs = {"beta_schedule": beta[0]}
    if len(beta) == 3:
        kwargs.update(beta_start=beta[1], beta_end=beta[2])
    sched = getattr(diffusers, scheduler_cls)(num_train_timesteps=1000, **kwargs)
    prior = DiffusersPixelPrior(unet, dict(sched.config))  # from the config alone
    acp = prior.alphas_cumprod
    assert acp.dtype == torch.float64 and acp.shape == (1001,)
    assert acp[0] == 1.0 and prior.num_train_timesteps == 1000
    expected = sched.alphas_cumprod.to(torch.float64).clamp(
        1e-6, 1.0
    )  # docs/algorithms.md §1.1 clip
    torch.testing.assert_close(acp[1:], expected, rtol=0, atol=0)
    assert bool((acp[1:] <= acp[:-1]).all())


# ---------------------------------------------------------------------------- x0_pred
@pytest.mark.parametrize(
    "prediction_type,learned",
    [
        ("epsilon", False),
        ("v_prediction", False),
        ("sample", False),
        ("epsilon", True),
        ("v_prediction", True),
    ],
)
def test_x0_pred_matches_ddpm_scheduler_step(unet, unet_learned_variance, prediction_type, learned):
    """The key consistency check: padded time t ↔ network timestep t − 1, and the scheduler's
    own pred_original_sample at that timestep."""
    from diffusers import DDPMScheduler

    net = unet_learned_variance if learned else unet
    sched = DDPMScheduler(
        num_train_timesteps=1000,
        prediction_type=prediction_type,
        variance_type="learned_range" if learned else "fixed_small",
        clip_sample=False,
    )
    prior = DiffusersPixelPrior(net, sched)
    assert prior.learned_variance is learned and prior.prediction_type == prediction_type
    x = _noisy()
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for t in (1, 10, 500, 1000):
            out = net(x, torch.full((2,), t - 1)).sample
            assert out.shape[1] == (6 if learned else 3)
            ref = sched.step(out, t - 1, x, generator=g).pred_original_sample
            got = prior.x0_pred(x, t)
            assert got.shape == x.shape
            torch.testing.assert_close(got, ref, rtol=1e-4, atol=1e-4)
            if 1 < t < 1000 and prediction_type != "sample":  # the off-by-one would show here
                wrong = sched.step(net(x, torch.full((2,), t)).sample, t, x, generator=g)
                assert not torch.allclose(got, wrong.pred_original_sample, atol=1e-3)


def test_network_timestep_is_t_minus_one_and_batched(tiny_pixel_prior):
    seen = []
    hook = tiny_pixel_prior.unet.register_forward_pre_hook(
        lambda module, args: seen.append(args[1].clone())
    )
    try:
        calls = tiny_pixel_prior.network_calls
        with torch.no_grad():
            tiny_pixel_prior.x0_pred(_noisy((3, 3, 16, 16)), 250)
        assert tiny_pixel_prior.network_calls == calls + 1
    finally:
        hook.remove()
    assert seen[0].shape == (3,) and seen[0].tolist() == [249, 249, 249]


def test_x0_pred_is_differentiable_in_x(tiny_pixel_prior):
    x = _noisy().requires_grad_(True)
    with torch.enable_grad():
        loss = tiny_pixel_prior.x0_pred(x, 300).pow(2).sum()
        (grad,) = torch.autograd.grad(loss, x)
    assert torch.isfinite(grad).all() and grad.abs().sum() > 0
    assert not any(p.requires_grad for p in tiny_pixel_prior.unet.parameters())
    assert not tiny_pixel_prior.unet.training


def test_pixel_prior_attributes_and_to(tiny_pixel_prior):
    p = tiny_pixel_prior
    assert isinstance(p, DiffusersPixelPrior) and isinstance(p, mgps.types.Prior)
    assert p.shape == (3, 16, 16) and p.dtype == torch.float32
    assert p.device == torch.device("cpu") and p.num_train_timesteps == 1000
    assert p.to() is p and p.to("cpu", torch.float32) is p
    p64 = p.to(dtype=torch.float64)
    assert p64 is not p and p64.dtype == torch.float64 and p.dtype == torch.float32
    x = _noisy(seed=3)
    with torch.no_grad():
        torch.testing.assert_close(
            p64.x0_pred(x.double(), 40).float(), p.x0_pred(x, 40), rtol=1e-4, atol=1e-4
        )
    # a float64 input through a float32 network comes back in float64
    with torch.no_grad():
        assert p.x0_pred(x.double(), 40).dtype == torch.float64


def test_x0_pred_rejects_bad_time_and_shape(tiny_pixel_prior):
    x = _noisy()
    for t in (0, 1001):
        with pytest.raises(ValueError, match="between 1 and 1000"):
            tiny_pixel_prior.x0_pred(x, t)
    with pytest.raises(ValueError, match=r"shape \(B, 3, 16, 16\)"):
        tiny_pixel_prior.x0_pred(torch.zeros(1, 3, 8, 8), 5)


def test_bad_channel_configurations_raise(unet):
    from diffusers import DDPMScheduler

    with pytest.raises(ValueError, match="out_channels"):
        DiffusersPixelPrior(tiny_unet(out_channels=4), DDPMScheduler())
    with pytest.raises(ValueError, match="learned variance"):
        DiffusersPixelPrior(unet, DDPMScheduler(variance_type="learned"))
    with pytest.raises(ValueError, match="prediction_type"):
        DiffusersPixelPrior(unet, DDPMScheduler(), prediction_type="score")


# ---------------------------------------------------------------------------- loading
def test_both_folder_layouts_load_the_same_model(tmp_path, tiny_pixel_prior, tiny_pixel_prior_dir):
    root = tmp_path / "flat"
    shutil.copytree(tiny_pixel_prior_dir / "unet", root)  # config.json + weights at the root
    shutil.copy(tiny_pixel_prior_dir / "scheduler" / "scheduler_config.json", root)
    flat = load_prior(str(root))
    assert isinstance(flat, DiffusersPixelPrior) and flat.name == "flat"
    torch.testing.assert_close(flat.alphas_cumprod, tiny_pixel_prior.alphas_cumprod)
    x = _noisy()
    with torch.no_grad():
        torch.testing.assert_close(flat.x0_pred(x, 77), tiny_pixel_prior.x0_pred(x, 77))


def test_model_index_names_the_subfolders(tmp_path, tiny_pixel_prior_dir):
    root = tmp_path / "renamed"
    shutil.copytree(tiny_pixel_prior_dir / "unet", root / "denoiser")
    shutil.copytree(tiny_pixel_prior_dir / "scheduler", root / "noise")
    (root / "model_index.json").write_text(
        json.dumps(
            {
                "_class_name": "DDPMPipeline",
                "denoiser": ["diffusers", "UNet2DModel"],
                "noise": ["diffusers", "DDPMScheduler"],
            }
        )
    )
    assert load_prior(root).shape == (3, 16, 16)


def test_load_prior_is_cached(tiny_pixel_prior_dir, tiny_pixel_prior):
    assert load_prior(tiny_pixel_prior_dir) is tiny_pixel_prior
    assert load_prior(str(tiny_pixel_prior_dir)) is tiny_pixel_prior
    assert load_prior(tiny_pixel_prior_dir, device="cpu", dtype=torch.float32) is tiny_pixel_prior
    p64 = load_prior(tiny_pixel_prior_dir, dtype=torch.float64)
    assert p64 is not tiny_pixel_prior and p64.dtype == torch.float64
    assert load_prior(tiny_pixel_prior_dir, dtype=torch.float64) is p64


def test_missing_folder_and_unknown_name(tmp_path):
    with pytest.raises(PriorUnavailableError, match="no folder"):
        load_prior(tmp_path / "nope")
    with pytest.raises(PriorUnavailableError, match=r"unknown prior 'nope'.*digits"):
        load_prior("nope")
    with pytest.raises(PriorUnavailableError, match=r"no folder './a/b/c'; registered priors"):
        load_prior("./a/b/c")
    assert issubclass(PriorUnavailableError, ValueError)
    (tmp_path / "empty").mkdir()
    with pytest.raises(PriorUnavailableError, match="holds no diffusers UNet"):
        load_prior(tmp_path / "empty")


def test_folder_without_scheduler(tmp_path, tiny_pixel_prior_dir):
    shutil.copytree(tiny_pixel_prior_dir / "unet", tmp_path / "m" / "unet")
    with pytest.raises(PriorUnavailableError, match="no scheduler config"):
        load_prior(tmp_path / "m")


def test_uncached_hub_model_offline_fails_fast(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    start = time.perf_counter()
    with pytest.raises(PriorUnavailableError) as info:
        load_prior("mgps-tests-nobody/not-a-cached-model")
    assert time.perf_counter() - start < 10
    msg = str(info.value)
    assert "mgps-tests-nobody/not-a-cached-model" in msg and "needs a download" in msg
    assert "digits" in msg and "fashion" in msg  # the embedded priors that work offline
    assert not any(k[1].startswith("mgps-tests-nobody") for k in _CACHE)


def test_registered_hub_prior_offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    source = mgps.PRIORS["cifar10-32"].obj
    if source.available():
        pytest.skip("google/ddpm-cifar10-32 is in the local cache")
    with pytest.raises(PriorUnavailableError, match="google/ddpm-cifar10-32.*needs a download"):
        load_prior("cifar10-32")


def test_registry_entries():
    names = set(mgps.PRIORS.names())
    assert names >= {"digits", "fashion", "cifar10-32", "celebahq-256", "church-256"}
    assert "ldm-celebahq-256" in names
    assert set(mgps.PRIORS.names(with_tag="embedded")) >= {"digits", "fashion", "digits-exact"}
    assert "ldm-celebahq-256" in mgps.PRIORS.names(with_tag="latent")
    for entry in mgps.PRIORS:
        src = entry.obj
        if isinstance(src, PriorSource):
            assert entry.keyword_names() == ["device", "dtype"]
            assert src.kind in entry.tags and src.kind in ("pixel", "latent")
            assert ("hub" in entry.tags) == (src.hub_id is not None)
            assert len(src.image_size) == 2 and src.channels in (1, 3) and src.licence


def test_embedded_prior_not_trained_yet(tmp_path):
    src = PriorSource(
        name="digits-test",
        label="x",
        kind="pixel",
        image_size=(28, 28),
        channels=1,
        licence="-",
        path=tmp_path / "missing",
    )
    assert not src.available()
    with pytest.raises(PriorUnavailableError, match="not available yet.*train_prior.py"):
        src()


def test_embedded_priors_load_when_present():
    loaded = 0
    for name in ("digits", "fashion"):
        if not mgps.PRIORS[name].obj.available():
            continue
        prior = load_prior(name)
        assert prior.shape == (1, 28, 28) and prior.num_train_timesteps == 1000
        with torch.no_grad():
            assert torch.isfinite(prior.x0_pred(torch.randn(1, 1, 28, 28), 500)).all()
        loaded += 1
    if not loaded:
        pytest.skip("no embedded prior exported yet (assets/priors/<name>)")


# ---------------------------------------------------------------------------- latent priors
def test_latent_prior_vq(tiny_latent_prior, tiny_latent_prior_dir):
    p = tiny_latent_prior
    assert isinstance(p, DiffusersLatentPrior) and isinstance(p, mgps.types.LatentPrior)
    assert p.vae_kind == "vq" and p.scaling_factor == 0.5 and p.shift_factor == 0.0
    assert p.shape == (3, 8, 8) and p.image_shape == (3, 16, 16)
    assert p.prediction_type == "epsilon"
    x = _noisy((2, 3, 16, 16)).clamp(-1, 1)
    with torch.no_grad():
        z = p.encode(x)
        assert z.shape == (2, 3, 8, 8)
        torch.testing.assert_close(z, p.vae.encode(x).latents * 0.5)
        img = p.decode(z)
        assert img.shape == (2, 3, 16, 16)
        torch.testing.assert_close(img, p.vae.decode(z / 0.5).sample)  # quantised decode
        assert torch.isfinite(p.x0_pred(z, 999)).all()


def test_vq_decode_gradient_is_straight_through(tiny_latent_prior):
    """∂decode/∂z = the decoder's Jacobian at the quantised latent, times 1/scaling."""
    p = tiny_latent_prior
    z = _noisy((1, 3, 8, 8), seed=5).requires_grad_(True)
    w = _noisy((1, 3, 16, 16), seed=6)
    with torch.enable_grad():
        (grad,) = torch.autograd.grad((p.decode(z) * w).sum(), z)
        h_q = p.vae.quantize(z.detach() / p.scaling_factor)[0].requires_grad_(True)
        unq = p.vae.decode(h_q, force_not_quantize=True).sample
        (grad_q,) = torch.autograd.grad((unq * w).sum(), h_q)
    assert torch.isfinite(grad).all() and grad.abs().sum() > 0
    torch.testing.assert_close(grad, grad_q / p.scaling_factor, rtol=1e-4, atol=1e-6)


def test_vq_decode_without_quantisation(tiny_latent_prior_dir):
    from mgps.priors.loading import load_from_folder

    p = load_from_folder(tiny_latent_prior_dir)
    unq = DiffusersLatentPrior(p.unet, p.scheduler_config, p.vae, quantize=False)
    z = _noisy((1, 3, 8, 8), seed=7)
    with torch.no_grad():
        torch.testing.assert_close(
            unq.decode(z), p.vae.decode(z / 0.5, force_not_quantize=True).sample
        )


def test_latent_prior_kl_and_missing_scaling(tmp_path, tiny_latent_prior_dir):
    root = tmp_path / "kl"
    shutil.copytree(tiny_latent_prior_dir / "unet", root / "unet")
    shutil.copytree(tiny_latent_prior_dir / "scheduler", root / "scheduler")
    vae = tiny_autoencoder("kl", scaling_factor=0.25)
    vae.save_pretrained(root / "vae")
    p = load_prior(root)
    assert p.vae_kind == "kl" and p.scaling_factor == 0.25
    assert p.shape == (3, 8, 8) and p.image_shape == (3, 16, 16)
    x = _noisy((2, 3, 16, 16), seed=1).clamp(-1, 1)
    with torch.no_grad():
        torch.testing.assert_close(p.encode(x), vae.encode(x).latent_dist.mean * 0.25)
    z = p.encode(x).detach().requires_grad_(True)
    with torch.enable_grad():
        (grad,) = torch.autograd.grad(p.decode(p.x0_pred(z, 20)).sum(), z)
    assert torch.isfinite(grad).all() and grad.abs().sum() > 0
    # a saved config without scaling_factor (old LDM checkpoints) means scale 1
    cfg_path = root / "vae" / "config.json"
    cfg = json.loads(cfg_path.read_text())
    del cfg["scaling_factor"]
    cfg_path.write_text(json.dumps(cfg))
    root2 = tmp_path / "kl-unscaled"
    shutil.copytree(root, root2)
    assert load_prior(root2).scaling_factor == 1.0


def test_latent_prior_to_float64(tiny_latent_prior):
    p64 = tiny_latent_prior.to(dtype=torch.float64)
    assert p64.vae is not tiny_latent_prior.vae
    assert next(p64.vae.parameters()).dtype == torch.float64
    assert tiny_latent_prior.dtype == torch.float32
    with torch.no_grad():
        z = torch.zeros(1, 3, 8, 8, dtype=torch.float64)
        assert p64.decode(z).dtype == torch.float64


def test_latent_channel_mismatch(tiny_latent_prior):
    from diffusers import DDPMScheduler

    with pytest.raises(ValueError, match="4-channel latents"):
        DiffusersLatentPrior(
            tiny_unet(in_channels=4, out_channels=4, sample_size=8),
            DDPMScheduler(),
            tiny_latent_prior.vae,
        )
