"""Strict reading of what an API client sends, before gradio decodes it: a name is one
string among the choices (a list where a name goes is an error naming the parameter), a
boolean is ``True``/``False`` (or ``"true"``/``"false"``/``"1"``/``"0"``, read as such;
anything else is an error), a number is a number; every message quotes the value cut to a
readable length.

:func:`harden` puts these checks in front of a ``gr.Blocks``' own preprocessing, and turns
whatever a client's input makes fail there into one short ``gr.Error`` logged at info,
without a traceback; faults of the app itself keep theirs (:func:`app.widgets.user_error`).
"""

from __future__ import annotations

import logging
import numbers
from typing import Any

import gradio as gr

from .checks import parse_bool
from .limits import MAX_NAME, cut, short

__all__ = ["parse_bool", "check_value", "harden", "refuse"]

log = logging.getLogger(__name__)

MAX_TEXT = 10_000  # characters of a text box


def refuse(message: str) -> gr.Error:
    """A client's mistake: a short ``gr.Error`` without a traceback, logged at info."""
    message = cut(message)
    log.info("refused: %s", message)
    return gr.Error(message, title="Cannot run this", print_exception=False)


def _choices(block: Any) -> list[Any]:
    return [value for _, value in getattr(block, "choices", None) or []]


def _one_choice(name: str, value: Any, choices: list[Any]) -> None:
    if isinstance(value, list | tuple | dict | set):
        raise ValueError(f"{name} takes one name (a string), not a {type(value).__name__}")
    if value not in choices:
        listed = ", ".join(map(str, choices))
        raise ValueError(f"{name} must be one of: {cut(listed, 200)}; got {short(value)}")


def check_value(block: Any, name: str, value: Any) -> Any:
    """``value`` for the input ``block`` (the parameter ``name``), checked; a bool is
    returned parsed. Raises ``ValueError``."""
    if value is None:
        return None
    if isinstance(block, gr.Checkbox):
        return parse_bool(name, value)
    if isinstance(block, gr.Dropdown | gr.Radio) and not getattr(block, "multiselect", False):
        if not getattr(block, "allow_custom_value", False):
            _one_choice(name, value, _choices(block))
        elif not isinstance(value, str | numbers.Number):
            raise ValueError(f"{name} takes one value, not a {type(value).__name__}")
    elif isinstance(block, gr.Dropdown | gr.CheckboxGroup):  # several names
        if not isinstance(value, list | tuple):
            raise ValueError(f"{name} takes a list of names; got {short(value)}")
        choices = _choices(block)
        for item in value:
            _one_choice(f"each item of {name}", item, choices)
    elif isinstance(block, gr.Number | gr.Slider):
        if isinstance(value, bool) or not isinstance(value, numbers.Number | str):
            raise ValueError(f"{name} must be a number; got {short(value)}")
        if isinstance(value, str):
            try:
                float(value)
            except ValueError:
                raise ValueError(f"{name} must be a number; got {short(value)}") from None
    elif isinstance(block, gr.Textbox):
        if not isinstance(value, str | numbers.Number):
            raise ValueError(f"{name} must be text; got a {type(value).__name__}")
        if len(str(value)) > MAX_TEXT:
            raise ValueError(f"{name} is {len(str(value))} characters long; at most {MAX_TEXT}")
    elif isinstance(block, gr.ImageEditor) and not isinstance(value, dict):
        raise ValueError(
            f"{name} must be an editor value: {{'background': <image file>, 'layers': [], "
            f"'composite': None}}; got a {type(value).__name__}"
        )
    return value


def _names(block_fn: Any) -> list[str]:
    named = list(getattr(block_fn, "input_parameter_names", None) or [])
    out = []
    for i, block in enumerate(block_fn.inputs):
        name = named[i] if i < len(named) and named[i] else None
        out.append(name or getattr(block, "label", None) or f"input {i}")
    return [n if len(n) <= MAX_NAME else n[:MAX_NAME] for n in out]


def harden(blocks: gr.Blocks) -> gr.Blocks:
    """Check every event's inputs (:func:`check_value`) before gradio preprocesses them, and
    answer a failure of the preprocessing itself (a value gradio cannot read) with a short
    message and no traceback. Returns ``blocks``."""
    preprocess = blocks.preprocess_data

    async def checked(block_fn: Any, inputs: list[Any], state: Any, *args: Any, **kw: Any):
        inputs = list(inputs)
        for i, (block, name) in enumerate(zip(block_fn.inputs, _names(block_fn), strict=False)):
            if i >= len(inputs) or block.stateful:
                continue
            if state is not None and block._id in state:
                block = state[block._id]  # the visitor's copy (its choices may have changed)
            try:
                inputs[i] = check_value(block, name, inputs[i])
            except ValueError as err:
                raise refuse(str(err)) from None
        try:
            return await preprocess(block_fn, inputs, state, *args, **kw)
        except gr.Error as err:
            if not err.print_exception:
                raise
            raise refuse(str(err.message)) from None
        except Exception as err:  # noqa: BLE001 - a value gradio could not read
            raise refuse(f"{type(err).__name__}: {err}") from None

    blocks.preprocess_data = checked  # type: ignore[method-assign]
    return blocks
