"""An exact-posterior check for any posterior sampler, yours included.

    python -m mgps validate --sampler mypackage.module:my_sampler
    python -m mgps validate --sampler ./my_sampler.py:my_sampler --compare dps,mgps
    python -m mgps validate --sampler daps --problems mixture-d10,gaussian-d16

A sampler is a generator function written against the same interface as the registered ones
(see ``mgps/samplers/dps.py``): ``fn(prior, problem, *, num_samples, generator, **params)``
yielding :class:`mgps.Step` objects, the last one's ``x0_hat`` being the samples. It only
needs ``prior.x0_pred(x_t, t)``, ``prior.alphas_cumprod`` and ``problem.operator.A`` (linear
here, so ``A_adjoint`` and, for these problems, the SVD interface are there too).

It runs, beside the registered samplers, on problems whose posterior is known exactly:

* ``mixture-d10``, ``mixture-d20``, ``mixture-d100``: the 25-component Gaussian mixture of
  the paper's Table 1 (modes 8 apart) seen through random Gaussian projections;
* ``gaussian-d16``: a full-covariance Gaussian (the posterior is Gaussian);
* ``digits-exact``: box inpainting of a held-out test digit under the ``digits-exact`` prior
  (a mixture of probabilistic PCA fitted to the digits; 784 pixels).

For each problem and sampler it reports the sliced Wasserstein distance (100 fixed slices) to
as many exact posterior samples, with two rows for scale: a second set of exact samples (the
Monte-Carlo floor: no sampler can be expected below it) and the prior's samples (a sampler
that ignored the observation). ``relative`` = (SW − floor)/(prior − floor): 0 is exact, 1 is
no better than the prior; the last column averages it over the problems. Also the RMSE of
the sample mean to the exact posterior mean, and seconds (wall time, one process).

Registered samplers run with the settings of the project's benchmarks: the Gaussian-mixture
table's (``GMM_DEFAULTS``, else the sampler's defaults) on the vector problems, the image
table's steps and per-task presets on ``digits-exact``.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import inspect
import json
import math
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..arguments import Setting, add_param_argument, add_run_arguments
from ..metrics import random_directions, sliced_wasserstein
from ..registry import SAMPLERS, parse_value
from ..types import DEFAULT_SIGMA_Y, InverseProblem, Step

__all__ = ["PROBLEMS", "gaussian_problem", "load_sampler", "validate", "add_validate_command"]


@dataclass
class ExactProblem:
    """A prior, an observation and the exact posterior (a Gaussian mixture)."""

    name: str
    description: str
    prior: Any
    problem: InverseProblem
    posterior: Any
    operator_name: str | None = None  # the registry name of an image operator (its presets)
    num_samples: int = 1000


def _mixture(dim: int, obs_dim: int, sigma_y: float, seed: int) -> Callable[[], ExactProblem]:
    def build() -> ExactProblem:
        from .gmm import make_instance

        inst = make_instance(dim, obs_dim, sigma_y, seed)
        return ExactProblem(
            f"mixture-d{dim}",
            f"25-component mixture, d = {dim}, d_y = {obs_dim}, σ_y = {sigma_y}",
            inst.prior,
            inst.problem,
            inst.posterior,
        )

    return build


def gaussian_problem(
    dim: int = 16, obs_dim: int = 4, sigma_y: float = 0.3, seed: int = 16
) -> ExactProblem:
    """A random full-covariance Gaussian prior N(m, L Lᵀ/d + I/2) seen through a random
    Gaussian matrix; its posterior is Gaussian."""
    from ..operators import MatrixOperator, measure
    from ..priors import gaussian_prior

    g = torch.Generator().manual_seed(seed)
    d, f64 = dim, torch.float64
    L = torch.randn(d, d, generator=g, dtype=f64)
    mean, cov = torch.randn(d, generator=g, dtype=f64), L @ L.T / d + 0.5 * torch.eye(d, dtype=f64)
    prior = gaussian_prior(mean, cov)
    op = MatrixOperator(torch.randn(obs_dim, d, generator=g, dtype=f64))
    problem = measure(prior.sample(1, g), op, sigma_y, g)
    return ExactProblem(
        f"gaussian-d{dim}",
        f"full-covariance Gaussian, d = {dim}, d_y = {obs_dim}, σ_y = {sigma_y}",
        prior,
        problem,
        prior.posterior_for(problem),
    )


def _digits() -> ExactProblem:
    from ..operators import measure
    from ..registry import OPERATORS, PRIORS
    from .exact_table import held_out_digits

    prior = PRIORS["digits-exact"].obj(dtype=torch.float32)
    op = OPERATORS["box"].obj(prior.shape)
    problem = measure(held_out_digits(1), op, DEFAULT_SIGMA_Y, torch.Generator().manual_seed(0))
    return ExactProblem(
        "digits-exact",
        "box inpainting of test digit 0, digits-exact prior (784 pixels), σ_y = 0.05",
        prior,
        problem,
        prior.posterior_for(problem),
        operator_name="box",
        num_samples=16,
    )


def _has_digits() -> bool:
    from .defaults import held_out_path

    return held_out_path("digits").is_file()


PROBLEMS: dict[str, Callable[[], ExactProblem]] = {
    "mixture-d10": _mixture(10, 3, 0.5, 0),  # the test suite's problem
    "mixture-d20": _mixture(20, 1, DEFAULT_SIGMA_Y, 20_000),  # instance 0 of the d = 20 table row
    "mixture-d100": _mixture(100, 5, 0.1, 100),
    "gaussian-d16": gaussian_problem,
    "digits-exact": _digits,
}


def load_sampler(spec: str) -> tuple[Callable[..., Iterator[Step]], str]:
    """A sampler from a registered name, ``package.module:function`` or ``path/file.py:function``."""
    if spec in SAMPLERS:
        return SAMPLERS[spec].obj, SAMPLERS[spec].label
    module_name, sep, attr = spec.rpartition(":")
    if not sep or not module_name or not attr:
        raise ValueError(
            f"--sampler {spec!r} is neither a registered sampler ({', '.join(SAMPLERS.names())}) "
            "nor of the form package.module:function or path/to/file.py:function"
        )
    if module_name.endswith(".py") or Path(module_name).is_file():
        path = Path(module_name)
        if not path.is_file():
            raise ValueError(f"--sampler {spec!r}: the file {str(path)!r} does not exist")
        module_spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(module_spec)
        sys.modules.setdefault(path.stem, module)
        try:
            module_spec.loader.exec_module(module)
        except Exception as exc:  # noqa: BLE001 - a user's file may raise anything on import
            raise ValueError(
                f"--sampler {spec!r}: importing {str(path)!r} failed: {type(exc).__name__}: {exc}"
            ) from exc
    else:
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise ValueError(
                f"--sampler {spec!r}: cannot import {module_name!r} ({exc}); is its folder on "
                "PYTHONPATH, or give the file: path/to/file.py:function"
            ) from exc
    fn = getattr(module, attr, None)
    if fn is None:
        public = [n for n in dir(module) if callable(getattr(module, n)) and not n.startswith("_")]
        raise ValueError(
            f"--sampler {spec!r}: {module_name!r} has no {attr!r}; its functions: {', '.join(public) or 'none'}"
        )
    if not callable(fn):
        raise ValueError(f"--sampler {spec!r}: {attr!r} is not a function")
    return fn, spec


def _user_params(fn: Callable, items: list[Setting] | None, sampler: str) -> dict[str, Any]:
    """``--param`` items (``NAME=VALUE``, or ``SAMPLER:NAME=VALUE`` with SAMPLER the
    ``--sampler`` as given) typed by the function's keyword defaults (else int, float, text)."""
    sig = inspect.signature(fn)
    out: dict[str, Any] = {}
    for item in items or []:
        if item.sampler not in (None, sampler):
            raise ValueError(
                f"{item.text!r} names the sampler {item.sampler!r}, but --sampler is {sampler!r}"
            )
        name, text = item.name, item.value
        param = sig.parameters.get(name)
        takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in sig.parameters.values())
        if param is None and not takes_any:
            raise ValueError(
                f"the sampler has no parameter {name!r}; its parameters: {', '.join(sig.parameters)}"
            )
        default = None if param is None else param.default
        if default is None or default is inspect.Parameter.empty:
            for kind in (int, float):
                try:
                    out[name] = parse_value(text, kind)
                    break
                except ValueError:
                    continue
            else:
                out[name] = parse_value(text, str)
        else:
            out[name] = parse_value(text, type(default))
    return out


def _registered_settings(name: str, exact: ExactProblem) -> dict[str, Any]:
    if exact.operator_name is None:
        from .gmm import sampler_kwargs

        return sampler_kwargs(name)
    from ..presets import task_defaults
    from .exact_table import DEFAULT_STEPS

    steps = DEFAULT_STEPS.get(name, SAMPLERS[name].defaults().get("num_steps"))
    return {"num_steps": steps, **task_defaults(name, exact.operator_name)}


def _draw(
    fn, exact: ExactProblem, params: dict[str, Any], seed: int, device: torch.device
) -> tuple[torch.Tensor, float]:
    """Run ``fn`` to completion (its prior on ``device``); check what it returns; the samples
    as float64 ``(n, d)`` on the CPU."""
    n = exact.num_samples
    prior = exact.prior if device.type == "cpu" else exact.prior.to(device=device)
    start = time.perf_counter()
    stream = fn(
        prior,
        exact.problem,
        num_samples=n,
        generator=torch.Generator().manual_seed(seed),
        **params,
    )
    if not isinstance(stream, Iterator):
        raise TypeError(
            f"it returned {type(stream).__name__}, not a generator of mgps.Step (use yield)"
        )
    last = None
    for step in stream:
        last = step
    seconds = time.perf_counter() - start
    x = getattr(last, "x0_hat", None)
    if not isinstance(x, torch.Tensor):
        raise TypeError(
            "its last yield has no tensor x0_hat; yield mgps.Step(index, num_steps, t, x_t, x0_hat)"
        )
    expected = (n, *exact.prior.shape)
    if tuple(x.shape) != expected:
        raise ValueError(f"it returned samples of shape {tuple(x.shape)}, expected {expected}")
    if not bool(torch.isfinite(x).all()):
        raise ValueError("its samples contain NaN or inf")
    return x.detach().reshape(n, -1).double().cpu(), seconds


def validate(
    sampler: str,
    *,
    params: dict[str, Any] | None = None,
    compare: list[str] | None = None,
    problems: list[str] | None = None,
    seed: int = 0,
    out: str | Path | None = None,
    device: torch.device | str = "cpu",
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Run ``sampler`` (a spec for :func:`load_sampler`) and the ``compare`` samplers on the
    exact problems; return (and with ``out``, write) the records and the Markdown table."""
    fn, label = load_sampler(sampler)
    device = torch.device(device)
    names = list(problems or PROBLEMS)
    if not problems and not _has_digits():
        names.remove("digits-exact")
        log(
            "note: skipping the digits-exact problem: its test digit is in assets/data/ of a checkout"
        )
    unknown = [n for n in names if n not in PROBLEMS]
    if unknown:
        raise ValueError(
            f"unknown problem(s) {', '.join(unknown)}; choose from {', '.join(PROBLEMS)}"
        )
    compare = list(SAMPLERS.names(with_tag="pixel") if compare is None else compare)
    for name in compare:
        SAMPLERS[name]  # a clear error for unknown names
    compare = [n for n in compare if not (sampler in SAMPLERS and n == sampler)]
    registered = sampler in SAMPLERS
    runs = [(sampler if registered else label, fn, dict(params or {}), True)]
    runs += [(n, SAMPLERS[n].obj, None, False) for n in compare]
    records: list[dict[str, Any]] = []
    descriptions = {}
    for problem_name in names:
        exact = PROBLEMS[problem_name]()
        descriptions[problem_name] = exact.description
        n = exact.num_samples
        g = torch.Generator().manual_seed(seed + 1)
        reference = exact.posterior.sample(n, g).reshape(n, -1)
        directions = random_directions(reference.shape[1], 100, seed=seed)
        exact_mean = exact.posterior.mean().reshape(-1)

        def record(
            who: str, x: torch.Tensor | None, seconds: float, error: str = "", **extra
        ) -> None:
            row = {
                "problem": problem_name,
                "sampler": who,
                "seconds": seconds,
                "error": error,
                **extra,
            }
            if x is not None:
                row["sw"] = sliced_wasserstein(x, reference, directions=directions)
                row["mean_rmse"] = float((x.mean(0) - exact_mean).pow(2).mean().sqrt())
            records.append(row)

        record("exact (Monte-Carlo floor)", exact.posterior.sample(n, g).reshape(n, -1), 0.0)
        record("prior (scale)", exact.prior.sample(n, g).reshape(n, -1).double(), 0.0)
        for who, run_fn, user_params, yours in runs:
            kwargs = dict(user_params or {})
            if who in SAMPLERS:  # a registered sampler: the benchmarks' settings, then --param
                kwargs = {**_registered_settings(who, exact), **kwargs}
            try:
                x, seconds = _draw(run_fn, exact, kwargs, seed + 2, device)
                record(who, x, seconds, params=kwargs, yours=yours)
            except Exception as exc:  # noqa: BLE001 - report any failure in the table
                record(
                    who, None, math.nan, f"{type(exc).__name__}: {exc}", params=kwargs, yours=yours
                )
            last = records[-1]
            status = last["error"] or f"SW {last['sw']:.3f} ({last['seconds']:.1f} s)"
            log(f"{problem_name:13s} {who:28s} {status}")
    table = markdown(records, names, [r[0] for r in runs], descriptions, seed)
    result = {
        "sampler": sampler,
        "problems": names,
        "seed": seed,
        "device": str(device),
        "records": records,
        "table": table,
    }
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "validate.json").write_text(json.dumps(result, indent=1, default=str))
        (out / "validate.md").write_text(table)
    return result


def markdown(
    records: list[dict[str, Any]],
    problems: list[str],
    samplers: list[str],
    descriptions: dict[str, str],
    seed: int,
) -> str:
    """The table: one row per sampler, one column per problem (SW, seconds) and the mean
    relative distance."""

    def get(problem: str, who: str) -> dict[str, Any] | None:
        return next((r for r in records if r["problem"] == problem and r["sampler"] == who), None)

    floor_name, prior_name = "exact (Monte-Carlo floor)", "prior (scale)"
    labels = {n: (SAMPLERS[n].label if n in SAMPLERS else n) for n in samplers}
    labels[samplers[0]] = f"**{labels[samplers[0]]}** (checked)"
    lines = [
        "| sampler | " + " | ".join(problems) + " | mean relative |",
        "|---|" + "---|" * (len(problems) + 1),
    ]
    for who in samplers:
        cells, relative = [], []
        for p in problems:
            r, floor, scale = get(p, who), get(p, floor_name), get(p, prior_name)
            if r is None or r["error"]:
                cells.append("failed" if r is not None else "–")
                relative.append(math.nan)
                continue
            cells.append(f"{r['sw']:.3f} ({r['seconds']:.1f} s)")
            relative.append((r["sw"] - floor["sw"]) / (scale["sw"] - floor["sw"]))
        finite = [v for v in relative if math.isfinite(v)]
        mean = (
            f"{np.mean(finite):.2f}"
            + ("" if len(finite) == len(relative) else f" ({len(finite)} of {len(relative)})")
            if finite
            else "–"
        )
        lines.append(f"| {labels[who]} | " + " | ".join(cells) + f" | {mean} |")
    for who in (floor_name, prior_name):
        cells = [f"{get(p, who)['sw']:.3f}" for p in problems]
        lines.append(
            f"| {who} | " + " | ".join(cells) + " | " + ("0" if who == floor_name else "1") + " |"
        )
    lines += [
        "",
        "Sliced Wasserstein distance (100 fixed slices) to as many exact posterior samples (lower is better), seconds in brackets; "
        "relative = (SW − floor)/(prior − floor), 0 = exact, 1 = no better than the prior. Problems:",
    ]
    lines += [f"- `{p}`: {descriptions[p]}" for p in problems]
    failures = [r for r in records if r.get("error")]
    if failures:
        lines += ["", "Failures:"] + [
            f"- {r['sampler']} on {r['problem']}: {r['error']}" for r in failures
        ]
    mean_rmse = {
        who: [
            get(p, who)["mean_rmse"] for p in problems if get(p, who) and not get(p, who)["error"]
        ]
        for who in samplers
    }
    lines += [
        "",
        "RMSE of the sample mean to the exact posterior mean: "
        + "; ".join(
            f"{labels[w]} " + ", ".join(f"{v:.3f}" for v in vals)
            for w, vals in mean_rmse.items()
            if vals
        )
        + f". Seed {seed}.",
        "",
    ]
    return "\n".join(lines)


def cmd_validate(args: argparse.Namespace) -> int:
    from ..devices import pick_device

    fn, _ = load_sampler(args.sampler)
    params = _user_params(fn, args.param, args.sampler)
    compare = None
    if args.compare is not None:
        compare = [] if args.compare.strip().lower() in ("", "none") else args.compare.split(",")
    result = validate(
        args.sampler,
        params=params,
        compare=compare,
        problems=args.problems.split(",") if args.problems else None,
        seed=args.seed,
        out=args.out,
        device=pick_device(args.device),
        log=(lambda *_: None) if args.quiet else print,
    )
    print()
    print(result["table"])
    return 0


def add_validate_command(subparsers: argparse._SubParsersAction) -> None:
    """Add ``validate`` to the ``python -m mgps`` sub-commands."""
    p = subparsers.add_parser(
        "validate",
        help="check a sampler (yours or a registered one) against exact posteriors",
        description=__doc__.split("\n\n")[0] + " Problems: " + ", ".join(PROBLEMS) + ".",
    )
    p.add_argument(
        "--sampler",
        required=True,
        help="a registered name, package.module:function, or path/to/file.py:function",
    )
    add_param_argument(p, help="a keyword argument of your sampler")
    p.add_argument(
        "--compare",
        default=None,
        help="registered samplers to run beside it, comma-separated, or 'none' (default: every pixel-space sampler)",
    )
    p.add_argument(
        "--problems", default=None, help=f"comma-separated subset of {','.join(PROBLEMS)}"
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=None, help="folder for validate.json and validate.md")
    p.add_argument("--quiet", action="store_true", help="print only the table")
    add_run_arguments(p, dtype=False, quiet=False)
    p.set_defaults(func=cmd_validate)
