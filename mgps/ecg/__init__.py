"""ECG modality: the paper's second experiment (§4 and Appendix D.5; docs/algorithms.md §9), offline.

* :mod:`mgps.ecg.leads` — the 9 modelled leads and the 12-lead rebuild (Einthoven/Goldberger);
* :mod:`mgps.ecg.data` — the synthetic neurokit2 data set ``assets/ecg/ecg_windows.npz``;
* :mod:`mgps.ecg.model` — a small 1-D UNet ε-network;
* :mod:`mgps.ecg.prior` — :class:`EcgPrior` (registered as ``PRIORS["ecg"]``);
* :mod:`mgps.ecg.operators` — ``ecg_missing_leads`` and ``ecg_missing_block`` (registered in
  ``OPERATORS``);
* :mod:`mgps.ecg.tasks` — the two tasks, the samplers' ECG settings and the window errors
  (the MAE/RMSE table itself, ``python -m mgps ecg table``, is :mod:`mgps.paper.ecg`).

Importing this package registers the prior and the two operators.
"""

from __future__ import annotations

from .leads import LEADS_9, LEADS_12, augmented_leads, einthoven_residual, twelve_leads
from .model import UNet1d, UNet1dConfig
from .operators import EcgMaskOperator, missing_block, missing_leads
from .prior import ECG_PRIOR_DIR, EcgPrior, load_ecg_prior

__all__ = [
    "LEADS_9",
    "LEADS_12",
    "augmented_leads",
    "twelve_leads",
    "einthoven_residual",
    "UNet1d",
    "UNet1dConfig",
    "EcgPrior",
    "load_ecg_prior",
    "ECG_PRIOR_DIR",
    "EcgMaskOperator",
    "missing_leads",
    "missing_block",
]
