"""mgps: posterior sampling for inverse problems with diffusion priors, built around
Midpoint Guidance Posterior Sampling (Moufad et al., ICLR 2025).

    >>> import torch, mgps
    >>> sorted(mgps.SAMPLERS.names())
    ['daps', 'dcps', 'ddnm', 'diffpir', 'dps', 'mgps', 'mgps_jf', 'pgdm', 'pnpdm', 'psld', 'reddiff', 'resample']
"""

from __future__ import annotations

from . import ecg, operators, priors, samplers  # noqa: F401  (fills the registries)
from .capabilities import Compatibility, compatibility, compatible_samplers, is_latent
from .metrics import gaussian_w2, sliced_wasserstein
from .observation import estimate_noise_sigma, observation_refusal, read_jpeg_quality
from .operators import MatrixOperator, dense_matrix, measure
from .priors import GaussianMixturePrior, gaussian_prior, gmm25, load_prior
from .registry import OPERATORS, PRIORS, SAMPLERS, Entry, Param, Registry
from .samplers import initial_noise, require_operator, run, sample
from .types import DEFAULT_SIGMA_Y, RUN_KEYWORDS, InverseProblem, SamplerDivergedError, Step
from .utils.images import load_image, load_mask, save_image

__version__ = "0.1.0"

__all__ = [
    "SAMPLERS",
    "OPERATORS",
    "PRIORS",
    "Entry",
    "Param",
    "Registry",
    "InverseProblem",
    "Step",
    "SamplerDivergedError",
    "measure",
    "run",
    "sample",
    "require_operator",
    "initial_noise",
    "compatibility",
    "compatible_samplers",
    "Compatibility",
    "is_latent",
    "RUN_KEYWORDS",
    "DEFAULT_SIGMA_Y",
    "MatrixOperator",
    "dense_matrix",
    "GaussianMixturePrior",
    "gaussian_prior",
    "gmm25",
    "load_prior",
    "load_image",
    "load_mask",
    "save_image",
    "estimate_noise_sigma",
    "observation_refusal",
    "read_jpeg_quality",
    "sliced_wasserstein",
    "gaussian_w2",
]
