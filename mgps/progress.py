"""Progress bars for long command-line runs (tqdm, on stderr): one over the cells of a table,
one over the steps of a sampler.

Bars show only when stderr is a terminal and the run is not ``--quiet``; lines printed while a
bar is up go through :func:`say`, so that they land above it instead of through it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from tqdm import tqdm

from .types import Step

__all__ = ["bars_wanted", "cell_bar", "say", "step_bar"]


def bars_wanted(quiet: bool = False) -> bool:
    """Whether to draw bars: not ``quiet`` and stderr is a terminal."""
    return not quiet and sys.stderr.isatty()


def cell_bar(total: int, *, enabled: bool, desc: str = "cells", position: int = 0) -> tqdm:
    """A bar over ``total`` cells of a table (``update(1)`` after each)."""
    return tqdm(
        total=total,
        desc=desc,
        unit="cell",
        disable=not enabled,
        file=sys.stderr,
        position=position,
        dynamic_ncols=True,
    )


@contextmanager
def step_bar(
    *, enabled: bool, desc: str = "steps", position: int = 1
) -> Iterator[Callable[[Step], None] | None]:
    """A bar over the steps of one sampler run: yields the ``on_step`` callback that
    :func:`mgps.sample` and :func:`mgps.pipeline.restore_stream` take (``None`` when
    disabled). The bar opens at the first step, which gives its length, and disappears when
    the run is done."""
    if not enabled:
        yield None
        return
    bars: list[tqdm] = []  # opened at the first step: a cell that does not sample shows none

    def on_step(step: Step) -> None:
        if not bars:
            bars.append(
                tqdm(
                    total=step.num_steps,
                    desc=desc,
                    unit="step",
                    leave=False,
                    file=sys.stderr,
                    position=position,
                    dynamic_ncols=True,
                )
            )
        bars[0].update(1)

    try:
        yield on_step
    finally:
        for bar in bars:
            bar.close()


def say(line: str) -> None:
    """Print a line on stdout above any bar that is up."""
    tqdm.write(line, file=sys.stdout)
