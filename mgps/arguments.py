"""Command-line values shared by the library's commands (:mod:`mgps.cli`) and the paper's
(:mod:`mgps.paper.cli`): ``--param NAME=VALUE`` for one sampler and ``--param
SAMPLER:NAME=VALUE`` for a table of samplers, typed by the registry; ``--device``, ``--dtype``
and ``--quiet`` for every command that samples."""

from __future__ import annotations

import argparse
import inspect
from typing import Any

from .devices import DEVICE_HELP, DTYPES
from .registry import SAMPLERS, Entry, parse_value
from .types import RUN_KEYWORDS

__all__ = ["add_run_arguments", "parse_params", "sampler_overrides"]


def add_run_arguments(
    parser: argparse.ArgumentParser, *, dtype: bool = True, quiet: bool = True
) -> None:
    """``--device`` (and ``--dtype`` for commands with network priors, ``--quiet`` for those
    with progress bars) on a command that samples."""
    parser.add_argument(
        "--device",
        default="auto",
        metavar="DEVICE",
        help=f"where to sample: {DEVICE_HELP} (default auto; under accelerate launch each "
        "process takes its own GPU)",
    )
    if dtype:
        parser.add_argument(
            "--dtype",
            default="float32",
            choices=list(DTYPES),
            help="precision of a network prior's weights (default float32; the samplers' own "
            "state stays in float32)",
        )
    if quiet:
        parser.add_argument(
            "--quiet",
            action="store_true",
            help="no progress bars or per-cell lines (bars also stay off when stderr is not a "
            "terminal)",
        )


_RESERVED = RUN_KEYWORDS


def parse_params(entry: Entry, pairs: list[str] | None) -> dict[str, Any]:
    """Turn ``["name=value", ...]`` into typed keyword arguments of a registered function.

    A name declared as a registry :class:`~mgps.registry.Param` is parsed and range-checked by
    it; any other keyword-only argument is parsed as the type of its default.
    """
    sig = inspect.signature(entry.obj)
    keywords = {n: p for n, p in sig.parameters.items() if p.kind is inspect.Parameter.KEYWORD_ONLY}
    out: dict[str, Any] = {}
    for pair in pairs or []:
        if "=" not in pair:
            raise ValueError(f"--param expects name=value, got {pair!r}")
        name, text = (s.strip() for s in pair.split("=", 1))
        if name not in keywords or name in _RESERVED:
            valid = ", ".join(n for n in keywords if n not in _RESERVED)
            raise ValueError(f"{entry.label} has no parameter {name!r}; valid parameters: {valid}")
        declared = next((p for p in entry.params if p.name == name), None)
        if declared is not None:
            out[name] = declared.parse(text)
        else:
            default = keywords[name].default
            out[name] = parse_value(text, type(default) if default is not None else float)
    return out


def sampler_overrides(items: list[str] | None) -> dict[str, dict[str, Any]]:
    """Turn ``["sampler:name=value", ...]`` into ``{sampler: {name: value}}`` (for tables)."""
    overrides: dict[str, dict[str, Any]] = {}
    for item in items or []:
        name, _, rest = item.partition(":")
        if not rest:
            raise ValueError(f"--param for a table expects sampler:name=value, got {item!r}")
        overrides.setdefault(name, {}).update(parse_params(SAMPLERS[name], [rest]))
    return overrides
