"""The paper's two ECG inverse problems as named tasks, the samplers' settings for them, and
the errors of a reconstruction (used by the app's ECG tab and by :mod:`mgps.paper.ecg`).

* :data:`TASKS`: ``missing_block`` (the second half of a 2.56-s window missing on every lead:
  forecasting) and ``missing_leads`` (only lead I observed), as registered operators.
* :data:`PAPER_STEPS`: diffusion steps per sampler, paper Table 14 (chosen there so that 10
  samples take about 30 s); :data:`ECG_DEFAULTS` adds the other settings
  (``docs/algorithms.md``, "ECG").
* :func:`window_metrics`: MAE / RMSE over the missing entries (and over the rebuilt 12 leads
  for ``missing_leads``), each sample against the truth, then averaged over the samples.
"""

from __future__ import annotations

from typing import Any

import torch

from ..registry import SAMPLERS
from .leads import MISSING_LEADS_12, twelve_leads

__all__ = ["PAPER_STEPS", "ECG_DEFAULTS", "TASKS", "sampler_kwargs", "window_metrics"]

PAPER_STEPS: dict[str, int] = {
    "mgps": 50,
    "dps": 400,
    "pgdm": 200,
    "ddnm": 200,
    "diffpir": 500,
    "reddiff": 400,
}
"""Diffusion steps per sampler, paper Table 14 (chosen so that 10 samples take about 30 s)."""

ECG_DEFAULTS: dict[str, dict[str, Any]] = {
    # The third author's later ECG code (its mgps configuration): K = 50, lr 0.03, 5 Adam steps (10 in the first iterations),
    # η = 0.5 (docs/algorithms.md §9). Its mgps_bis warm-start semantics are not implemented; the paper's
    # Algorithm 3 warm start is used with the default threshold.
    "mgps": {
        "num_steps": 50,
        "lr": 0.03,
        "midpoint": 0.5,
        "num_gradient_steps": 5,
        "num_gradient_steps_initial": 10,
        "num_gradient_steps_periodic": 5,
    },
    "dps": {"num_steps": 400, "step_size": 1.0},  # ζ = 1.0: the paper's value for masks (§4.1)
    "pgdm": {"num_steps": 200},
    "ddnm": {"num_steps": 200},
    "diffpir": {"num_steps": 500},
    "reddiff": {"num_steps": 400},
}
"""The benchmark's sampler settings: Table 14 step counts plus the noted choices."""
# ours: mgps_jf's default (forward differences) is MGPS's Adam fit, so MGPS's ECG settings
ECG_DEFAULTS["mgps_jf"] = dict(ECG_DEFAULTS["mgps"])

TASKS: dict[str, tuple[str, dict[str, Any]]] = {
    "missing_block": ("ecg_missing_block", {"block": "second"}),
    "missing_leads": ("ecg_missing_leads", {"leads": "I"}),
}


def sampler_kwargs(name: str, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """The benchmark's keyword arguments for a sampler: ECG defaults, then ``overrides``."""
    SAMPLERS[name]  # clear KeyError for unknown names
    return {**ECG_DEFAULTS.get(name, {}), **(overrides or {})}


def window_metrics(
    samples: torch.Tensor, x_true: torch.Tensor, missing: torch.Tensor, task: str
) -> dict[str, float]:
    """Errors of the samples ``(S, 9, L)`` of one window against ``x_true`` ``(9, L)``.

    Args:
        samples: posterior samples of this window.
        x_true: the ground truth.
        missing: bool ``(9, L)``, True at the entries the operator does not observe.
        task: ``"missing_leads"`` adds the 12-lead metrics.
    """
    s = samples.to(torch.float64)
    x = x_true.to(torch.float64)
    err = (s - x)[:, missing]  # (S, n_missing)
    out = {
        "mae": float(err.abs().mean(1).mean()),
        "rmse": float(err.pow(2).mean(1).sqrt().mean()),
        "mae_mean": float((s.mean(0) - x)[missing].abs().mean()),
    }
    if task == "missing_leads":
        e12 = (twelve_leads(s) - twelve_leads(x)[None])[:, list(MISSING_LEADS_12)]
        out["mae12"] = float(e12.abs().flatten(1).mean(1).mean())
        out["rmse12"] = float(e12.pow(2).flatten(1).mean(1).sqrt().mean())
    return out
