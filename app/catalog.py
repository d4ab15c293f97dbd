"""What the UI offers, read from the library's registries: image degradations, priors (with
whether they can load here), samplers with their parameters, app defaults and limits, and
why a sampler × degradation × prior combination cannot run (the library's own message).

No gradio import here; ``ui`` turns this into widgets.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mgps
from mgps.presets import TASK_DEFAULTS, task_defaults
from mgps.registry import Entry, Param
from mgps.samplers.common import require_operator, require_prior
from mgps.utils.assets import ASSETS_DIR

__all__ = [
    "MAX_STEPS",
    "MAX_SAMPLES",
    "MAX_COMPARE",
    "DEFAULT_PRIOR",
    "DEFAULT_OPERATOR",
    "DEFAULT_SAMPLER",
    "image_operators",
    "operator_params",
    "priors",
    "PriorChoice",
    "sampler_params",
    "app_default",
    "incompatibility",
    "compatible_samplers",
    "examples",
    "initial_values",
    "preset_params",
    "LIMITS_TEXT",
]

MAX_STEPS = 1000
MAX_SAMPLES = 16
MAX_COMPARE = 6  # samplers in one comparison
DEFAULT_PRIOR = "digits"
DEFAULT_OPERATOR = "mask"
DEFAULT_SAMPLER = "mgps"
DEFAULT_SAMPLES = 4

# Steps that finish in seconds on a CPU with the 28×28 priors (the paper uses 1000 for the
# baselines and 50-300 for MGPS); the slider goes up to the registry's maximum.
APP_STEPS = {"mgps": 50}
APP_STEPS_OTHERS = 100

# operator parameters that are not numbers to set with a control (the drawn mask, a path)
_HIDDEN_OPERATOR_PARAMS = {"mask", "weights"}

EXAMPLES_DIR = ASSETS_DIR / "examples"

LIMITS_TEXT = (
    f"Limits: at most {MAX_STEPS} steps, {MAX_SAMPLES} samples, {MAX_COMPARE} samplers in a "
    "comparison, and images up to 20 megapixels (they are centre-cropped and resized to the "
    "prior's size). One job runs at a time per device; others wait in a short queue."
)


# ---------------------------------------------------------------------------- operators
def image_operators() -> list[Entry]:
    """Image degradations: operators tagged ``image``, without those that need weights files."""
    return [e for e in mgps.OPERATORS if "image" in e.tags and "needs-weights" not in e.tags]


def operator_label(entry: Entry) -> str:
    return "Draw a mask (free-form inpainting)" if entry.name == "mask" else entry.label


def operator_params(entry: Entry) -> list[Param]:
    """The parameters of an operator that get a control."""
    return [
        p
        for p in entry.params
        if p.name not in _HIDDEN_OPERATOR_PARAMS and not isinstance(p.default, str)
    ]


# ---------------------------------------------------------------------------- priors
@dataclass(frozen=True)
class PriorChoice:
    name: str
    label: str
    available: bool
    why: str  # why it is unavailable (empty when available)
    tags: frozenset[str]


def _availability(entry: Entry) -> tuple[bool, str]:
    check = getattr(entry.obj, "available", None)
    if check is None:
        return True, ""
    try:
        ok = bool(check())
    except Exception as err:  # noqa: BLE001
        return False, f"cannot be checked ({err})"
    if ok:
        return True, ""
    if "hub" in entry.tags:
        return False, "a hub model that is not in the local cache and the app is offline"
    return False, "not trained yet (its folder holds no exported model)"


# priors of other kinds of data (an ECG prior is not an image prior); their tabs list them
NON_IMAGE_TAGS = frozenset({"ecg"})


def priors() -> list[PriorChoice]:
    """Every registered image prior (embedded ones first), with availability."""
    out = []
    for e in mgps.PRIORS:
        if e.tags & NON_IMAGE_TAGS:
            continue
        ok, why = _availability(e)
        out.append(PriorChoice(e.name, e.label, ok, why, e.tags))
    out.sort(key=lambda p: (0 if "embedded" in p.tags else 1, p.name != DEFAULT_PRIOR, p.name))
    return out


def _prior_shim(prior_name: str) -> Any:
    """Something with the capabilities of a prior, from its tags (no weights loaded)."""
    tags = mgps.PRIORS[prior_name].tags

    class _Shim:
        pass

    shim = _Shim()
    if "latent" in tags:
        shim.encode = shim.decode = lambda x: x  # type: ignore[attr-defined]
    return shim


def _operator_shim(operator_name: str) -> Any:
    """Something with the capabilities of an operator, from its tags (nothing built)."""
    tags = mgps.OPERATORS[operator_name].tags

    class _Shim:
        name = operator_name
        linear = "linear" in tags
        has_svd = "svd" in tags

    return _Shim()


# ---------------------------------------------------------------------------- samplers
def sampler_params(entry: Entry) -> list[Param]:
    return list(entry.params)


def app_default(sampler: str, param: Param, operator: str | None = None) -> Any:
    """The value a control starts at: the paper's per-task setting for ``operator`` if there
    is one, else the registry default, with CPU-friendly step counts."""
    if param.name == "num_steps":
        value = APP_STEPS.get(sampler, APP_STEPS_OTHERS)
        return int(min(value, param.high or value))
    if operator is not None:
        preset = task_defaults(sampler, operator)
        if param.name in preset:
            return preset[param.name]
    return param.default


def preset_params(sampler: str) -> set[str]:
    """Parameters of ``sampler`` that have a per-task setting for some degradation."""
    return {name for preset in TASK_DEFAULTS.get(sampler, {}).values() for name in preset}


def initial_values(sampler: str, operator: str) -> dict[str, Any]:
    entry = mgps.SAMPLERS[sampler]
    return {p.name: app_default(sampler, p, operator) for p in entry.params}


def incompatibility(sampler: str, operator: str, prior: str) -> str | None:
    """Why ``sampler`` cannot run on ``operator`` with ``prior`` (the library's message), or
    None when it can. Decided from capability tags, before anything is loaded."""
    try:
        require_prior(sampler, _prior_shim(prior))
        require_operator(sampler, _operator_shim(operator))
    except ValueError as err:
        return str(err)
    return None


def compatible_samplers(operator: str, prior: str) -> list[str]:
    return [n for n in mgps.SAMPLERS.names() if incompatibility(n, operator, prior) is None]


def sampler_choices(operator: str, prior: str) -> list[tuple[str, str]]:
    """``(label, name)`` pairs, the ones that cannot run marked with why, short."""
    out = []
    for e in mgps.SAMPLERS:
        why = incompatibility(e.name, operator, prior)
        label = e.label if why is None else f"{e.label} (can't run here)"
        out.append((label, e.name))
    out.sort(key=lambda c: (c[0].endswith("(can't run here)"), c[1] != DEFAULT_SAMPLER, c[1]))
    return out


# ---------------------------------------------------------------------------- examples
def examples() -> list[Path]:
    """The shipped example images (``assets/examples/*.png``)."""
    return sorted(EXAMPLES_DIR.glob("*.png"))
