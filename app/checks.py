"""Checks of what a user (or an API client) sends: whole numbers in a range, a sampler's or an
operator's parameters against their registry ``Param``, and the settings every sampling tab
shares. Each failure is a ``ValueError`` whose message names the value and what to change.

No gradio import here.
"""

from __future__ import annotations

import math
from typing import Any

import mgps
from mgps.pipeline import check_sigma_y

from . import catalog
from .limits import short

__all__ = ["int_in", "parse_bool", "clean_params", "check_common"]

TRUE = {"true", "1", "yes", "on"}
FALSE = {"false", "0", "no", "off"}


def int_in(name: str, value: Any, low: int, high: int) -> int:
    """``value`` as an int in ``[low, high]``, or a ``ValueError`` naming ``name``."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a whole number, got {value!r}") from None
    if not math.isfinite(number) or number != int(number):
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    if not low <= number <= high:
        raise ValueError(f"{name} must be between {low} and {high}; got {int(number)}")
    return int(number)


def parse_bool(name: str, value: Any) -> bool:
    """``value`` as a bool: a bool, 0 / 1, or a string such as ``"false"`` / ``"1"``;
    anything else is a ``ValueError`` naming ``name`` (``bool("false")`` would be True)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in TRUE | FALSE:
        return value.strip().lower() in TRUE
    raise ValueError(f"{name} must be true or false; got {short(value)}")


def clean_params(entry: mgps.Entry, values: dict[str, Any]) -> dict[str, Any]:
    """Drop unset values (None / empty), coerce ints, and check ranges with the registry."""
    out: dict[str, Any] = {}
    names = {p.name: p for p in entry.params}
    for name, value in values.items():
        if name not in names:
            raise ValueError(
                f"{entry.label} has no parameter {name!r}; its parameters are: {', '.join(names)}"
            )
        p = names[name]
        if value is None or (isinstance(value, str) and not value.strip()):
            if p.default is None:
                out[name] = None
            continue
        if isinstance(p.default, bool):
            value = parse_bool(f"{entry.label} {name}", value)
        elif isinstance(p.default, int):
            value = int_in(
                f"{entry.label} {name}",
                value,
                int(p.low if p.low is not None else -(2**31)),
                int(p.high if p.high is not None else 2**31),
            )
        elif isinstance(p.default, float) or p.default is None:
            try:
                value = float(value)
            except (TypeError, ValueError):
                raise ValueError(f"{entry.label} {name} must be a number, got {value!r}") from None
            if not math.isfinite(value):
                raise ValueError(f"{entry.label} {name} must be a finite number, got {value}")
        p.check(value)
        out[name] = value
    return out


def check_common(sigma_y: Any, num_samples: Any, seed: Any) -> tuple[float, int, int]:
    """σ_y, the number of samples and the seed, checked (in this order)."""
    sigma = check_sigma_y(sigma_y)
    n = int_in("the number of samples", num_samples, 1, catalog.MAX_SAMPLES)
    s = int_in("the seed", seed, 0, 2**31 - 1)
    return sigma, n, s
