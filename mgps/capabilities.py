"""Which samplers can run which prior and operator, and why not: the rule, written once.

A sampler's registry tags say what it needs: ``pixel`` and/or ``latent`` (the kinds of prior
it runs on) and ``requires-linear``, ``requires-svd`` or ``requires-svd-when-linear`` (what it
asks of the operator). A prior is latent when it has ``encode`` and ``decode`` (a registered
latent prior carries the tag ``latent``); an operator is linear and has an SVD by its
``linear`` and ``has_svd`` attributes (a registered operator's ``linear`` and ``svd`` tags are
read from the same attributes). So the same rule answers for registered names, before anything
is loaded (a menu of samplers), and for the objects a sampler is given (its own check).

    >>> import mgps
    >>> mgps.compatibility("mgps", "digits", "jpeg")
    Compatibility(ok=True, reason='')
    >>> ok, reason = mgps.compatibility("ddnm", "digits", "jpeg")
    >>> ok, reason.split(";")[0]
    (False, 'DDNM+ needs a linear operator')
    >>> mgps.compatible_samplers("ldm-celebahq-256", "box")
    ['daps', 'dps', 'mgps', 'pnpdm', 'psld', 'resample']
"""

from __future__ import annotations

from typing import Any, NamedTuple

from .operators.base import has_svd
from .registry import OPERATORS, PRIORS, SAMPLERS

__all__ = [
    "Compatibility",
    "compatibility",
    "compatible_samplers",
    "is_latent",
    "operator_supports",
    "prior_refusal",
    "operator_refusal",
]


class Compatibility(NamedTuple):
    """Whether a sampler can run a prior and an operator, and if not, why (a sentence that
    names the samplers that can). Unpacks as ``ok, reason``; true when ``ok``."""

    ok: bool
    reason: str

    def __bool__(self) -> bool:
        return self.ok


def is_latent(prior: Any) -> bool:
    """Whether ``prior`` (a prior, or a registered prior's name) diffuses in a latent space:
    it has ``encode`` and ``decode`` (a registered one: the tag ``latent``)."""
    if isinstance(prior, str):
        return "latent" in PRIORS[prior].tags
    return callable(getattr(prior, "decode", None)) and callable(getattr(prior, "encode", None))


def _operator_facts(operator: Any) -> tuple[str, bool, bool]:
    """``(name, linear, svd)`` of an operator or a registered operator's name."""
    if isinstance(operator, str):
        tags = OPERATORS[operator].tags
        return operator, "linear" in tags, "svd" in tags
    name = getattr(operator, "name", type(operator).__name__)
    return name, bool(getattr(operator, "linear", False)), has_svd(operator)


def _supports(tags: frozenset[str], linear: bool, svd: bool) -> bool:
    """The operator rule: what a sampler with capability ``tags`` asks of an operator."""
    if "requires-svd" in tags and not svd:
        return False
    if "requires-linear" in tags and not linear:
        return False
    if "requires-svd-when-linear" in tags and linear and not svd:
        return False
    return True


def _kind_ok(tags: frozenset[str], latent: bool) -> bool:
    """The prior rule: a sampler runs on the kinds of prior its tags name."""
    return ("latent" if latent else "pixel") in tags


def operator_supports(tags: frozenset[str], operator: Any) -> bool:
    """Whether a sampler with capability ``tags`` can run with ``operator`` (an operator or a
    registered operator's name)."""
    _, linear, svd = _operator_facts(operator)
    return _supports(tags, linear, svd)


def prior_refusal(sampler: str, prior: Any) -> str | None:
    """Why the registered ``sampler`` cannot run with ``prior`` (a prior or a registered
    prior's name), or None when it can."""
    entry = SAMPLERS[sampler]
    latent = is_latent(prior)
    if _kind_ok(entry.tags, latent):
        return None
    if latent:
        able = ", ".join(SAMPLERS.names(with_tag="latent"))
        return (
            f"{entry.label} works on pixel-space priors; this prior is a latent diffusion "
            f"model. Samplers for latent priors: {able}."
        )
    able = ", ".join(SAMPLERS.names(with_tag="pixel"))
    return (
        f"{entry.label} needs a latent diffusion prior (with an encoder and a decoder). "
        f"Samplers for this prior: {able}."
    )


def operator_refusal(sampler: str, operator: Any, *, latent: bool = False) -> str | None:
    """Why the registered ``sampler`` cannot run with ``operator`` (an operator or a registered
    operator's name), or None when it can. The samplers the message offers instead are those
    for a latent prior when ``latent``, for a pixel-space prior otherwise."""
    entry = SAMPLERS[sampler]
    name, linear, svd = _operator_facts(operator)
    if _supports(entry.tags, linear, svd):
        return None
    if "requires-svd" in entry.tags:
        need = "a linear operator with a singular value decomposition"
    elif "requires-svd-when-linear" in entry.tags:
        need = "a singular value decomposition for linear operators (e.g. gaussian_blur_svd instead of gaussian_blur)"
    else:
        need = "a linear operator"
    why = "is nonlinear" if not linear else "has no SVD"
    able = [e.name for e in SAMPLERS if _kind_ok(e.tags, latent) and _supports(e.tags, linear, svd)]
    return (
        f"{entry.label} needs {need}; {name!r} {why}. Samplers that can run it: {', '.join(able)}."
    )


def compatibility(sampler: str, prior: Any, operator: Any = None) -> Compatibility:
    """Whether the registered ``sampler`` can run ``prior`` with ``operator``, and why not.

    Args:
        sampler: a registered sampler name.
        prior: a registered prior name (decided from its tags, nothing loaded) or a prior.
        operator: a registered operator name, an operator, or None (the prior alone).

    Raises:
        UnknownNameError: an unknown sampler, prior or operator name (the message lists them).
    """
    reason = prior_refusal(sampler, prior)
    if reason is None and operator is not None:
        reason = operator_refusal(sampler, operator, latent=is_latent(prior))
    return Compatibility(reason is None, reason or "")


def compatible_samplers(prior: Any, operator: Any = None) -> list[str]:
    """The registered samplers that can run ``prior`` with ``operator`` (names or objects, as
    for :func:`compatibility`; ``operator=None``: the prior alone), sorted by name."""
    return [name for name in SAMPLERS.names() if compatibility(name, prior, operator).ok]
