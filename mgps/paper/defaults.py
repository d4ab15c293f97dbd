"""Every sampler's defaults on every task it accepts, on held-out digits or clothes.

    python -m mgps images defaults --prior digits --first 350 --n-images 20 --out runs/defaults_digits
    accelerate launch --num_processes 4 -m mgps images defaults ...   # spread over 4 GPUs

For each image operator and each registered sampler that can run it on the prior, the held-out
test images ``first … first + n − 1`` of the prior's data set are observed once (σ_y), and the
sampler restores all of them in one batch through :func:`mgps.pipeline.restore`, the code path
of ``python -m mgps restore`` and of the app: the sampler's keyword defaults with the per-task
settings of :mod:`mgps.presets`, nothing else (``steps`` may set the number of steps, e.g. the
app's). Every sampler starts from the same initial noise. Tasks the paper scores on the best of
N samples (:data:`mgps.presets.BEST_OF`: phase retrieval, N = 4) draw N samples per image and
keep the one with the smallest ‖y − A(x̂)‖, as the restore command's ``best.png`` and the app's
"Restoration" do.

Per image it records PSNR, the residual ‖y − A(x̂)‖ over its noise level σ_y·√d_y, whether the
project's classifier (:mod:`mgps.paper.classifier`) names the image's true class and
whether it calls it junk; per cell the seconds per image (all images in one batch) and, where
DPS ran, the paired PSNR difference to DPS. A cell whose median residual is
:data:`FAR_ABOVE` times the noise level or more has not fitted the observation and is marked.
``defaults.json`` keeps every per-image value; ``defaults.md`` is the table. Each task × sampler
is a cell (:mod:`mgps.paper.cells`): the cells are spread over the processes of ``accelerate
launch``, each is kept under ``<out>/cells/defaults/`` as it finishes, and the same command run
again computes only the cells that are missing or whose settings changed (a new preset reruns
its cells).
"""

from __future__ import annotations

import json
import math
import platform
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..metrics import psnr, t_interval
from ..operators.base import measure
from ..pipeline import RestoreSetup, image_shape_of, restore
from ..presets import BEST_OF, task_defaults
from ..registry import OPERATORS, SAMPLERS
from ..types import DEFAULT_SIGMA_Y, InverseProblem, SamplerDivergedError
from ..utils.assets import ASSETS_DIR
from .cells import Cell, process_device, run_cells
from .classifier import JUNK, load_classifier, predicted_labels, right_label
from .images import _supports

__all__ = [
    "DATASETS",
    "FAR_ABOVE",
    "held_out",
    "held_out_path",
    "initial_noise",
    "score",
    "combine",
    "restore_batch",
    "defaults_sweep",
    "markdown",
]

# the data set whose held-out test split (assets/data/<name>.npz) and classifier fit a prior
DATASETS = {"digits": "digits", "digits-exact": "digits", "fashion": "fashion"}
FAR_ABOVE = 1.5  # median ‖y − A(x̂)‖ / (σ_y √d_y) from which a cell has not fitted y


def held_out_path(data: str) -> Path:
    """The file of the data set ``data``: ``assets/data/<data>.npz`` of a checkout (the wheel
    does not carry the training data)."""
    return ASSETS_DIR / "data" / f"{data}.npz"


def held_out(data: str, num_images: int, first: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Test images ``first … first + num_images − 1`` of ``data`` ("digits" or "fashion") as
    ``(N, 1, 28, 28)`` in [-1, 1], and their labels (0–9)."""
    if data not in set(DATASETS.values()):
        raise ValueError(f"no held-out data set {data!r}; choose one of: digits, fashion")
    path = held_out_path(data)
    if not path.is_file():
        raise FileNotFoundError(
            f"the held-out {data} images are assets/data/{path.name} of a checkout of the "
            f"repository, which the installed package does not carry (looked in {path.parent}): "
            'run this from a checkout, installed with pip install -e ".[paper]"'
        )
    arrays = np.load(path)
    images = arrays["test_images"][first : first + num_images].astype(np.float32) / 127.5 - 1.0
    labels = arrays["test_labels"][first : first + num_images].astype(np.int64)
    if len(images) < num_images:
        raise ValueError(
            f"{data} has {len(arrays['test_images'])} test images; images {first}–{first + num_images - 1} do not exist"
        )
    return torch.from_numpy(images)[:, None], torch.from_numpy(labels)


def initial_noise(shape: Sequence[int], k: int, seed: int) -> torch.Tensor:
    """The initial noise of ``k`` samples per image, ``(k·N, *shape[1:])``: the first sample of
    every image from seed + 1, the j-th from seed + 10 + j (so one sample per image is the same
    whatever ``k``, and every sampler starts from the same point)."""
    seeds = [seed + 1] + [seed + 10 + j for j in range(1, k)]
    return torch.cat(
        [torch.randn(tuple(shape), generator=torch.Generator().manual_seed(s)) for s in seeds]
    )


def score(
    x: torch.Tensor, truth: torch.Tensor, labels: torch.Tensor, problem: InverseProblem, classifier
) -> dict[str, np.ndarray]:
    """Per image: PSNR, ‖y − A(x̂)‖, whether the classifier names the true label, whether it
    calls the image junk. Phase retrieval is scored up to its trivial ambiguities (each image
    in the truth's orientation, ``PhaseRetrieval.align``; the pipeline's results already are)."""
    align = getattr(problem.operator, "align", None)
    if align is not None:
        x = align(x.to(truth), truth)
    with torch.no_grad():
        return {
            "psnr": psnr(x, truth).numpy(),
            "residual": problem.residual(x.to(problem.y.device))
            .flatten(1)
            .norm(dim=1)
            .double()
            .cpu()
            .numpy(),
            "right_label": right_label(classifier, x, labels).numpy(),
            "junk": (predicted_labels(classifier, x) == JUNK).float().numpy(),
        }


def combine(draws: torch.Tensor, residuals: torch.Tensor | None, select: str) -> torch.Tensor:
    """One image per observation from ``draws`` ``(k, N, …)``: the first draw, the mean of the
    ``k``, or (``"best"``) the draw with the smallest ‖y − A(x̂)‖ of ``residuals`` ``(k, N)``."""
    if select == "mean":
        return draws.mean(0)
    if select == "best":
        return draws[residuals.argmin(0), torch.arange(draws.shape[1])]
    return draws[0]


def restore_batch(
    prior: Any,
    prior_name: str,
    problem: InverseProblem,
    operator_name: str,
    truth: torch.Tensor,
    sampler: str,
    *,
    params: dict[str, Any] | None = None,
    samples: int = 1,
    select: str = "first",
    seed: int = 0,
    on_step: Callable | None = None,
) -> tuple[torch.Tensor, dict[str, Any]]:
    """Restore every observation of ``problem`` (one per row of ``truth``) with ``samples``
    draws each, through :func:`mgps.pipeline.restore` (per-task settings applied), and combine
    each image's draws: ``"first"`` (one sample), ``"mean"`` (their mean) or ``"best"`` (the
    draw with the smallest ‖y − A(x̂)‖). Returns the ``(N, C, H, W)`` restorations and the
    pipeline's metrics (``params``: the settings that ran; ``seconds``: the whole batch)."""
    if select not in ("first", "mean", "best"):
        raise ValueError(f"select must be first, mean or best; got {select!r}")
    n = truth.shape[0]
    device = problem.y.device
    tiled = InverseProblem(
        problem.operator, problem.y.repeat(samples, *[1] * (problem.y.dim() - 1)), problem.sigma_y
    )
    setup = RestoreSetup(
        prior,
        prior_name,
        problem.operator,
        operator_name,
        tiled,
        truth.to(device).repeat(samples, 1, 1, 1),
    )
    result = restore(
        setup,
        sampler,
        params=dict(params or {}),
        seed=seed + 2,
        every=sys.maxsize,  # no intermediate images: the table times the sampler
        x_init=initial_noise(truth.shape, samples, seed).to(device),
        on_step=on_step,
    )
    draws = result.samples.float().cpu().reshape(samples, n, *truth.shape[1:])
    residuals = torch.tensor(result.metrics["residual_norm"]).reshape(samples, n)
    return combine(draws, residuals, select), result.metrics


def _cell(
    prior, prior_name, op_name, truth, labels, sampler, params, best_of, sigma_y, seed, classifier,
    on_step=None,
) -> dict[str, Any]:  # fmt: skip
    device = torch.device(getattr(prior, "device", "cpu"))
    operator = OPERATORS[op_name].obj(tuple(truth.shape[1:]))
    problem = measure(truth.to(device), operator, sigma_y, torch.Generator().manual_seed(seed))
    expected = sigma_y * math.sqrt(problem.y[0].numel())
    start, cpu_start = time.perf_counter(), time.process_time()
    x, metrics = restore_batch(
        prior,
        prior_name,
        problem,
        op_name,
        truth,
        sampler,
        params=params,
        samples=best_of,
        select="best" if best_of > 1 else "first",
        seed=seed,
        on_step=on_step,
    )
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    values = score(x, truth, labels, problem, classifier)
    return {
        "params": metrics["params"],
        "best_of": best_of,
        **{key: v.tolist() for key, v in values.items()},
        "residual_over_expected": float(np.median(values["residual"]) / expected),
        "seconds_per_image": seconds / truth.shape[0],
        "cpu_seconds_per_image": cpu / truth.shape[0],  # not inflated by other jobs on the machine
        "sampler_seconds_per_image": metrics["seconds"] / truth.shape[0],
        "network_calls": metrics["network_calls"],
    }


def defaults_sweep(
    prior: str,
    out_dir: str | Path,
    *,
    num_images: int = 20,
    first: int = 350,
    operators: Sequence[str] | None = None,
    samplers: Sequence[str] | None = None,
    steps: dict[str, int] | None = None,
    sigma_y: float = DEFAULT_SIGMA_Y,
    seed: int = 0,
    device: torch.device | str = "cpu",
    dtype: torch.dtype | None = None,
    quiet: bool = False,
    log: Callable[[str], None] | None = print,
) -> dict[str, Any] | None:
    """Run every sampler × task cell with the defaults; write ``defaults.{json,md}``.

    Args:
        prior: an embedded prior with held-out data (:data:`DATASETS`).
        out_dir: output folder (finished cells under ``cells/defaults/``: a rerun resumes).
        num_images, first: the held-out test images ``first … first + num_images − 1``.
        operators: image operators (default: every registered one tagged ``image``; those that
            cannot be built at the prior's size, or need a file, are listed with the reason).
        samplers: default every registered sampler (those that cannot run a cell are skipped).
        steps: number of steps per sampler name, ``"others"`` for the rest (default: each
            sampler's own, as on the command line; the app uses MGPS 50, others 100).
        device: where to sample (under ``accelerate launch``, each process's own GPU).
        dtype: the network's dtype (default float32; the samplers' state stays in float32).

    Returns:
        The results (also in ``defaults.json``) on the main process, ``None`` on the others.
    """
    from ..priors.loading import load_prior

    if prior not in DATASETS:
        raise ValueError(
            f"the defaults sweep needs a prior with held-out test data: {', '.join(DATASETS)}; got {prior!r}"
        )
    truth, labels = held_out(DATASETS[prior], num_images, first)
    samplers = list(samplers or SAMPLERS.names())
    for name in samplers:
        SAMPLERS[name]  # an unknown name fails here, with the registry's message
    steps = dict(steps or {})
    device = process_device(device) if isinstance(device, str) else torch.device(device)
    prior_obj = load_prior(prior, device=device, dtype=dtype)
    shape = image_shape_of(prior_obj)
    classifier, _ = load_classifier(DATASETS[prior])
    config = {
        "prior": prior,
        "data": DATASETS[prior],
        "first": first,
        "n": num_images,
        "sigma_y": sigma_y,
        "seed": seed,
        "steps": steps,
        "far_above": FAR_ABOVE,
        "torch_threads": torch.get_num_threads(),
        "machine": platform.processor() or platform.machine(),
        "device": str(device),
        "dtype": str(getattr(prior_obj, "dtype", dtype)).replace("torch.", ""),
        "clean_right_label_rate": float(right_label(classifier, truth, labels).mean()),
    }
    results: dict[str, Any] = {"config": config, "skipped": {}, "cells": {}}
    common = {k: config[k] for k in ("prior", "first", "n", "sigma_y", "seed")}
    if config["dtype"] != "float32":  # a cell run in another precision is another cell
        common["dtype"] = config["dtype"]
    cells = []
    for op_name in operators or OPERATORS.names(with_tag="image"):
        try:
            operator = OPERATORS[op_name].obj(shape)
        except (ValueError, TypeError) as exc:  # e.g. sr16 at 28×28, a mask or weights file
            results["skipped"][op_name] = str(exc)
            if log is not None:
                log(f"{op_name:16s} skipped: {exc}")
            continue
        for name in samplers:
            if not _supports(name, operator, prior_obj):
                continue
            count = steps.get(name, steps.get("others"))
            spec = {
                **common,
                "operator": op_name,
                "sampler": name,
                "steps": count,
                # the settings that will run: a changed preset makes a new cell
                "params": {**task_defaults(name, op_name), **({} if count is None else {"num_steps": count})},
                "best_of": BEST_OF.get(op_name, 1),
            }  # fmt: skip
            cells.append(Cell(f"{op_name}-{name}", spec))

    def compute(cell: Cell, on_step) -> list[dict[str, Any]]:
        spec = cell.spec
        params = {} if spec["steps"] is None else {"num_steps": spec["steps"]}
        try:
            return [
                _cell(
                    prior_obj,
                    prior,
                    spec["operator"],
                    truth,
                    labels,
                    spec["sampler"],
                    params,
                    spec["best_of"],
                    sigma_y,
                    seed,
                    classifier,
                    on_step,
                )  # fmt: skip
            ]
        except torch.OutOfMemoryError:
            raise  # not a result: a rerun on a free device retries the cell
        except (SamplerDivergedError, ValueError, RuntimeError) as exc:
            return [{"params": spec["params"], "failed": f"{type(exc).__name__}: {exc}"}]

    def describe(cell: Cell, records: list[dict[str, Any]]) -> str:
        return _line(cell.spec["operator"], cell.spec["sampler"], records[0])

    records = run_cells(
        out_dir, "defaults", cells, compute, quiet=quiet, log=log, describe=describe
    )
    if records is None:  # not the main process: its cells are written
        return None
    for cell, record in zip(cells, records, strict=True):
        results["cells"].setdefault(cell.spec["operator"], {})[cell.spec["sampler"]] = record
    for row in results["cells"].values():
        _pair_with_dps(row)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "defaults.json").write_text(json.dumps(results, indent=1))
    (out / "defaults.md").write_text(markdown(results))
    return results


def _pair_with_dps(cells: dict[str, Any]) -> None:
    """Paired PSNR and right-label differences of every cell to DPS's (when DPS ran)."""
    ref = cells.get("dps")
    if not ref or "psnr" not in ref:
        return
    for name, cell in cells.items():
        if name == "dps" or "psnr" not in cell:
            continue
        cell["diff_to_dps"], cell["diff_to_dps_ci95"] = t_interval(
            np.subtract(cell["psnr"], ref["psnr"])
        )
        cell["right_label_diff_to_dps"], cell["right_label_diff_to_dps_ci95"] = t_interval(
            np.subtract(cell["right_label"], ref["right_label"])
        )


def _line(op_name: str, name: str, cell: dict[str, Any]) -> str:
    if "failed" in cell:
        return f"{op_name:16s} {name:9s} FAILED: {cell['failed']}"
    mean, half = t_interval(cell["psnr"])
    return (
        f"{op_name:16s} {name:9s} PSNR {mean:6.2f} ± {half:4.2f}  residual/noise {cell['residual_over_expected']:5.2f}"
        f"  right {100 * np.mean(cell['right_label']):3.0f} %  {cell['seconds_per_image']:6.2f} s/image"
    )


def _settings(sampler: str, params: dict[str, Any]) -> str:
    """The settings that differ from the sampler's signature (metrics record them all)."""
    generic = SAMPLERS[sampler].obj.__kwdefaults__ or {} if sampler in SAMPLERS else {}
    shown = {
        k: v
        for k, v in params.items()
        if v is not None and k != "num_steps" and (k not in generic or generic[k] != v)
    }
    return ", ".join(f"{k}={v}" for k, v in shown.items()) or "–"


def steps_of(sampler: str, cell: dict[str, Any]) -> Any:
    """The number of steps a cell ran: its own, or the sampler's default."""
    default = SAMPLERS[sampler].defaults().get("num_steps", "–") if sampler in SAMPLERS else "–"
    return cell["params"].get("num_steps", default)


def overview(results: dict[str, Any]) -> list[str]:
    """Task × sampler: PSNR and, in brackets, the residual over the noise level (bold: unfitted)."""
    names = sorted({n for cells in results["cells"].values() for n in cells}, key=_order)
    lines = [
        "PSNR (residual / noise level) of every cell; bold: not fitted; – : the sampler cannot run the task.",
        "",
        "| task | " + " | ".join(SAMPLERS[n].label if n in SAMPLERS else n for n in names) + " |",
        "|---|" + "---|" * len(names),
    ]
    for op_name, cells in results["cells"].items():
        row = []
        for name in names:
            cell = cells.get(name)
            if cell is None:
                row.append("–")
            elif "failed" in cell:
                row.append("failed")
            else:
                ratio = cell["residual_over_expected"]
                text = f"{np.mean(cell['psnr']):.1f} ({ratio:.2f})"
                row.append(f"**{text}**" if ratio >= FAR_ABOVE else text)
        lines.append(f"| {op_name} | " + " | ".join(row) + " |")
    return lines


def _order(name: str) -> tuple[int, str]:
    """MGPS first, then DPS (the reference), then the rest by name."""
    return ({"mgps": 0, "dps": 1}.get(name, 2), name)


def markdown(results: dict[str, Any]) -> str:
    """The sweep's table: one row per task × sampler."""
    c = results["config"]
    steps = c["steps"]
    steps_text = (
        "each sampler's own number of steps (the command line's defaults)"
        if not steps
        else "steps " + ", ".join(f"{k} {v}" for k, v in steps.items())
    )
    lines = [
        f"Defaults of every sampler on every task it accepts: prior `{c['prior']}`, held-out test images "
        f"{c['first']}–{c['first'] + c['n'] - 1} of `{c['data']}` ({c['n']} images), each observed once "
        f"(σ_y = {c['sigma_y']}, seed {c['seed']}), every sampler from the same initial noise; {steps_text}, "
        "the per-task settings of mgps/presets.py. PSNR mean ± 95 % t half-width over images; Δ DPS = paired "
        "difference to DPS with its defaults; residual = median ‖y − A(x̂)‖ over the noise level σ_y·√d_y "
        f"(**bold**: {FAR_ABOVE}× or more, the observation is not fitted); right = share of restorations whose "
        "most likely class under the project's classifier is the true one "
        f"(clean images: {100 * c['clean_right_label_rate']:.0f} %), junk = share it calls junk; seconds per "
        f"image with all images in one batch, torch threads {c['torch_threads']} (in brackets, where recorded: "
        "the process's CPU seconds, which other jobs on the machine do not inflate); calls = network "
        "evaluations of one run (the batch), which no load changes. "
        + (
            "Scored on the best of N samples by ‖y − A(x̂)‖, as the paper scores phase retrieval: "
            + ", ".join(f"{op} (N = {n})" for op, n in BEST_OF.items())
            + "; their seconds and calls count all N."
            if BEST_OF
            else ""
        ),
        "",
        "| task | sampler | steps | settings | PSNR | Δ DPS | residual | right | junk | s / image | calls |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for op_name, cells in results["cells"].items():
        for name, cell in cells.items():
            label = SAMPLERS[name].label if name in SAMPLERS else name
            if "failed" in cell:
                lines.append(
                    f"| {op_name} | {label} | {steps_of(name, cell)} | {_settings(name, cell['params'])} | failed: {cell['failed']} | | | | | | |"
                )
                continue
            mean, half = t_interval(cell["psnr"])
            diff = (
                f"{cell['diff_to_dps']:+.2f} ± {cell['diff_to_dps_ci95']:.2f}"
                if "diff_to_dps" in cell
                else "–"
            )
            ratio = cell["residual_over_expected"]
            ratio_text = f"**{ratio:.2f}**" if ratio >= FAR_ABOVE else f"{ratio:.2f}"
            cpu = (
                f" ({cell['cpu_seconds_per_image']:.2f})" if "cpu_seconds_per_image" in cell else ""
            )
            lines.append(
                f"| {op_name} | {label} | {steps_of(name, cell)} | {_settings(name, cell['params'])} | {mean:.2f} ± {half:.2f} | {diff} | {ratio_text} "
                f"| {100 * np.mean(cell['right_label']):.0f} % | {100 * np.mean(cell['junk']):.0f} % "
                f"| {cell['seconds_per_image']:.2f}{cpu} | {cell['network_calls']} |"
            )
    lines += ["", *overview(results)]
    if results["skipped"]:
        lines += ["", "Tasks that cannot run on this prior:", ""]
        lines += [f"- `{op}`: {why}" for op, why in results["skipped"].items()]
    lines.append("")
    return "\n".join(lines)
