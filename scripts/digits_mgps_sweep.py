"""MGPS settings on the digits DDPM: PSNR against held-out test digits, batched.

The images table (``python -m mgps images table --prior digits``) runs one image at a time; this
script batches N held-out test digits (one posterior sample each, its own observation each)
through one sampler run, so that many MGPS settings can be compared with DPS on the same
digits, the same observation noise and the same initial noise. It records PSNR per image, the
mean with a 95 % t half-width, the paired difference to a reference configuration, the data
residual ‖y − A(x̂)‖ against its expected size σ_y·√d_y, wall time (torch threads = 1), and
whether the restored image shows the digit's true label to the project's digit classifier
(mgps/paper/classifier.py; its most likely digit class, and apart from that whether it calls
the image junk): where the observation leaves the digit ambiguous (a box over its
middle), a single posterior sample's PSNR mostly says whether it drew the right digit, and this
says it directly.
A configuration with ``samples=k`` draws k samples per image and scores their mean (what a
cheaper sampler can do in the wall time of a dearer one); the residual is then the mean's. With
``samples=k,select=best`` it scores the one with the smallest ‖y − A(x̂)‖ instead (the paper's
best-of-4 for phase retrieval). ``--prior fashion`` runs on held-out clothes with the clothing
classifier.

    python scripts/digits_mgps_sweep.py --operators box sr4 --n-images 50 --out results/digits_vs_dps
    accelerate launch --num_processes 4 scripts/digits_mgps_sweep.py ... # spread over 4 GPUs

Configurations are ``name:sampler:key=value,key=value``; the defaults make the README's table.
Each operator × configuration is a cell (mgps/paper/cells.py): the cells are spread over the
processes of ``accelerate launch``, each is kept under ``--out`` as it finishes, and a rerun of
the same command resumes. ``--merge`` joins the ``sweep.json`` of separate runs.
The sampler name ``exact`` draws from the exact posterior, for a prior that has one
(``--prior digits-exact``), so that faithful posterior samples are scored like any sampler's.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from mgps.arguments import add_run_arguments
from mgps.devices import parse_dtype
from mgps.metrics import t_interval
from mgps.operators.base import measure
from mgps.paper.cells import Cell, process_device, run_cells
from mgps.paper.classifier import load_classifier, right_label
from mgps.paper.defaults import DATASETS, combine, held_out, initial_noise, score
from mgps.presets import task_defaults
from mgps.priors.loading import load_prior
from mgps.priors.sources import EMBEDDED_PRIORS_DIR
from mgps.progress import say
from mgps.registry import OPERATORS
from mgps.samplers.common import sample
from mgps.types import DEFAULT_SIGMA_Y, InverseProblem

DEFAULT_CONFIGS = [  # the README's table (results/digits_vs_dps/sweep.md)
    "dps1000:dps:num_steps=1000",
    "mgps50:mgps:num_steps=50",
    "mgps100:mgps:num_steps=100",
    "mgps50_mean2:mgps:num_steps=50,samples=2",
    "mgps50_paper:mgps:num_steps=50,lr=0.03,midpoint_late=none",
    "pgdm:pgdm",
    "ddnm:ddnm",
    "diffpir:diffpir",
    "reddiff:reddiff",
]


def parse_config(text: str) -> tuple[str, str, dict]:
    name, sampler, *rest = text.split(":")
    params: dict = {}
    for item in filter(None, (rest[0] if rest else "").split(",")):
        key, value = item.split("=")
        for cast in (int, float):
            try:
                params[key] = cast(value)
                break
            except ValueError:
                pass
        else:
            params[key] = {"true": True, "false": False, "none": None}.get(value.lower(), value)
    return name, sampler, params


def exact_posterior_draws(prior, problem: InverseProblem, shape, k: int, generator) -> torch.Tensor:
    """``k`` exact posterior samples of ``shape`` for each observation of ``problem``, ordered like
    a sampler's output on ``problem`` tiled ``k`` times: every observation's first sample, then…"""
    if not hasattr(prior, "posterior_for"):
        raise ValueError(f"prior {prior.name!r} has no exact posterior; use --prior digits-exact")
    draws = [
        prior.posterior_for(InverseProblem(problem.operator, problem.y[i : i + 1], problem.sigma_y))
        .sample(k, generator)
        .reshape(k, *shape)
        for i in range(problem.y.shape[0])
    ]
    return torch.stack(draws, 1).flatten(0, 1).float()


def training_steps(prior: str) -> int | None:
    """How many steps the prior was trained for, from its ``training.json`` (None if it has none)."""
    folder = EMBEDDED_PRIORS_DIR / prior if (EMBEDDED_PRIORS_DIR / prior).is_dir() else Path(prior)
    info = folder / "training.json"
    return int(json.loads(info.read_text())["steps"]) if info.is_file() else None


def markdown(results: dict) -> str:
    """A Markdown table per operator of a sweep's results."""
    steps = f" ({results['prior_steps']:,} training steps)" if results.get("prior_steps") else ""
    what = "clothes" if DATASETS.get(results["prior"]) == "fashion" else "digits"
    lines = [results["note"], ""] if results.get("note") else []
    lines += [
        f"Prior `{results['prior']}`{steps}, held-out test {what} {results.get('first', 0)}–{results.get('first', 0) + results['n'] - 1} "
        f"({results['n']} {what}), one observation each "
        f"(σ_y = {results['sigma_y']}), the same initial noise for every configuration; PSNR mean ± 95 % t "
        "half-width over images; Δ = paired difference to the reference; residual = median ‖y − A(x̂)‖ "
        "over its expected size σ_y·√d_y; seconds per image with all images in one batch, torch threads 1 "
        "(in brackets, where recorded: the process's CPU seconds, which other jobs on the machine do not "
        "inflate); "
        "right digit = share of restored images whose most likely digit class under the project's classifier "
        "is the true label, its Δ in percentage points, paired, with a 95 % t half-width; junk = share the "
        "classifier calls junk (noise, or a digit under visible pixel noise), not a clean digit"
        + (
            f"; the classifier labels {100 * results['clean_right_label_rate']:.0f} % of the clean digits right."
            if "clean_right_label_rate" in results
            else "."
        ),
        "",
    ]
    for op_name, runs in results["runs"].items():
        reference = next(iter(runs))
        lines += [
            f"### {op_name} (reference: {reference})",
            "",
            "| configuration | settings | PSNR | Δ vs reference | right digit | Δ right digit | junk "
            "| residual | s / image |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for name, run in runs.items():
            if "failed" in run:
                lines.append(f"| {name} | {run['params']} | failed: {run['failed']} | | | | | | |")
                continue
            settings = ", ".join(f"{k}={v}" for k, v in run["params"].items())
            settings = "exact posterior" if run["sampler"] == "exact" and not settings else settings
            if run.get("samples_per_image", 1) > 1:
                settings += f"; {run.get('select', 'mean')} of {run['samples_per_image']} samples"
            diff = (
                f"{run['diff_to_reference']:+.2f} ± {run['diff_ci95']:.2f}"
                if "diff_to_reference" in run
                else "–"
            )
            right = f"{100 * run['right_label_rate']:.0f} %" if "right_label_rate" in run else "–"
            right_diff = (
                f"{100 * run['right_label_diff']:+.0f} ± {100 * run['right_label_diff_ci95']:.0f}"
                if "right_label_diff" in run
                else "–"
            )
            junk = f"{100 * run['junk_rate']:.0f} %" if "junk_rate" in run else "–"
            lines.append(
                f"| {name} | {run['sampler']}: {settings} | {run['psnr_mean']:.2f} ± {run['psnr_ci95']:.2f} | {diff} "
                f"| {right} | {right_diff} | {junk} | {run['residual_over_expected']:.2f} | {run['seconds_per_image']:.2f}"
                + (
                    f" ({run['cpu_seconds_per_image']:.2f})"
                    if "cpu_seconds_per_image" in run
                    else ""
                )
                + " |"
            )
        lines.append("")
    return "\n".join(lines)


def write(results: dict, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "sweep.json").write_text(json.dumps(results, indent=1))
    (out / "sweep.md").write_text(markdown(results))


def main(argv=None) -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--prior", default="digits")
    p.add_argument("--operators", nargs="+", default=["box", "sr4"])
    p.add_argument("--n-images", type=int, default=50, help="how many held-out test digits")
    p.add_argument(
        "--first",
        type=int,
        default=0,
        help="index of the first test digit (a fresh range confirms settings chosen on another)",
    )
    p.add_argument("--sigma-y", type=float, default=DEFAULT_SIGMA_Y)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--config", nargs="+", default=DEFAULT_CONFIGS)
    p.add_argument(
        "--reference", default=None, help="config name for paired differences (default: first)"
    )
    p.add_argument(
        "--previous",
        type=Path,
        default=None,
        help="a sweep.json of an earlier run (same --first, --n-images, --seed) whose runs are reused by name",
    )
    p.add_argument("--out", type=Path, default=None)
    p.add_argument(
        "--note", default=None, help="a paragraph put above the tables (what was run and why)"
    )
    add_run_arguments(p)
    p.add_argument(
        "--fail-fast",
        action="store_true",
        help="stop with the error when a cell fails (default: record it as a failed row); the "
        "GPU script sets it, so that a device bug stops the run instead of filling the table",
    )
    p.add_argument(
        "--merge",
        type=Path,
        nargs="+",
        default=None,
        help="only merge these sweep.json files (one operator each) into --out, with sweep.md",
    )
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    if args.merge:
        merged = json.loads(args.merge[0].read_text())
        for path in args.merge[1:]:
            merged["runs"].update(json.loads(path.read_text())["runs"])
        if args.note:
            merged["note"] = args.note
        write(merged, args.out)
        print(markdown(merged))
        return

    earlier = json.loads(args.previous.read_text()) if args.previous else {"runs": {}}
    if args.previous:
        assert (earlier.get("first", 0), earlier["n"], earlier["seed"]) == (
            args.first,
            args.n_images,
            args.seed,
        ), "--previous has another --first/--n-images/--seed"
    if args.out is None:
        p.error("--out is required: every configuration's result is kept there as it finishes")
    device = process_device(args.device)
    prior = load_prior(args.prior, device=device, dtype=parse_dtype(args.dtype))
    truth, labels = held_out(DATASETS.get(args.prior, "digits"), args.n_images, args.first)
    classifier, _ = load_classifier(DATASETS.get(args.prior, "digits"))
    configs = [parse_config(c) for c in args.config]
    reference = args.reference or configs[0][0]
    results: dict = {
        "prior": args.prior,
        "prior_steps": training_steps(args.prior),
        "note": args.note,
        "first": args.first,
        "n": args.n_images,
        "sigma_y": args.sigma_y,
        "seed": args.seed,
        "clean_right_label_rate": float(right_label(classifier, truth, labels).mean()),
        "runs": {},
    }
    common = {
        "prior": args.prior,
        "dtype": args.dtype,
        "first": args.first,
        "n": args.n_images,
        "sigma_y": args.sigma_y,
        "seed": args.seed,
    }
    cells = [
        Cell(
            f"{op_name}-{name}",
            {**common, "operator": op_name, "name": name, "sampler": sampler, "params": params},
        )
        for op_name in args.operators
        for name, sampler, params in configs
    ]

    @lru_cache(maxsize=1)
    def observe(op_name: str):
        operator = OPERATORS[op_name].obj(tuple(truth.shape[1:]))
        problem = measure(truth, operator, args.sigma_y, torch.Generator().manual_seed(args.seed))
        return problem, args.sigma_y * math.sqrt(problem.y[0].numel())

    def compute(cell: Cell, on_step) -> list[dict]:
        op_name, sampler = cell.spec["operator"], cell.spec["sampler"]
        problem, expected = observe(op_name)
        full = {**task_defaults(sampler, op_name), **cell.spec["params"]}
        k = int(full.pop("samples", 1))  # samples per image; PSNR is then that of their mean
        select = full.pop("select", "mean")  # ... or of the best of the k by data fit
        tiled = InverseProblem(
            problem.operator, problem.y.repeat(k, *[1] * (problem.y.dim() - 1)), problem.sigma_y
        )
        start, cpu_start = time.perf_counter(), time.process_time()
        try:
            if sampler == "exact":
                draws = exact_posterior_draws(
                    prior, problem, truth.shape[1:], k, torch.Generator().manual_seed(args.seed + 2)
                )
            else:
                draws = sample(
                    sampler,
                    prior,
                    tiled,
                    generator=torch.Generator().manual_seed(args.seed + 2),
                    x_init=initial_noise(truth.shape, k, args.seed),
                    on_step=on_step,
                    **full,
                )
            draws = draws.float().clamp(-1, 1)
            fit = (
                tiled.residual(draws.to(tiled.y.device)).flatten(1).norm(dim=1).cpu().reshape(k, -1)
            )
            x = combine(draws.cpu().reshape(k, *truth.shape), fit, select)
        except torch.OutOfMemoryError:
            raise  # not a result: the run stops, and a rerun on a free device retries the cell
        except Exception as error:  # noqa: BLE001 - a failed configuration is reported, not hidden
            if args.fail_fast:
                raise
            return [{"sampler": sampler, "params": full, "failed": str(error)}]
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
        scores = score(x, truth, labels, problem, classifier)
        values, residual, right, junk = (
            scores[key] for key in ("psnr", "residual", "right_label", "junk")
        )
        mean, half = t_interval(values)
        return [
            {
                "sampler": sampler,
                "params": full,
                "samples_per_image": k,
                "select": select,
                "psnr": values.tolist(),
                "psnr_mean": mean,
                "psnr_ci95": half,
                "right_label": right.tolist(),
                "right_label_rate": float(right.mean()),
                "junk_rate": float(junk.mean()),
                "residual_over_expected": float(np.median(residual) / expected),
                "seconds_per_image": seconds / args.n_images,
                "cpu_seconds_per_image": cpu
                / args.n_images,  # not inflated by other jobs on the machine
            }
        ]

    def describe(cell: Cell, records: list[dict]) -> str:
        run = records[0]
        head = f"{cell.spec['operator']:6s} {cell.spec['name']:28s}"
        if "failed" in run:
            return f"{head} FAILED: {run['failed']}"
        return (
            f"{head} PSNR {run['psnr_mean']:6.2f} ± {run['psnr_ci95']:4.2f}"
            f"  right digit {100 * run['right_label_rate']:3.0f} %  junk {100 * run['junk_rate']:3.0f} %"
            f"  residual/expected {run['residual_over_expected']:5.2f}  {run['seconds_per_image']:5.2f} s/image"
        )

    records = run_cells(
        args.out,
        "digits_sweep",
        cells,
        compute,
        quiet=args.quiet,
        log=None if args.quiet else say,
        describe=describe,
    )
    if records is None:  # not the main process: its cells are written
        return
    for cell, run in zip(cells, records, strict=True):
        per_op = results["runs"].setdefault(
            cell.spec["operator"], dict(earlier["runs"].get(cell.spec["operator"], {}))
        )
        per_op[cell.spec["name"]] = run
    for runs in results["runs"].values():  # paired differences to the reference configuration
        base = runs.get(reference, {})
        for name, run in runs.items():
            if name == reference or "psnr" not in run or "psnr" not in base:
                continue
            run["diff_to_reference"], run["diff_ci95"] = t_interval(
                np.asarray(run["psnr"]) - np.asarray(base["psnr"])
            )
            if "right_label" in base:
                run["right_label_diff"], run["right_label_diff_ci95"] = t_interval(
                    np.asarray(run["right_label"]) - np.asarray(base["right_label"])
                )
    write(results, args.out)
    print(markdown(results))


if __name__ == "__main__":
    main()
