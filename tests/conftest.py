"""Shared fixtures. Tests run offline, on a CPU, with one torch thread."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import pytest  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(1)


@pytest.fixture
def rng() -> torch.Generator:
    return torch.Generator().manual_seed(0)


@pytest.fixture(scope="session")
def small_gmm_instance():
    """A 10-dimensional 25-component mixture observed through 3 random projections."""
    from mgps.paper.gmm import make_instance

    return make_instance(dim=10, obs_dim=3, sigma_y=0.5, seed=0)


# ---------------------------------------------------------------- tiny random diffusers priors
def tiny_unet(**overrides):
    """A tiny random ``UNet2DModel`` (3 channels, 16×16, two levels, 8/16 channels)."""
    from diffusers import UNet2DModel

    config = dict(
        sample_size=16,
        in_channels=3,
        out_channels=3,
        layers_per_block=1,
        block_out_channels=(8, 16),
        norm_num_groups=4,
        attention_head_dim=4,
        down_block_types=("DownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "UpBlock2D"),
    )
    config.update(overrides)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        return UNet2DModel(**config)


def tiny_autoencoder(kind: str = "vq", **overrides):
    """A tiny random ``VQModel`` (``kind="vq"``) or ``AutoencoderKL`` (``"kl"``):
    3×16×16 images ↔ 3×8×8 latents."""
    from diffusers import AutoencoderKL, VQModel

    config = dict(
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
        up_block_types=("UpDecoderBlock2D", "UpDecoderBlock2D"),
        block_out_channels=(8, 16),
        layers_per_block=1,
        latent_channels=3,
        norm_num_groups=4,
        sample_size=16,
    )
    if kind == "vq":
        config.update(num_vq_embeddings=32, vq_embed_dim=3, scaling_factor=0.5)
    config.update(overrides)
    with torch.random.fork_rng():
        torch.manual_seed(1)
        return (VQModel if kind == "vq" else AutoencoderKL)(**config)


@pytest.fixture(scope="session")
def tiny_pixel_prior_dir(tmp_path_factory) -> Path:
    """A diffusers pipeline folder (``unet/``, ``scheduler/``) with a tiny random 3×16×16
    ε-prediction UNet and a linear-β ``DDPMScheduler`` (T = 1000)."""
    from diffusers import DDPMScheduler

    root = tmp_path_factory.mktemp("tiny_pixel_prior")
    tiny_unet().save_pretrained(root / "unet")
    DDPMScheduler(
        num_train_timesteps=1000, beta_schedule="linear", clip_sample=False
    ).save_pretrained(root / "scheduler")
    return root


@pytest.fixture(scope="session")
def tiny_latent_prior_dir(tmp_path_factory) -> Path:
    """An LDM-style folder (``unet/``, ``vqvae/``, ``scheduler/``): a tiny random UNet on
    3×8×8 latents, a tiny ``VQModel`` (3×16×16 images, scaling_factor 0.5) and a
    ``DDIMScheduler`` with the LDM schedule (scaled_linear, 0.0015 → 0.0195)."""
    from diffusers import DDIMScheduler

    root = tmp_path_factory.mktemp("tiny_latent_prior")
    tiny_unet(sample_size=8).save_pretrained(root / "unet")
    tiny_autoencoder("vq").save_pretrained(root / "vqvae")
    DDIMScheduler(
        num_train_timesteps=1000,
        beta_schedule="scaled_linear",
        beta_start=0.0015,
        beta_end=0.0195,
        clip_sample=False,
    ).save_pretrained(root / "scheduler")
    return root


@pytest.fixture(scope="session")
def tiny_pixel_prior(tiny_pixel_prior_dir):
    """The tiny pixel prior loaded through ``load_prior(folder)`` (shape (3, 16, 16))."""
    from mgps.priors import load_prior

    return load_prior(tiny_pixel_prior_dir)


@pytest.fixture(scope="session")
def tiny_latent_prior(tiny_latent_prior_dir):
    """The tiny latent prior loaded through ``load_prior(folder)`` (latents (3, 8, 8),
    images (3, 16, 16))."""
    from mgps.priors import load_prior

    return load_prior(tiny_latent_prior_dir)


# ---------------------------------------------------------------- the app
@pytest.fixture(scope="session")
def app_main():
    """``app.py`` (which assembles the tabs) loaded as a module named ``app_main`` (``import
    app`` is the package); its ``demo`` is built once, ``build_demo()`` builds another."""
    import importlib.util

    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    path = Path(__file__).resolve().parents[1] / "app.py"
    spec = importlib.util.spec_from_file_location("app_main", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _Parser(Exception):
    def __init__(self, parser) -> None:
        self.parser = parser


def script_parser(path: Path, monkeypatch):
    """The argparse parser of the script at ``path``, built but not run: the script runs until
    its first ``parse_args``, which hands the parser over instead of parsing."""
    import argparse
    import runpy
    import sys

    def hand_over(self, *args, **kwargs):
        raise _Parser(self)

    with monkeypatch.context() as m:
        m.setattr(argparse.ArgumentParser, "parse_args", hand_over)
        m.setattr(argparse.ArgumentParser, "parse_known_args", hand_over)
        m.setattr(sys, "argv", [str(path)])
        m.syspath_prepend(str(path.parent))
        try:
            runpy.run_path(str(path), run_name="__main__")
        except _Parser as built:
            return built.parser
    raise AssertionError(f"{path.name} built no parser")


def repository_files(*paths: str) -> list[str]:
    """The checkout's files (what git tracks or would add), relative to its root; ``paths``
    narrows the listing to those folders."""
    import subprocess

    root = Path(__file__).resolve().parents[1]
    out = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", *paths],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [f for f in out if (root / f).is_file()]
