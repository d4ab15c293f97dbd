"""Priors: exact Gaussian mixtures (and Gaussians), and diffusers models (pixel and latent).

Importing this package registers the known diffusers priors in ``mgps.PRIORS`` (cheap: the
diffusers library itself is imported only when a model is loaded).
"""

from . import exact_images  # noqa: F401  (registers digits-exact)
from .diffusers_latent import DiffusersLatentPrior
from .diffusers_pixel import DiffusersPixelPrior, scheduler_alphas_cumprod
from .gaussian_mixture import (
    GaussianMixturePrior,
    default_toy_alphas_cumprod,
    gaussian_prior,
    gmm25,
)
from .loading import (
    PriorUnavailableError,
    clear_prior_cache,
    hub_offline,
    load_from_folder,
    load_from_hub,
    load_prior,
)
from .sources import EMBEDDED_PRIORS_DIR, PriorSource

__all__ = [
    "GaussianMixturePrior",
    "gaussian_prior",
    "gmm25",
    "default_toy_alphas_cumprod",
    "DiffusersPixelPrior",
    "DiffusersLatentPrior",
    "scheduler_alphas_cumprod",
    "load_prior",
    "load_from_folder",
    "load_from_hub",
    "clear_prior_cache",
    "hub_offline",
    "PriorSource",
    "PriorUnavailableError",
    "EMBEDDED_PRIORS_DIR",
]
