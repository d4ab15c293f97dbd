"""The ECG benchmark (paper §4 and Appendix D.5, Tables 4 and 14; docs/algorithms.md §9): MAE/RMSE on held-out windows.

    python -m mgps ecg table --out results/ecg_table                # default: 20 windows × 4 samples
    python -m mgps ecg table --out runs/ecg_paper --n-windows 200 --n-samples 10   # paper-sized

For each task — ``missing_block`` (the second half of the 2.56-s window missing on all leads,
i.e. forecasting) and ``missing_leads`` (observe lead I only) — and each sampler that applies,
held-out test windows x* are observed as y = A x* + σ_y ε (σ_y = 0.05, docs/algorithms.md §3) and every
sampler draws ``num_samples`` posterior samples per window with the paper's step counts
(Table 14: MGPS 50, DPS 400, PGDM 200, DDNM 200, DiffPIR 500, RedDiff 400).

Metrics, per window, each sample against x*, then averaged over the samples (as the paper,
and, as the third author's later ECG code does, over the missing entries only):

* ``mae`` / ``rmse``: over the missing entries of the 9 modelled leads;
* ``mae12`` / ``rmse12`` (missing leads): over the 11 leads of the rebuilt 12-lead ECG other
  than lead I (aVR, aVL, aVF from :func:`mgps.ecg.leads.twelve_leads`);
* ``mae_mean``: MAE of the average of the samples (the posterior-mean estimate).

The table reports mean ± a 95 % Student-t half-width over windows, and seconds per window
(all of a window's samples). Windows are batched: every sampler runs once per task on a batch
of ``num_windows × num_samples`` chains (the samples of one window share its observation), so
the seconds are amortised. A reference row ``zero-fill`` (A⁺y: observed entries kept, zeros,
the baseline level, elsewhere) calibrates the scale. A sampler that diverges is counted and
left out, not hidden.

Differences from the paper: both tasks use 2.56-s windows (9×256), the length the prior models
(the paper's ML task uses the full 10-s ECG zero-padded to 9×1024 with a second, 10-s prior);
MGPS uses the ECG settings (those of the third author's later ECG code) of :data:`ECG_DEFAULTS` with the paper's Algorithm-3 warm start.
Units are those of the data (neurokit's "mV-like" units, about 1.6 peak-to-peak per lead).
The paper's ML metric is a classifier's balanced accuracy on PTB-XL conditions, which has no
meaning for these synthetic ECGs; MAE/RMSE on the rebuilt 12 leads is reported instead.
"""

from __future__ import annotations

import json
import math
import platform
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..capabilities import compatibility
from ..ecg.data import load_ecg_data
from ..ecg.tasks import ECG_DEFAULTS, PAPER_STEPS, TASKS, sampler_kwargs, window_metrics
from ..metrics import t_interval
from ..progress import say
from ..registry import OPERATORS, SAMPLERS
from ..samplers.common import sample
from ..types import DEFAULT_SIGMA_Y, InverseProblem, SamplerDivergedError
from .cells import Cell, launch_state, process_device, run_cells

__all__ = [
    "PAPER_STEPS",
    "ECG_DEFAULTS",
    "TASKS",
    "DEFAULT_SAMPLERS",
    "table",
    "sampler_kwargs",
    "select_windows",
    "window_metrics",
]

DEFAULT_SAMPLERS: tuple[str, ...] = tuple(PAPER_STEPS)


def select_windows(is_test: np.ndarray, record: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Indices of ``n`` test windows, spread over as many test records as possible (seeded):
    one random window per record in a random record order, then a second round, and so on."""
    rng = np.random.default_rng(seed)
    test_idx = np.flatnonzero(is_test)
    if n > len(test_idx):
        raise ValueError(f"asked for {n} windows but the data have {len(test_idx)} test windows")
    by_record: dict[int, list[int]] = {}
    for i in rng.permutation(test_idx):
        by_record.setdefault(int(record[i]), []).append(int(i))
    order = list(rng.permutation(sorted(by_record)))
    chosen: list[int] = []
    depth = 0
    while len(chosen) < n:
        for r in order:
            if depth < len(by_record[r]) and len(chosen) < n:
                chosen.append(by_record[r][depth])
        depth += 1
    return np.asarray(sorted(chosen))


def _supports(name: str, operator: Any) -> bool:
    return compatibility(name, "ecg", operator).ok  # the ECG prior is a pixel-space one


def table(
    out_dir: str | Path,
    *,
    prior: Any = "ecg",
    data_path: str | Path | None = None,
    num_windows: int = 20,
    num_samples: int = 4,
    samplers: Sequence[str] | None = None,
    tasks: Sequence[str] = tuple(TASKS),
    overrides: dict[str, dict[str, Any]] | None = None,
    sigma_y: float = DEFAULT_SIGMA_Y,
    seed: int = 0,
    chunk_windows: int | None = None,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float32,
    quiet: bool = False,
    log: Callable[[str], None] | None = say,
) -> dict[str, Any] | None:
    """Run the benchmark; write ``ecg_table.json`` and ``ecg_table.md`` in ``out_dir``.

    Args:
        out_dir: output folder (created).
        prior: a registered prior name (``"ecg"``) or an :class:`~mgps.ecg.prior.EcgPrior`.
        data_path: the ``.npz`` data (default ``assets/ecg/ecg_windows.npz``); test windows are
            cropped to the prior's length if they are longer.
        num_windows: held-out test windows.
        num_samples: posterior samples per window.
        samplers: subset of :data:`DEFAULT_SAMPLERS` (or any pixel sampler); default all six.
        tasks: subset of :data:`TASKS`.
        overrides: per-sampler keyword overrides, e.g. ``{"mgps": {"num_steps": 300}}``.
        sigma_y: observation noise.
        seed: seeds the window choice, the observation noise and the samplers.
        chunk_windows: windows per sampler call (default: all at once); a chunk of windows ×
            a sampler is a cell, the unit spread over the processes of ``accelerate launch``.
        device: where the prior samples (a name is checked by
            :func:`mgps.paper.cells.process_device`).
        dtype: the network's dtype (a prior given by name).
        quiet: no progress bars.
        log: a line per finished cell (``None``: silent).

    Returns:
        ``{"config", "summary", "records"}`` (also written as JSON) on the main process,
        ``None`` on the others. The cells are kept in ``out_dir/cells/ecg_table/``: a rerun
        resumes.
    """
    device = process_device(device) if isinstance(device, str) else torch.device(device)
    prior, prior_name = _prior(prior, device, dtype)
    samplers = list(samplers or DEFAULT_SAMPLERS)
    _check(num_windows, num_samples, samplers, tasks)
    overrides = overrides or {}
    data = load_ecg_data(data_path)
    length = int(prior.shape[-1])
    if data.windows.shape[-1] < length:
        raise ValueError(
            f"the prior generates {length} samples per lead but the data windows have "
            f"{data.windows.shape[-1]}"
        )
    idx = select_windows(data.is_test, data.record, num_windows, seed)
    x_all = torch.from_numpy(data.windows[idx][..., :length]).to(prior.dtype)
    chunk = chunk_windows or num_windows
    common = {
        "prior": prior_name,
        "data": str(data_path or "default"),
        "windows": [int(i) for i in idx],
        "num_samples": num_samples,
        "sigma_y": sigma_y,
        "seed": seed,
        "dtype": str(dtype),
    }
    cells, skipped = _cells(prior, common, tasks, samplers, overrides, num_windows, chunk)
    bench = _Benchmark(prior, x_all, idx, num_samples, sigma_y, seed)
    records = run_cells(
        out_dir, "ecg_table", cells, bench.compute, quiet=quiet, log=log, describe=bench.describe
    )
    if records is None:
        return None
    summary = summarise(records, tasks, ["zero-fill", *samplers])
    info = getattr(prior, "info", {}) or {}
    config = {
        "prior": prior_name,
        "prior_training_step": info.get("training", {}).get("step"),
        "prior_shape": list(prior.shape),
        "data": str(data_path or "assets/ecg/ecg_windows.npz"),
        "windows": [int(i) for i in idx],
        "num_windows": num_windows,
        "num_samples": num_samples,
        "sigma_y": sigma_y,
        "seed": seed,
        "tasks": {t: {"operator": TASKS[t][0], "params": TASKS[t][1]} for t in tasks},
        "sampler_kwargs": {n: sampler_kwargs(n, overrides.get(n)) for n in samplers},
        "skipped": skipped,
        "chunk_windows": chunk,
        "device": str(device),
        "dtype": str(dtype).replace("torch.", ""),
        "processes": launch_state().num_processes,
        "torch_threads": torch.get_num_threads(),
        "machine": platform.processor() or platform.machine(),
    }
    result = {"config": config, "summary": summary, "records": records}
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "ecg_table.json").write_text(json.dumps(result, indent=1, default=float))
    (out / "ecg_table.md").write_text(markdown(summary, tasks, ["zero-fill", *samplers], config))
    return result


def _prior(prior: Any, device: torch.device, dtype: torch.dtype) -> tuple[Any, str]:
    """The prior on ``device`` (loaded when given by name) and its name."""
    if isinstance(prior, str):
        from ..priors.loading import load_prior

        return load_prior(prior, device=device, dtype=dtype), prior
    prior_name = getattr(prior, "name", type(prior).__name__)
    prior = prior.to(device=device, dtype=dtype) if hasattr(prior, "to") else prior
    return prior, prior_name


def _check(num_windows: int, num_samples: int, samplers: list[str], tasks: Sequence[str]) -> None:
    """Refuse, by name, what the table cannot run."""
    if num_windows < 1 or num_samples < 1:
        raise ValueError(
            f"need at least one window and one sample, got {num_windows}, {num_samples}"
        )
    for name in samplers:
        SAMPLERS[name]
    for task in tasks:
        if task not in TASKS:
            raise ValueError(f"unknown ECG task {task!r}; choose among {', '.join(TASKS)}")


def _cells(
    prior: Any,
    common: dict[str, Any],
    tasks: Sequence[str],
    samplers: Sequence[str],
    overrides: dict[str, dict[str, Any]],
    num_windows: int,
    chunk: int,
) -> tuple[list[Cell], list[str]]:
    """Every cell of the table, in its order (per task: the zero-fill row, then each sampler
    that applies, a chunk of windows at a time), and the ``sampler×task`` pairs left out."""
    cells: list[Cell] = []
    skipped: list[str] = []
    for task in tasks:
        op_name, op_params = TASKS[task]
        operator = OPERATORS[op_name].obj(tuple(prior.shape), **op_params)
        cells.append(Cell(f"{task}-zero-fill", {**common, "task": task, "sampler": None}))
        for name in samplers:
            if not _supports(name, operator):
                skipped.append(f"{name}×{task}")
                continue
            kwargs = sampler_kwargs(name, overrides.get(name))
            for c0 in range(0, num_windows, chunk):
                c1 = min(num_windows, c0 + chunk)
                spec = {
                    **common,
                    "task": task,
                    "sampler": name,
                    "kwargs": kwargs,
                    "chunk": [c0, c1],
                }
                cells.append(Cell(f"{task}-{name}-windows{c0}-{c1 - 1}", spec))
    return cells, skipped


class _Benchmark:
    """The held-out windows ``x_all`` (indices ``idx`` in the data) and how one cell is
    computed on them: observed once per task (seeded), sampled a chunk of windows at a time."""

    def __init__(
        self,
        prior: Any,
        x_all: torch.Tensor,
        idx: np.ndarray,
        num_samples: int,
        sigma_y: float,
        seed: int,
    ) -> None:
        self.prior, self.x_all, self.idx = prior, x_all, idx
        self.num_samples, self.sigma_y, self.seed = num_samples, sigma_y, seed
        self._observed: dict[str, tuple[Any, torch.Tensor, torch.Tensor]] = {}

    def observe(self, task: str) -> tuple[Any, torch.Tensor, torch.Tensor]:
        """The task's operator, missing mask, and observations of every window (once)."""
        if task not in self._observed:
            prior, x_all, num_windows = self.prior, self.x_all, len(self.idx)
            op_name, op_params = TASKS[task]
            operator = OPERATORS[op_name].obj(tuple(prior.shape), **op_params)
            g = torch.Generator().manual_seed(self.seed + 17)
            y_all = operator.A(x_all) + self.sigma_y * torch.randn(
                (num_windows, operator.y_dim), generator=g, dtype=x_all.dtype
            )
            self._observed[task] = (operator, operator.missing_mask(), y_all)
        return self._observed[task]

    def compute(self, cell: Cell, on_step) -> list[dict[str, Any]]:
        """One cell's records: a row per window (zero-fill, or a sampler on a chunk)."""
        prior, x_all, idx = self.prior, self.x_all, self.idx
        num_windows, num_samples = len(idx), self.num_samples
        sigma_y, seed = self.sigma_y, self.seed
        task, name = cell.spec["task"], cell.spec["sampler"]
        operator, missing, y_all = self.observe(task)
        if name is None:  # A⁺y: observed entries kept, zeros (the baseline) elsewhere
            zero_fill = operator.A_pinv(y_all)
            return [
                {
                    "task": task,
                    "sampler": "zero-fill",
                    "window": int(idx[w]),
                    **window_metrics(zero_fill[w : w + 1], x_all[w], missing, task),
                    "seconds": 0.0,
                    "failed": "",
                }
                for w in range(num_windows)
            ]
        c0, c1 = cell.spec["chunk"]
        y = y_all[c0:c1].repeat_interleave(num_samples, dim=0)
        problem = InverseProblem(operator, y, sigma_y)
        start = time.perf_counter()
        failed = ""
        try:
            x = sample(
                name,
                prior,
                problem,
                num_samples=len(y),
                generator=torch.Generator().manual_seed(seed + 1000 + c0),
                on_step=on_step,
                **cell.spec["kwargs"],
            ).cpu()
        except SamplerDivergedError as exc:
            failed = str(exc)
        seconds = (time.perf_counter() - start) / (c1 - c0)
        rows = []
        for w in range(c0, c1):
            if failed:
                m = {k: math.nan for k in ("mae", "rmse", "mae_mean")}
            else:
                m = window_metrics(
                    x[(w - c0) * num_samples : (w - c0 + 1) * num_samples],
                    x_all[w],
                    missing,
                    task,
                )
            rows.append(
                {
                    "task": task,
                    "sampler": name,
                    "window": int(idx[w]),
                    **m,
                    "seconds": seconds,
                    "failed": failed,
                }
            )
        return rows

    @staticmethod
    def describe(cell: Cell, rows: list[dict[str, Any]]) -> str:
        """The line logged when a cell is done."""
        head = f"{rows[0]['task']:14s} {rows[0]['sampler']:8s} "
        if cell.spec["sampler"] is None:
            return head + f"MAE {np.mean([r['mae'] for r in rows]):.4f}"
        c0, c1 = cell.spec["chunk"]
        if rows[0]["failed"]:
            return head + f"windows {c0}-{c1 - 1}: FAILED {rows[0]['failed'][:80]}"
        return (
            head + f"windows {c0}-{c1 - 1}: MAE {np.mean([r['mae'] for r in rows]):.4f} "
            f"({rows[0]['seconds']:.1f} s/window)"
        )


def summarise(
    records: list[dict[str, Any]], tasks: Sequence[str], samplers: Sequence[str]
) -> dict[str, Any]:
    """Mean and 95 % t half-width over windows of every metric, per task and sampler."""
    out: dict[str, Any] = {}
    for task in tasks:
        out[task] = {}
        for name in samplers:
            rows = [r for r in records if r["task"] == task and r["sampler"] == name]
            if not rows:
                continue
            ok = [r for r in rows if not r["failed"]]
            entry: dict[str, Any] = {"runs": len(rows), "failed": len(rows) - len(ok)}
            for key in ("mae", "rmse", "mae_mean", "mae12", "rmse12"):
                if ok and key in ok[0]:
                    mean, half = t_interval([r[key] for r in ok])
                    entry[key], entry[key + "_ci95"] = mean, half
            entry["seconds"] = float(np.mean([r["seconds"] for r in ok])) if ok else math.nan
            out[task][name] = entry
    return out


def _cell(entry: dict[str, Any] | None, key: str) -> str:
    if entry is None or key not in entry:
        return "–"
    mean, half = entry[key], entry.get(key + "_ci95", math.nan)
    if not math.isfinite(mean):
        return "failed"
    return f"{mean:.4f} ± {half:.4f}" if math.isfinite(half) else f"{mean:.4f}"


def markdown(
    summary: dict[str, Any], tasks: Sequence[str], samplers: Sequence[str], config: dict[str, Any]
) -> str:
    """The Markdown report: one table per task."""
    labels = {n: (SAMPLERS[n].label if n in SAMPLERS else n) for n in samplers}
    step = config.get("prior_training_step")
    lines = [
        f"# ECG benchmark (prior `{config['prior']}`"
        + (f", training step {step}" if step is not None else "")
        + ")",
        "",
        f"{config['num_windows']} held-out test windows (synthetic neurokit2 ECGs, 9×{config['prior_shape'][-1]}), "
        f"{config['num_samples']} posterior samples each, σ_y = {config['sigma_y']}. "
        "Errors over the missing entries, each sample against the truth then averaged over the samples; "
        "mean ± 95 % t half-width over windows. `MAE (mean)` is the error of the average of the samples. "
        "Seconds per window (all its samples; chains of all windows run as one batch), "
        f"torch threads = {config['torch_threads']}.",
        "",
    ]
    titles = {
        "missing_block": "Missing block (second half of the window missing on all leads: forecasting)",
        "missing_leads": "Missing leads (lead I observed; 9 modelled leads and the 11 unobserved leads of the rebuilt 12)",
    }
    for task in tasks:
        rows = summary.get(task, {})
        twelve = task == "missing_leads"
        head = (
            ["sampler", "MAE", "RMSE", "MAE (mean)"]
            + (["MAE 12-lead", "RMSE 12-lead"] if twelve else [])
            + ["s / window"]
        )
        lines += [
            f"## {titles.get(task, task)}",
            "",
            "| " + " | ".join(head) + " |",
            "|---" * len(head) + "|",
        ]
        for n in samplers:
            e = rows.get(n)
            if e is None:
                continue
            cells = [labels[n], _cell(e, "mae"), _cell(e, "rmse"), _cell(e, "mae_mean")]
            if twelve:
                cells += [_cell(e, "mae12"), _cell(e, "rmse12")]
            cells.append(f"{e['seconds']:.1f}" if math.isfinite(e["seconds"]) else "–")
            if e["failed"]:
                cells[0] += f" ({e['failed']}/{e['runs']} failed)"
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    settings = "; ".join(f"{labels[n]} {kw}" for n, kw in config["sampler_kwargs"].items())
    lines += [f"Sampler settings: {settings}.", ""]
    if config["skipped"]:
        lines += [f"Not applicable: {', '.join(config['skipped'])}.", ""]
    return "\n".join(lines)
