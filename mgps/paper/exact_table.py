"""Samplers against the exact posterior on real-looking images (the ``digits-exact`` prior).

With a Gaussian-mixture prior fitted to digits, the posterior of a linear problem (box, half,
super-resolution) is an exact Gaussian mixture. For held-out test digits this benchmark runs
every sampler and reports, per sampler and operator:

* ``sw``: sliced Wasserstein distance (pixels, fixed directions) between the sampler's samples
  and as many exact posterior samples;
* ``mean_rmse``: RMSE between the sampler's sample mean and the exact posterior mean;
* the same two numbers for a second set of exact samples (the Monte-Carlo floor) and for the
  prior's samples (the scale), and seconds per run.

    python -m mgps images exact --out results/digits_exact
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..metrics import random_directions, sliced_wasserstein
from ..operators.base import measure
from ..presets import task_defaults
from ..progress import say
from ..registry import OPERATORS, PRIORS, SAMPLERS
from ..samplers.common import operator_supports, sample
from ..types import DEFAULT_SIGMA_Y, SamplerDivergedError
from .cells import Cell, launch_state, process_device, run_cells
from .defaults import held_out

__all__ = ["exact_table", "DEFAULT_STEPS"]

DEFAULT_STEPS = {
    "mgps": 100,
    "dps": 1000,
    "pgdm": 1000,
    "ddnm": 1000,
    "diffpir": 1000,
    "reddiff": 1000,
}


def held_out_digits(num_images: int, first: int = 0) -> torch.Tensor:
    """Test digits ``first … first + num_images − 1`` as ``(N, 1, 28, 28)`` in [-1, 1]."""
    return held_out("digits", num_images, first)[0]


def held_out_digit_labels(num_images: int, first: int = 0) -> torch.Tensor:
    """The true labels (0–9) of the test digits ``held_out_digits(num_images, first)`` returns."""
    return held_out("digits", num_images, first)[1]


def exact_table(
    out_dir: str | Path,
    *,
    operators: Sequence[str] = ("box", "half", "sr4"),
    samplers: Sequence[str] | None = None,
    num_images: int = 5,
    num_samples: int = 32,
    sigma_y: float = DEFAULT_SIGMA_Y,
    steps: dict[str, int] | None = None,
    overrides: dict[str, dict[str, Any]] | None = None,
    seed: int = 0,
    device: torch.device | str = "cpu",
    quiet: bool = False,
    log: Callable[[str], None] | None = say,
) -> dict[str, Any] | None:
    """Run the benchmark; write ``exact_table.json`` and ``exact_table.md`` in ``out_dir``.

    Each cell (operator × image × sampler, and each image's reference rows) runs through
    :func:`mgps.paper.cells.run_cells` (spread over the processes of ``accelerate launch``,
    kept in ``out_dir/cells/exact_table/``, resumed on a rerun). Returns the result on the main
    process and ``None`` on the others.
    """
    prior = PRIORS["digits-exact"].obj(dtype=torch.float32)
    samplers = list(samplers or SAMPLERS.names(with_tag="pixel"))
    defaults = {n: SAMPLERS[n].defaults().get("num_steps") for n in samplers}
    steps = {**defaults, **DEFAULT_STEPS, **(steps or {})}  # a sampler's own default otherwise
    overrides = overrides or {}
    device = process_device(device) if isinstance(device, str) else torch.device(device)
    common = {"num_samples": num_samples, "sigma_y": sigma_y, "seed": seed}
    cells = _cells(prior, common, operators, samplers, num_images, steps, overrides)
    bench = _Benchmark(prior, device, held_out_digits(num_images), num_samples, sigma_y, seed)
    records = run_cells(
        out_dir, "exact_table", cells, bench.compute, quiet=quiet, log=log, describe=_describe
    )
    if records is None:
        return None
    labels = ["exact (second draw)", "prior", *samplers]
    summary = _summary(records, operators, labels)
    config = {
        "operators": list(operators),
        "num_images": num_images,
        "num_samples": num_samples,
        "sigma_y": sigma_y,
        "steps": steps,
        "seed": seed,
        "device": str(device),
        "processes": launch_state().num_processes,
        "torch_threads": torch.get_num_threads(),
    }
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "exact_table.json").write_text(
        json.dumps(
            {"config": config, "summary": summary, "records": records}, indent=1, default=float
        )
    )
    (out / "exact_table.md").write_text(_markdown(summary, labels, samplers, config))
    return {"config": config, "summary": summary, "records": records}


def _cells(
    prior: Any,
    common: dict[str, Any],
    operators: Sequence[str],
    samplers: Sequence[str],
    num_images: int,
    steps: dict[str, int],
    overrides: dict[str, dict[str, Any]],
) -> list[Cell]:
    """Per operator and image: the reference row, then each sampler that can run it."""
    cells: list[Cell] = []
    for op_name in operators:
        op = OPERATORS[op_name].obj(prior.shape)
        for k in range(num_images):
            where = {**common, "operator": op_name, "image": k}
            cells.append(Cell(f"{op_name}-image{k}-reference", {**where, "sampler": None}))
            for name in samplers:
                if not operator_supports(SAMPLERS[name].tags, op):
                    continue
                params = {
                    "num_steps": steps[name],
                    **task_defaults(name, op_name),
                    **overrides.get(name, {}),
                }
                cells.append(
                    Cell(f"{op_name}-image{k}-{name}", {**where, "sampler": name, "params": params})
                )
    return cells


class _Benchmark:
    """The held-out ``images`` and how one cell is computed on them: each image observed and
    its exact posterior sampled once (seeded), then a sampler run or the reference rows."""

    def __init__(
        self,
        prior: Any,
        device: torch.device,
        images: torch.Tensor,
        num_samples: int,
        sigma_y: float,
        seed: int,
    ) -> None:
        self.prior, self.images = prior, images
        self.sampling_prior = prior if device.type == "cpu" else prior.to(device=device)
        self.num_samples, self.sigma_y, self.seed = num_samples, sigma_y, seed
        self.directions = random_directions(784, 100, seed=seed)
        # a posterior of digits-exact is large: keep the last two, recompute (seeded) the others
        self.problem_for = lru_cache(maxsize=2)(self._problem_for)

    def _problem_for(self, op_name: str, k: int) -> tuple[Any, Any, torch.Tensor, torch.Tensor]:
        """The observation of image ``k``, its exact posterior, exact samples and mean."""
        prior, images, sigma_y, seed = self.prior, self.images, self.sigma_y, self.seed
        num_samples = self.num_samples
        op = OPERATORS[op_name].obj(prior.shape)
        problem = measure(images[k : k + 1], op, sigma_y, torch.Generator().manual_seed(seed + k))
        posterior = prior.posterior_for(problem)
        exact = posterior.sample(num_samples, torch.Generator().manual_seed(seed + 1000 + k))
        return problem, posterior, exact.reshape(num_samples, -1), posterior.mean()

    def compute(self, cell: Cell, on_step) -> list[dict[str, Any]]:
        """One cell's records: the reference rows of an image, or one sampler's run."""
        prior, sampling_prior, directions = self.prior, self.sampling_prior, self.directions
        num_samples, seed = self.num_samples, self.seed
        op_name, k, name = cell.spec["operator"], cell.spec["image"], cell.spec["sampler"]
        problem, posterior, exact, exact_mean = self.problem_for(op_name, k)
        base = {"operator": op_name, "image": k}

        def score(x: torch.Tensor, label: str, seconds: float) -> dict[str, Any]:
            x = x.reshape(x.shape[0], -1).double().cpu()
            return {
                **base,
                "sampler": label,
                "sw": sliced_wasserstein(x, exact, directions=directions),
                "mean_rmse": float((x.mean(0) - exact_mean).pow(2).mean().sqrt()),
                "seconds": seconds,
                "diverged": False,
            }

        if name is None:  # a second exact draw (the Monte-Carlo floor) and the prior (the scale)
            g = torch.Generator().manual_seed(seed + 1000 + k)
            posterior.sample(num_samples, g)  # the reference draws: skip them
            return [
                score(posterior.sample(num_samples, g), "exact (second draw)", 0.0),
                score(prior.sample(num_samples, g), "prior", 0.0),
            ]
        params = dict(cell.spec["params"])
        start = time.perf_counter()
        try:
            x = sample(
                name,
                sampling_prior,
                problem,
                num_samples=num_samples,
                generator=torch.Generator().manual_seed(seed + 2000 + k),
                on_step=on_step,
                **params,
            )
            rec = score(x, name, time.perf_counter() - start)
        except SamplerDivergedError:
            rec = {
                **base,
                "sampler": name,
                "sw": math.nan,
                "mean_rmse": math.nan,
                "seconds": math.nan,
                "diverged": True,
            }
        rec["params"] = params
        return [rec]


def _describe(cell: Cell, records: list[dict[str, Any]]) -> str:
    """The line logged when a cell is done."""
    return "; ".join(
        f"{r['operator']:6s} image {r['image']} {r['sampler']:8s} SW {r['sw']:.3f} "
        f"mean RMSE {r['mean_rmse']:.3f} ({r['seconds']:.1f} s)"
        for r in records
    )


def _summary(
    records: list[dict[str, Any]], operators: Sequence[str], labels: list[str]
) -> dict[str, Any]:
    """Per operator and row: the means over the images of the runs that did not diverge."""
    summary: dict[str, Any] = {}
    for op_name in operators:
        summary[op_name] = {}
        for label in labels:
            rows = [r for r in records if r["operator"] == op_name and r["sampler"] == label]
            ok = [r for r in rows if not r["diverged"]]
            if not rows:
                continue
            summary[op_name][label] = {
                "sw": float(np.mean([r["sw"] for r in ok])) if ok else math.nan,
                "mean_rmse": float(np.mean([r["mean_rmse"] for r in ok])) if ok else math.nan,
                "seconds": float(np.mean([r["seconds"] for r in ok])) if ok else math.nan,
                "runs": len(rows),
                "diverged": len(rows) - len(ok),
            }
    return summary


def _markdown(
    summary: dict[str, Any], labels: list[str], samplers: Sequence[str], c: dict[str, Any]
) -> str:
    """The table (SW / mean RMSE per operator and row) and how it was made, from config ``c``."""
    names = {label: (SAMPLERS[label].label if label in SAMPLERS else label) for label in labels}
    lines = [
        "| operator | " + " | ".join(names[label] for label in labels) + " |",
        "|---|" + "---|" * len(labels),
    ]
    for op_name in c["operators"]:
        row = []
        for label in labels:
            s = summary[op_name].get(label)
            row.append(
                "–"
                if s is None
                else f"{s['sw']:.2f} / {s['mean_rmse']:.3f}"
                + (f" ({s['diverged']} diverged)" if s["diverged"] else "")
            )
        lines.append(f"| {op_name} | " + " | ".join(row) + " |")
    steps = ", ".join(f"{SAMPLERS[n].label} {c['steps'].get(n)}" for n in samplers)
    lines += [
        "",
        f"SW over pixels / RMSE of the sample mean against the exact posterior mean (both lower is better), "
        f"{c['num_samples']} samples per run, mean over {c['num_images']} held-out test digits, σ_y = {c['sigma_y']}, prior `digits-exact`. "
        f"Steps: {steps}; per-task presets of mgps/presets.py.",
        "",
    ]
    return "\n".join(lines)
