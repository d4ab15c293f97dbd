"""Tables as cells: spread over the processes of ``accelerate launch``, one file per finished
cell, resumed after a crash.

A table is a list of :class:`Cell` s (an image × operator × sampler, an instance × sampler, a
chunk of windows × sampler …). A cell computes its records from its own seeds alone, so neither
the process that runs it nor the order changes its numbers: N processes write what one writes.

:func:`run_cells` skips the cells whose file (``<out>/cells/<table>/<key>.json``) holds the same
``spec``, deals the others to the processes (accelerate's ``split_between_processes`` on a list
dealt like cards, so each process gets a mix of fast and slow cells), writes each cell's file
the moment it is done, waits for every process, and hands the main process all the records in
the table's own order; the table then writes its files as before. Without ``accelerate launch``
there is one process and the same code runs the cells one after the other.

    accelerate launch --num_processes 4 -m mgps images table --prior digits --images DIR --out DIR

The processes meet at two barriers and exchange no tensors, so they talk over gloo (the CPU
backend) whatever they sample on; each picks its GPU by its local index, as accelerate does.
On a machine without GPUs, ``accelerate launch --multi_gpu --num_processes N`` starts N CPU
processes (``accelerate launch --cpu`` alone starts one: accelerate runs several CPU processes
only through ``mpirun``).
"""

from __future__ import annotations

import json
import math
import os
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import torch

from ..devices import pick_device
from ..progress import bars_wanted, cell_bar, say, step_bar
from ..types import Step
from ..utils.files import atomic_write_text

__all__ = ["Cell", "deal", "launch_state", "process_device", "run_cells", "cell_dir"]

# How long a process waits at a barrier for the others: a table's processes can finish their
# shares hours apart, and gloo's default (30 minutes) would end the early ones.
BARRIER_TIMEOUT = timedelta(days=7)
_KEY = re.compile(r"[^A-Za-z0-9_.=+-]+")


@dataclass(frozen=True)
class Cell:
    """One cell of a table.

    Attributes:
        key: unique within the table; its file name (characters other than letters, digits and
            ``_.=+-`` become ``_``).
        spec: JSON values that fix the cell's numbers (its coordinates and the table's
            settings); a stored cell is reused only when its spec is the same.
    """

    key: str
    spec: dict[str, Any]

    @property
    def file_name(self) -> str:
        return _KEY.sub("_", self.key).strip("_") + ".json"


def launch_state():
    """accelerate's ``PartialState`` for this process (one process without a launcher).

    Says so on stderr when ``accelerate launch`` was asked for several processes but started
    one (``--cpu`` without ``mpirun``, or one GPU without ``--multi_gpu``).
    """
    from accelerate import PartialState

    threads = torch.get_num_threads()  # accelerate may change it for CPU processes
    state = PartialState(cpu=True, timeout=BARRIER_TIMEOUT)
    torch.set_num_threads(threads)
    if (
        state.num_processes == 1
        and "ACCELERATE_USE_CPU" in os.environ  # set by accelerate's one-process launcher,
        and "MASTER_PORT" in os.environ  # which sets this only when asked for several
        and not getattr(launch_state, "warned", False)
    ):
        launch_state.warned = True
        print(
            "note: accelerate launch started one process, which runs every cell: it starts "
            "several with --multi_gpu (implied on a machine with 2 or more GPUs; on a machine "
            "without GPUs it starts CPU processes) or, for --cpu, through mpirun. For N "
            "processes here: accelerate launch --multi_gpu --num_processes N …",
            file=sys.stderr,
        )
    return state


def process_device(spec: str | None = "auto") -> torch.device:
    """The device for this process: ``spec`` checked to exist (see
    :func:`mgps.devices.pick_device`); with several processes, ``auto`` and ``cuda`` give each
    process its own GPU (its local index, modulo the number of GPUs)."""
    pick_device(spec)  # a device that is not there fails before any process group forms
    state = launch_state()
    return pick_device(spec, index=state.local_process_index if state.num_processes > 1 else None)


def deal(items: Sequence[Any], hands: int) -> list[Any]:
    """``items`` reordered so that cutting the list into ``hands`` consecutive parts, as
    ``split_between_processes`` does, gives part p the items p, p + hands, p + 2·hands …"""
    return [items[i] for p in range(hands) for i in range(p, len(items), hands)]


def cell_dir(out_dir: str | Path, table: str) -> Path:
    """Where a table's cell files live: ``<out_dir>/cells/<table>/``."""
    return Path(out_dir) / "cells" / table


def _normal(spec: dict[str, Any]) -> str:
    return json.dumps(spec, sort_keys=True, default=_jsonable)


def _jsonable(value: Any) -> Any:
    if isinstance(value, torch.dtype):
        return str(value).removeprefix("torch.")
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _load(path: Path, spec_text: str) -> list[dict[str, Any]] | None:
    """The records of a finished cell whose spec matches, else ``None``."""
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    if _normal(stored.get("spec", {})) != spec_text:
        return None
    return stored.get("records")


def run_cells(
    out_dir: str | Path,
    table: str,
    cells: Sequence[Cell],
    compute: Callable[[Cell, Callable[[Step], None] | None], list[dict[str, Any]]],
    *,
    quiet: bool = False,
    log: Callable[[str], None] | None = say,
    describe: Callable[[Cell, list[dict[str, Any]]], str] | None = None,
) -> list[dict[str, Any]] | None:
    """Compute every cell of ``table`` that is not already in ``out_dir``, spread over the
    processes; return all the records, in the order of ``cells``, on the main process (and
    ``None`` on the others, which have nothing more to do).

    Args:
        out_dir: the table's output folder; cell files go to ``<out_dir>/cells/<table>/``.
        table: the table's name (``gmm_table`` …).
        cells: every cell, in the table's order.
        compute: ``compute(cell, on_step)`` returns the cell's records (JSON values);
            ``on_step`` is the sampler step bar's callback (or ``None``).
        quiet: no bars (they also stay away when stderr is not a terminal).
        log: where a line per finished cell goes (``None``: nowhere).
        describe: ``describe(cell, records)`` makes that line (default: the key and the first
            numbers of the first record).
    """
    keys = [c.file_name for c in cells]
    if len(set(keys)) != len(keys):
        dup = sorted({k for k in keys if keys.count(k) > 1})
        raise ValueError(f"{table}: two cells share the file name(s) {', '.join(dup)}")
    state = launch_state()
    folder = cell_dir(out_dir, table)
    folder.mkdir(parents=True, exist_ok=True)
    specs = {c.file_name: _normal(c.spec) for c in cells}
    done = {
        c.file_name for c in cells if _load(folder / c.file_name, specs[c.file_name]) is not None
    }
    todo = [c for c in cells if c.file_name not in done]
    # Every process has listed the finished cells before any of them writes a new one, so all
    # deal the same list.
    state.wait_for_everyone()
    many = state.num_processes > 1
    who = f"[{state.process_index + 1}/{state.num_processes}] " if many else ""
    if state.is_main_process and log is not None and done:
        log(f"{table}: {len(done)} of {len(cells)} cells already in {folder}, {len(todo)} to run")
    bars = bars_wanted(quiet) and state.is_local_main_process
    with state.split_between_processes(deal(todo, state.num_processes)) as mine:
        desc = f"{table} ({who.strip()} of {len(todo)})" if many else table
        with cell_bar(len(mine), enabled=bars, desc=desc) as bar:
            for cell in mine:
                start = time.perf_counter()
                with step_bar(enabled=bars, desc=cell.key) as on_step:
                    records = compute(cell, on_step)
                payload = {
                    "table": table,
                    "key": cell.key,
                    "spec": cell.spec,
                    "records": records,
                    "seconds": time.perf_counter() - start,
                    "process": state.process_index,
                    "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                }
                atomic_write_text(
                    folder / cell.file_name, json.dumps(payload, indent=1, default=_jsonable)
                )
                bar.update(1)
                if log is not None:
                    log(who + (describe or _summary)(cell, records))
    state.wait_for_everyone()
    if not state.is_main_process:
        return None
    records: list[dict[str, Any]] = []
    for cell in cells:
        got = _load(folder / cell.file_name, specs[cell.file_name])
        if got is None:
            raise RuntimeError(f"{table}: cell {cell.key!r} is missing from {folder} after the run")
        records.extend(got)
    return records


def _summary(cell: Cell, records: list[dict[str, Any]]) -> str:
    """A short line for a finished cell: its key and the first numbers of its first record."""
    key = cell.key
    if not records:
        return key
    shown = []
    for name, value in records[0].items():
        if isinstance(value, float) and name not in ("seconds",):
            shown.append(f"{name} {value:.4g}" if math.isfinite(value) else f"{name} –")
        if len(shown) == 3:
            break
    seconds = records[0].get("seconds")
    if isinstance(seconds, float) and math.isfinite(seconds) and seconds > 0:
        shown.append(f"{seconds:.1f} s")
    return f"{key}: " + ", ".join(shown)
