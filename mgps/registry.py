"""One small registry, used for samplers, operators and priors.

Each entry carries what a user interface needs (label, typed parameters with ranges) and
capability tags (e.g. ``svd``), so the app and the tests discover everything from the registry
alone. Facts are written once: a parameter's default is read from the registered function's
signature, and an operator's ``linear`` / ``nonlinear`` / ``svd`` tags from the class its
factory returns.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

__all__ = [
    "Param",
    "Entry",
    "Registry",
    "UnknownNameError",
    "operator_capabilities",
    "SAMPLERS",
    "OPERATORS",
    "PRIORS",
]


class UnknownNameError(KeyError, ValueError):
    """An unknown registry name; the message lists the valid ones. Both a ``KeyError`` (it is a
    lookup) and a ``ValueError`` (it is bad user input)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


T = TypeVar("T", bound=Callable[..., Any])


class _FromSignature:
    """The default of a :class:`Param` declared without one: registration fills it in."""

    def __repr__(self) -> str:
        return "<from the signature>"


FROM_SIGNATURE: Any = _FromSignature()


@dataclass(frozen=True)
class Param:
    """A tunable keyword argument, with what a slider or text box needs.

    Declared in a ``register(..., params=...)`` call, ``default`` is left out: registration
    reads it from the function's signature (a default that is given must agree with it).
    ``choices`` lists the allowed values of a string parameter.
    """

    name: str
    default: float | int | str | bool | None = FROM_SIGNATURE
    low: float | None = None
    high: float | None = None
    step: float | None = None
    help: str = ""
    choices: tuple[str, ...] | None = None

    @property
    def kind(self) -> type:
        unset = self.default is None or self.default is FROM_SIGNATURE
        return float if unset else type(self.default)

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


def bind_params(obj: Callable[..., Any], params: Iterable[Param], what: str) -> tuple[Param, ...]:
    """``params`` with their defaults read from ``obj``'s signature.

    Raises:
        ValueError: a parameter that ``obj`` does not take, has no default for, or whose
            declared default or range disagrees with the signature.
    """
    signature = inspect.signature(obj)
    bound = []
    for p in params:
        arg = signature.parameters.get(p.name)
        if arg is None or arg.default is inspect.Parameter.empty:
            raise ValueError(f"{what}: Param {p.name!r} is not a keyword argument with a default")
        if p.default is not FROM_SIGNATURE and p.default != arg.default:
            raise ValueError(
                f"{what}: Param {p.name!r} says default {p.default!r}, the signature "
                f"{arg.default!r}; leave the Param's default out (it is read from the signature)"
            )
        p = dataclasses.replace(p, default=arg.default)
        if isinstance(p.default, int | float) and not isinstance(p.default, bool):
            if (p.low is not None and p.default < p.low) or (
                p.high is not None and p.default > p.high
            ):
                raise ValueError(f"{what}: the default of {p.name!r} lies outside its range")
        bound.append(p)
    return tuple(bound)


CAPABILITY_TAGS = frozenset({"linear", "nonlinear", "svd"})


def operator_capabilities(factory: Callable[..., Any]) -> frozenset[str]:
    """``linear`` or ``nonlinear``, and ``svd``, read from the class ``factory`` is annotated to
    return (its ``linear`` and ``has_svd`` attributes)."""
    annotation = inspect.signature(factory).return_annotation
    if isinstance(annotation, str):  # postponed evaluation (`from __future__ import annotations`)
        annotation = eval(annotation, getattr(factory, "__globals__", {}))  # noqa: S307
    if not isinstance(annotation, type) or not hasattr(annotation, "linear"):
        raise TypeError(
            f"operator factory {getattr(factory, '__name__', factory)!r} must be annotated with "
            "the operator class it returns (-> SomeOperator), whose class attributes "
            "`linear` and `has_svd` give its capability tags"
        )
    tags = {"linear" if annotation.linear else "nonlinear"}
    if getattr(annotation, "has_svd", False):
        tags.add("svd")
    return frozenset(tags)


class Registry(Generic[T]):
    """A name -> :class:`Entry` map with helpful errors.

    Args:
        kind: what is registered ("sampler"), for messages.
        derived_tags: a function of the registered object giving tags that are facts of the
            object itself (for operators: :func:`operator_capabilities`); they are added to the
            entry's tags.
        derived_tag_names: every tag ``derived_tags`` can give; ``register(tags=...)`` may not
            write them.

    >>> r = Registry("thing")
    >>> @r.register("a", label="A")
    ... def a(): return 1
    >>> r["a"].obj()
    1
    """

    def __init__(
        self,
        kind: str,
        derived_tags: Callable[[Any], frozenset[str]] | None = None,
        derived_tag_names: Iterable[str] = (),
    ) -> None:
        self.kind = kind
        self._derived_tags = derived_tags
        self._derived_tag_names = frozenset(derived_tag_names)
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
            all_tags = frozenset(tags)
            if written := all_tags & self._derived_tag_names:
                raise ValueError(
                    f"{self.kind} {name!r}: the tags {sorted(written)} are read from the "
                    "object itself; do not write them in register()"
                )
            if self._derived_tags is not None:
                all_tags |= self._derived_tags(obj)
            self._entries[name] = Entry(
                name=name,
                obj=obj,
                label=label or name,
                params=bind_params(obj, params, f"{self.kind} {name!r}"),
                tags=all_tags,
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
OPERATORS: Registry = Registry(
    "operator", derived_tags=operator_capabilities, derived_tag_names=CAPABILITY_TAGS
)
PRIORS: Registry = Registry("prior")
