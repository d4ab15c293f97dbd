"""What the UI offers, read from the library's registries: image degradations, priors (with
whether they can load here, and which one the tabs start with), samplers with their
parameters, app defaults and limits, example images, and why a sampler × degradation × prior
combination cannot run (the library's own message).

No gradio import here; the tabs and ``widgets`` turn this into widgets.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mgps
from mgps.presets import TASK_DEFAULTS, settings
from mgps.registry import Entry, Param
from mgps.utils.assets import ASSETS_DIR

from .convert import MAX_MEGAPIXELS

__all__ = [
    "MAX_UPLOAD_MB",
    "MAX_MEGAPIXELS",
    "GPU_PRIOR",
    "default_prior",
    "prior_choice",
    "hidden_samplers_note",
    "Example",
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
    "examples",
    "initial_values",
    "preset_params",
    "LIMITS_TEXT",
]

MAX_STEPS = 1000
MAX_SAMPLES = 16
MAX_COMPARE = 6  # samplers in one comparison
MAX_UPLOAD_MB = 25  # the server refuses larger files; the page checks before uploading
DEFAULT_PRIOR = "digits"  # the tabs' prior on a CPU (embedded, offline)
GPU_PRIOR = "celebahq-256"  # ... and where a GPU is present and this hub prior loads
DEFAULT_OPERATOR = "mask"
DEFAULT_SAMPLER = "mgps"
DEFAULT_SAMPLES = 4

# operator parameters that are not numbers to set with a control (the drawn mask, a path)
_HIDDEN_OPERATOR_PARAMS = {"mask", "weights"}

EXAMPLES_DIR = ASSETS_DIR / "examples"

LIMITS_TEXT = (
    f"Limits: at most {MAX_STEPS} steps, {MAX_SAMPLES} samples, {MAX_COMPARE} samplers in a "
    f"comparison; uploads up to {MAX_UPLOAD_MB} MB and {MAX_MEGAPIXELS} megapixels (images are "
    "centre-cropped and resized to the prior's size)."
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


def prior_choice(name: str) -> PriorChoice:
    """The :class:`PriorChoice` of an image prior, or a ``ValueError`` naming the choices."""
    choices = priors()
    for p in choices:
        if p.name == name:
            return p
    raise ValueError(f"unknown prior {name!r}; choose among {', '.join(p.name for p in choices)}")


def default_prior() -> str:
    """The prior the tabs start with: the 256×256 face model (:data:`GPU_PRIOR`) where a GPU
    is present and that hub prior loads here (a GPU Space, whose hub priors are preloaded);
    the embedded digits elsewhere (a CPU runs them in seconds)."""
    from . import device

    if device.DEVICE.type == "cuda" and GPU_PRIOR in mgps.PRIORS:
        if prior_choice(GPU_PRIOR).available:
            return GPU_PRIOR
    return DEFAULT_PRIOR


# ---------------------------------------------------------------------------- samplers
def sampler_params(entry: Entry) -> list[Param]:
    return list(entry.params)


def app_default(sampler: str, param: Param, operator: str | None = None) -> Any:
    """The value a control starts at: the table of defaults' setting in the app's context
    (``mgps.presets.settings``: CPU-friendly steps, the per-task preset for ``operator``)."""
    value = settings(sampler, operator or DEFAULT_OPERATOR, "app").get(param.name, param.default)
    if param.name == "num_steps":
        return int(min(value, param.high or value))
    return value


def preset_params(sampler: str) -> set[str]:
    """Parameters of ``sampler`` that have a per-task setting for some degradation."""
    return {name for preset in TASK_DEFAULTS.get(sampler, {}).values() for name in preset}


def initial_values(sampler: str, operator: str) -> dict[str, Any]:
    entry = mgps.SAMPLERS[sampler]
    return {p.name: app_default(sampler, p, operator) for p in entry.params}


def incompatibility(sampler: str, operator: str, prior: str) -> str | None:
    """Why ``sampler`` cannot run on ``operator`` with ``prior`` (the library's message), or
    None when it can. Decided from registry tags (``mgps.compatibility``), before anything
    is loaded."""
    ok, reason = mgps.compatibility(sampler, prior, operator)
    return None if ok else reason


def prior_incompatibility(sampler: str, prior: str) -> str | None:
    """Why ``sampler`` cannot run with ``prior`` whatever the degradation, or None."""
    ok, reason = mgps.compatibility(sampler, prior)
    return None if ok else reason


def samplers_for_prior(prior: str) -> list[str]:
    """The samplers that can run with ``prior`` (the only ones the tabs offer)."""
    return mgps.compatible_samplers(prior)


def hidden_samplers_note(prior: str) -> str:
    """One line on the samplers not offered with ``prior`` and why ("" when all are)."""
    hidden = [e for e in mgps.SAMPLERS if prior_incompatibility(e.name, prior) is not None]
    if not hidden:
        return ""
    label = mgps.PRIORS[prior].label if prior in mgps.PRIORS else prior
    names = ", ".join(e.label for e in hidden)
    if "latent" in mgps.PRIORS[prior].tags:
        why = "they work on pixel-space priors only"
    else:
        latent = [e.label for e in mgps.PRIORS if "latent" in e.tags]
        why = "they need a latent diffusion prior" + (f" ({latent[0]})" if latent else "")
    return f"Not offered with {label}: {names}; {why}."


def sampler_choices(operator: str, prior: str) -> list[tuple[str, str]]:
    """``(label, name)`` pairs of the samplers that can run with ``prior``; those that cannot
    run this degradation are marked, short (the compatibility note says why)."""
    out = []
    for name in samplers_for_prior(prior):
        e = mgps.SAMPLERS[name]
        why = incompatibility(e.name, operator, prior)
        label = e.label if why is None else f"{e.label} (can't run here)"
        out.append((label, e.name))
    out.sort(key=lambda c: (c[0].endswith("(can't run here)"), c[1] != DEFAULT_SAMPLER, c[1]))
    return out


# ---------------------------------------------------------------------------- examples
def _label(stem: str) -> str:
    """``digit_3_1`` → ``digit 3``, ``fashion_2`` → ``clothes 2``."""
    parts = stem.split("_")
    if parts[0] == "digit" and len(parts) >= 2:
        return f"digit {parts[1]}"
    if parts[0] == "fashion":
        return "clothes " + " ".join(parts[1:])
    return stem.replace("_", " ")


@dataclass(frozen=True)
class Example:
    path: Path
    label: str


def examples(prior: str | None = None) -> list[Example]:
    """The shipped example images: 28×28 digits and clothes (``assets/examples/*.png``) and
    photographs (``assets/examples/photos/*.png``, sources and licences in ``SOURCES.md``);
    the photographs first when ``prior`` is not one of the 28×28 embedded priors."""
    small = [Example(p, _label(p.stem)) for p in sorted(EXAMPLES_DIR.glob("*.png"))]
    photos = [
        Example(p, p.stem.replace("_", " ") + " (photo)")
        for p in sorted((EXAMPLES_DIR / "photos").glob("*.png"))
    ]
    embedded = prior is None or "embedded" in mgps.PRIORS[prior].tags
    return small + photos if embedded else photos + small
