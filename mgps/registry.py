"""One small registry, used for samplers, operators and priors.

Each entry carries what a user interface needs (label, typed parameters with ranges) and
capability tags (e.g. ``requires-svd``), so the app and the tests discover everything from
the registry alone.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

__all__ = ["Param", "Entry", "Registry", "UnknownNameError", "SAMPLERS", "OPERATORS", "PRIORS"]


class UnknownNameError(KeyError, ValueError):
    """An unknown registry name; the message lists the valid ones. Both a ``KeyError`` (it is a
    lookup) and a ``ValueError`` (it is bad user input)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


T = TypeVar("T", bound=Callable[..., Any])


@dataclass(frozen=True)
class Param:
    """A tunable keyword argument, with what a slider or text box needs.

    ``default`` must equal the function's keyword default (a test checks this).
    ``choices`` lists the allowed values of a string parameter.
    """

    name: str
    default: float | int | str | bool | None
    low: float | None = None
    high: float | None = None
    step: float | None = None
    help: str = ""
    choices: tuple[str, ...] | None = None

    @property
    def kind(self) -> type:
        return type(self.default) if self.default is not None else float

    def parse(self, text: str) -> Any:
        """Parse a command-line value for this parameter, checking its range."""
        value = parse_value(text, self.kind)
        self.check(value)
        return value

    def check(self, value: Any) -> None:
        if value is None or isinstance(value, str | bool):
            if self.choices is not None and value not in self.choices:
                raise ValueError(
                    f"parameter {self.name!r} must be one of {', '.join(self.choices)}; got {value!r}"
                )
            return
        if (self.low is not None and value < self.low) or (
            self.high is not None and value > self.high
        ):
            raise ValueError(
                f"parameter {self.name!r} must lie in [{self.low}, {self.high}]; got {value}"
            )


def parse_value(text: str, kind: type) -> Any:
    """Parse ``text`` as ``kind`` (bool accepts true/false/1/0/yes/no; 'none' gives None)."""
    low = text.strip().lower()
    if low in ("none", "null"):
        return None
    if kind is bool:
        if low in ("1", "true", "yes", "on"):
            return True
        if low in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"expected true or false, got {text!r}")
    if kind is int:
        value = float(text)
        if value != int(value):
            raise ValueError(f"expected an integer, got {text!r}")
        return int(value)
    if kind is float:
        return float(text)
    return text


@dataclass(frozen=True)
class Entry(Generic[T]):
    """A registered object with its metadata."""

    name: str
    obj: T
    label: str
    params: tuple[Param, ...] = ()
    tags: frozenset[str] = field(default_factory=frozenset)
    reference: str = ""
    description: str = ""

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(
            f"{self.label} has no parameter {name!r}; its parameters are: "
            + ", ".join(p.name for p in self.params)
        )

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}

    def keyword_names(self) -> list[str]:
        """All keyword-only arguments of the registered callable (not only the UI params)."""
        sig = inspect.signature(self.obj)
        return [n for n, p in sig.parameters.items() if p.kind is inspect.Parameter.KEYWORD_ONLY]


class Registry(Generic[T]):
    """A name -> :class:`Entry` map with helpful errors.

    >>> r = Registry("thing")
    >>> @r.register("a", label="A")
    ... def a(): return 1
    >>> r["a"].obj()
    1
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, Entry[T]] = {}

    def register(
        self,
        name: str,
        *,
        label: str | None = None,
        params: Iterable[Param] = (),
        tags: Iterable[str] = (),
        reference: str = "",
        description: str = "",
    ) -> Callable[[T], T]:
        def decorator(obj: T) -> T:
            if name in self._entries:
                raise ValueError(f"{self.kind} {name!r} is already registered")
            self._entries[name] = Entry(
                name=name,
                obj=obj,
                label=label or name,
                params=tuple(params),
                tags=frozenset(tags),
                reference=reference,
                description=description or (inspect.getdoc(obj) or "").split("\n")[0],
            )
            return obj

        return decorator

    def __getitem__(self, name: str) -> Entry[T]:
        try:
            return self._entries[name]
        except KeyError:
            raise UnknownNameError(
                f"unknown {self.kind} {name!r}; choose one of: {', '.join(self.names())}"
            ) from None

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[Entry[T]]:
        return iter(self._entries[n] for n in self.names())

    def __len__(self) -> int:
        return len(self._entries)

    def names(self, *, with_tag: str | None = None, without_tag: str | None = None) -> list[str]:
        return sorted(
            n
            for n, e in self._entries.items()
            if (with_tag is None or with_tag in e.tags)
            and (without_tag is None or without_tag not in e.tags)
        )


SAMPLERS: Registry = Registry("sampler")
OPERATORS: Registry = Registry("operator")
PRIORS: Registry = Registry("prior")
