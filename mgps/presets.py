"""Per-task sampler settings for the image experiments (mgps-spec.md §2.10, §2.11, §4).

A sampler's keyword defaults are its generic settings; some methods were tuned per task by
their authors or by the MGPS authors (DPS's step size, DiffPIR's noise share, PSLD's
measurement weight, ReSample's γ). ``task_defaults(sampler, operator)`` returns those
overrides; the restore pipeline and the app apply them unless the user sets the parameter.

MGPS's entries are ours, measured on the digits prior with 50 steps
(``benchmarks/digits_mgps_sweep.py``, results in ``results/digits_mgps_sweep/``): with the
paper's lr = 0.03 the few Adam steps of a short run under-fit the observation (‖y − A(x̂)‖
2.7× its noise level) and MGPS trails DPS-1000; lr = 0.1 fits it. For super-resolution and
blur, η = 1 in the second half of the diffusion (the paper's remedy for over-smoothing, used
for its latent prior and its ImageNet deblurring, spec §2.10) closes the rest of the gap. On
fresh digits (``results/digits_mgps_sweep/confirmation/``, 18,000-step weights) one 50-step
sample with these settings beats DPS-1000 on SR ×4 and the half mask, ties it on box, and
trails it on Gaussian blur (100 steps: −1.3 dB); on box, the mean of the 2–3 samples MGPS
draws in DPS-1000's time beats it by 1.1–1.3 dB (``results/digits_mgps_sweep/budget/``).
"""

from __future__ import annotations

from typing import Any

__all__ = ["TASK_DEFAULTS", "task_defaults"]

_MASKS = ("box", "half", "mask")
_BLURS = ("gaussian_blur", "gaussian_blur_svd", "motion_blur")

TASK_DEFAULTS: dict[str, dict[str, dict[str, Any]]] = {
    "mgps": {
        **{op: {"lr": 0.1} for op in _MASKS},
        **{op: {"lr": 0.1, "midpoint_late": 1.0} for op in ("sr4", "sr16", *_BLURS)},
    },
    "dps": {
        **{op: {"step_size": 1.0} for op in (*_MASKS, "sr4", "sr16")},
        **{op: {"step_size": 0.3} for op in _BLURS},
        "phase_retrieval": {"step_size": 0.4},
        "nonlinear_blur": {"step_size": 0.1},
        "hdr": {"step_size": 0.07},
        "jpeg": {"step_size": 0.2},
    },
    "diffpir": {
        **{op: {"zeta": 1.0} for op in _MASKS},
        **{op: {"zeta": 0.1} for op in ("sr4", "sr16", *_BLURS)},
    },
    "psld": {op: {"measurement_weight": 0.9} for op in ("sr4", "sr16")},
    "resample": {
        "sr4": {"gamma": 80.0},
        "sr16": {"gamma": 90.0},
        "half": {"gamma": 60.0},
        "box": {"gamma": 80.0},
        "mask": {"gamma": 80.0},
        "gaussian_blur": {"gamma": 60.0},
        "gaussian_blur_svd": {"gamma": 60.0},
        "motion_blur": {"gamma": 80.0},
        "nonlinear_blur": {"gamma": 70.0},
    },
}


def task_defaults(sampler: str, operator: str) -> dict[str, Any]:
    """The paper's per-task settings of ``sampler`` on ``operator`` (empty if none)."""
    return dict(TASK_DEFAULTS.get(sampler, {}).get(operator, {}))
