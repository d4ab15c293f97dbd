"""The command-line convention of every ``mgps`` command (:mod:`mgps.cli`, :mod:`mgps.paper.cli`)
and of ``scripts/``, written once here:

* per-sampler settings in one grammar, for a command that runs one sampler and for a table of
  many: ``--steps K`` or ``--steps SAMPLER=K`` (:func:`steps_item`), ``--param NAME=VALUE`` or
  ``--param SAMPLER:NAME=VALUE`` (:func:`param_item`), both repeatable; without a sampler the
  setting is for every sampler the command runs (that has the parameter), a named one wins
  over it; ``--param`` values are typed and range-checked by the registry;
* one device option, ``--device auto|cpu|cuda|cuda:N|mps`` (:func:`add_device_argument`), with
  ``--dtype`` and ``--quiet`` beside it for commands that sample (:func:`add_run_arguments`);
* a count says what it counts (``--n-images``, ``--n-samples``, ``--n-seeds``); a plural name
  without ``n-`` is a list (``--samplers mgps,dps``, ``--seeds 0 1 2``).

``tests/test_cli_convention.py`` walks every command's and script's parser against it.
"""

from __future__ import annotations

import argparse
import inspect
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .devices import DEVICE_HELP, DTYPES, check_device_name
from .registry import SAMPLERS, Entry, parse_value
from .types import RUN_KEYWORDS

__all__ = [
    "Setting",
    "add_device_argument",
    "add_param_argument",
    "add_run_arguments",
    "add_steps_argument",
    "device_name",
    "param_item",
    "params_for",
    "parse_params",
    "sampler_overrides",
    "steps_by_sampler",
    "steps_for",
    "steps_item",
]


def device_name(text: str) -> str:
    """The ``--device`` value, checked for its form (whether the device is there is checked
    when it is used: :func:`mgps.devices.pick_device`)."""
    try:
        return check_device_name(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_device_argument(parser: argparse.ArgumentParser, *, default: str = "auto") -> None:
    """The one ``--device`` option."""
    parser.add_argument(
        "--device",
        default=default,
        type=device_name,
        metavar="DEVICE",
        help=f"where to run: {DEVICE_HELP} (default {default}; under accelerate launch each "
        "process takes its own GPU)",
    )


def add_run_arguments(
    parser: argparse.ArgumentParser, *, dtype: bool = True, quiet: bool = True
) -> None:
    """``--device`` (and ``--dtype`` for commands with network priors, ``--quiet`` for those
    with progress bars) on a command that samples."""
    add_device_argument(parser)
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


@dataclass(frozen=True)
class Setting:
    """One ``--steps`` or ``--param`` item: ``value`` of ``name`` for ``sampler``, or (``sampler``
    None) for every sampler the command runs."""

    sampler: str | None
    name: str
    value: str
    text: str  # as typed, for messages


def steps_item(text: str) -> Setting:
    """``K`` or ``SAMPLER=K``: the number of diffusion steps (a whole number; its range is the
    sampler's to check)."""
    sampler, _, value = text.rpartition("=")
    try:
        int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--steps expects K or SAMPLER=K with K a whole number, got {text!r}"
        ) from None
    return Setting(sampler.strip() or None, "num_steps", value.strip(), text)


def param_item(text: str) -> Setting:
    """``NAME=VALUE`` or ``SAMPLER:NAME=VALUE`` (typed later, by the sampler's parameter)."""
    left, sep, value = text.partition("=")
    sampler, _, name = left.rpartition(":")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(
            f"--param expects NAME=VALUE or SAMPLER:NAME=VALUE, got {text!r}"
        )
    return Setting(sampler.strip() or None, name.strip(), value.strip(), text)


def add_steps_argument(parser: argparse.ArgumentParser, *, help: str) -> None:
    """The one ``--steps`` option: ``K`` for every sampler, ``SAMPLER=K`` for one (repeatable)."""
    parser.add_argument(
        "--steps",
        action="append",
        type=steps_item,
        metavar="[SAMPLER=]K",
        help=help + " (K: every sampler; SAMPLER=K: that one; repeatable)",
    )


def add_param_argument(parser: argparse.ArgumentParser, *, help: str) -> None:
    """The one ``--param`` option: ``NAME=VALUE`` for every sampler, ``SAMPLER:NAME=VALUE`` for
    one (repeatable)."""
    parser.add_argument(
        "--param",
        action="append",
        type=param_item,
        metavar="[SAMPLER:]NAME=VALUE",
        help=help + " (SAMPLER: only that sampler; repeatable)",
    )


def _for_one(items: list[Setting] | None, sampler: str) -> list[Setting]:
    """The items that apply to ``sampler`` (the command runs only it), bare ones first so that a
    named one wins; an item naming another sampler is refused."""
    for item in items or []:
        if item.sampler is not None and item.sampler != sampler:
            raise ValueError(
                f"{item.text!r} names the sampler {item.sampler!r}, but this command runs "
                f"{sampler!r}; drop the prefix or name {sampler!r}"
            )
    return sorted(items or [], key=lambda item: item.sampler is not None)


def steps_for(items: list[Setting] | None, sampler: str, default: int | None = None) -> int | None:
    """The ``--steps`` of a command that runs one ``sampler`` (``default`` when none is given)."""
    chosen = _for_one(items, sampler)
    return int(chosen[-1].value) if chosen else default


def params_for(entry: Entry, items: list[Setting] | None) -> dict[str, Any]:
    """The ``--param`` items of a command that runs one registered sampler, typed."""
    return parse_params(entry, [f"{i.name}={i.value}" for i in _for_one(items, entry.name)])


def steps_by_sampler(items: list[Setting] | None) -> tuple[dict[str, int], int | None]:
    """The ``--steps`` of a table: ``({sampler: K}, K for every other sampler or None)``."""
    named: dict[str, int] = {}
    others = None
    for item in items or []:
        if item.sampler is None:
            others = int(item.value)
        else:
            SAMPLERS[item.sampler]  # an unknown sampler fails here, with the registry's message
            named[item.sampler] = int(item.value)
    return named, others


def sampler_overrides(
    items: list[Setting] | None, samplers: Iterable[str] | None = None
) -> dict[str, dict[str, Any]]:
    """The ``--param`` items of a table as ``{sampler: {name: value}}``: a bare ``NAME=VALUE``
    goes to every sampler of ``samplers`` (default: every registered one) that takes ``NAME``,
    a ``SAMPLER:NAME=VALUE`` to that sampler, and wins."""
    names = list(SAMPLERS.names() if samplers is None else samplers)
    overrides: dict[str, dict[str, Any]] = {}
    for item in sorted(items or [], key=lambda item: item.sampler is not None):
        if item.sampler is not None:
            targets = [item.sampler]
        else:
            targets = [n for n in names if item.name in _keywords(SAMPLERS[n])]
            if not targets:
                raise ValueError(f"no sampler here has a parameter {item.name!r} ({item.text!r})")
        for name in targets:
            pair = f"{item.name}={item.value}"
            overrides.setdefault(name, {}).update(parse_params(SAMPLERS[name], [pair]))
    return overrides


def _keywords(entry: Entry) -> set[str]:
    sig = inspect.signature(entry.obj)
    return {n for n, p in sig.parameters.items() if p.kind is inspect.Parameter.KEYWORD_ONLY}
