"""Priors: exact Gaussian mixtures (and Gaussians)."""

from .gaussian_mixture import (
    GaussianMixturePrior,
    default_toy_alphas_cumprod,
    gaussian_prior,
    gmm25,
)

__all__ = ["GaussianMixturePrior", "gaussian_prior", "gmm25", "default_toy_alphas_cumprod"]
