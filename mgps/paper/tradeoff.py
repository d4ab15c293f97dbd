"""The teaching sweep behind the app's Midpoint trade-off tab: MGPS's sliced Wasserstein
distance to the exact posterior on the 2-D mixture (``mgps.mixture2d``) over problems × runs ×
an η grid, with 95 % intervals and paired comparisons (``mgps.mixture2d.eta_verdict``).

``mgps tradeoff sweep --out results/tradeoff_teaching/ --name teaching`` writes ``teaching.json`` (what
the app loads at start-up) and ``teaching.md`` (the table and the verdict, with the command);
``mgps tradeoff decomposition --out results/tradeoff_decomposition/decomposition.csv`` writes the curves of
the tab's "why" chart (``mgps.tradeoff.decomposition``, which the app computes itself).
"""

from __future__ import annotations

import argparse
import shlex
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..arguments import add_steps_argument, steps_for
from ..mixture2d import EtaSweep, EtaVerdict, TeachingSettings, eta_verdict, sweep_sw

__all__ = ["run_sweep", "sweep_markdown", "write_sweep", "add_tradeoff_commands"]

DEFAULT_ETAS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


def run_sweep(
    settings: TeachingSettings,
    etas: list[float],
    problems: list[int],
    runs: int = 1,
    *,
    command: str = "",
    log: Callable[[str], None] | None = None,
) -> EtaSweep:
    """SW of MGPS at every η on every problem, averaged over ``runs`` sampler seeds."""
    sw = np.zeros((len(etas), len(problems)))
    start = time.perf_counter()
    for j, problem in enumerate(problems):
        for i, eta in enumerate(etas):
            sw[i, j] = np.mean([sweep_sw(settings, problem, eta, r) for r in range(runs)])
        if log:
            log(f"problem {problem}: {len(etas) * runs} runs, {time.perf_counter() - start:.0f} s")
    return EtaSweep(settings, [float(e) for e in etas], list(problems), runs, sw, command)


def verdict_line(sweep: EtaSweep, v: EtaVerdict) -> str:
    """One sentence from the data: the best η, and whether the ends are clearly worse."""
    k = v.etas.index(v.best)
    line = f"lowest mean SW at η = {v.best:g} ({v.mean[k]:.2f} ± {v.half[k]:.2f})"
    if v.in_between:
        return line + "; η = 0 and η = 1 are both clearly worse (paired 95 % intervals)"
    tied_ends = [e for e in v.etas if e in (0.0, 1.0) and e != v.best and e not in v.worse]
    if tied_ends:
        ends = " and ".join(f"η = {e:g}" for e in tied_ends)
        return line + f"; not separated from {ends} (paired 95 % intervals): no in-between optimum"
    return line + "; an end of the range: no in-between optimum"


def sweep_markdown(sweep: EtaSweep) -> str:
    """The sweep as a markdown table (mean ± 95 % interval, paired difference to the best)."""
    v = eta_verdict(sweep)
    s = sweep.settings
    angle = "random per problem" if s.angle is None else f"{s.angle:.3f} rad"
    lines = [
        f"MGPS on the 2-D mixture: σ_y = {s.sigma_y}, {s.num_steps} steps, modes {s.spacing} "
        f"apart, direction {angle}, {s.num_samples} samples; {len(sweep.problems)} problems × "
        f"{sweep.runs} run(s).",
        "",
        f"Command: `{sweep.command}`" if sweep.command else "",
        "",
        "| η | mean SW ± 95 % | SW(η) − SW(best), paired ± 95 % | clearly worse |",
        "|---|---|---|---|",
    ]
    for i, e in enumerate(v.etas):
        worse = "yes" if e in v.worse else ("best" if e == v.best else "no")
        lines.append(
            f"| {e:g} | {v.mean[i]:.2f} ± {v.half[i]:.2f} | {v.diff[i]:+.2f} ± "
            f"{v.diff_half[i]:.2f} | {worse} |"
        )
    lines += ["", f"Verdict: {verdict_line(sweep, v)}.", ""]
    return "\n".join(lines)


def write_sweep(sweep: EtaSweep, out: str | Path, name: str) -> Path:
    """``<out>/<name>.json`` (what the app loads) and ``<out>/<name>.md``; returns the JSON."""
    import json

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}.json"
    path.write_text(json.dumps(sweep.to_json(), indent=1) + "\n")
    (out / f"{name}.md").write_text(sweep_markdown(sweep))
    return path


def _floats(text: str, what: str) -> list[float]:
    try:
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise ValueError(f"--{what} expects comma-separated numbers, got {text!r}") from None


def cmd_tradeoff_sweep(args: argparse.Namespace) -> int:
    from ..progress import say

    etas = _floats(args.etas, "etas")
    if any(not 0.0 <= e <= 1.0 for e in etas) or len(etas) < 2:
        raise ValueError(f"--etas needs at least 2 values in [0, 1], got {args.etas}")
    if args.n_problems < 2 or args.n_runs < 1:
        raise ValueError("--n-problems must be at least 2 and --n-runs at least 1")
    num_steps = steps_for(args.steps, "mgps", TeachingSettings().num_steps)
    settings = TeachingSettings(
        sigma_y=args.sigma_y,
        num_steps=num_steps,
        spacing=args.spacing,
        angle=args.angle,
        num_samples=args.n_samples,
    )
    command = " ".join(  # the whole setting, so that the command reproduces the file
        shlex.quote(str(a))
        for a in [
            "mgps",
            "tradeoff",
            "sweep",
            "--out",
            args.out,
            "--name",
            args.name,
            "--etas",
            ",".join(f"{e:g}" for e in etas),
            "--n-problems",
            args.n_problems,
            *(["--first-problem", args.first_problem] if args.first_problem else []),
            "--n-runs",
            args.n_runs,
            "--sigma-y",
            f"{args.sigma_y:g}",
            "--steps",
            num_steps,
            "--spacing",
            f"{args.spacing:g}",
            *([] if args.angle is None else ["--angle", f"{args.angle:g}"]),
            "--n-samples",
            args.n_samples,
        ]
    )
    sweep = run_sweep(
        settings,
        etas,
        list(range(args.first_problem, args.first_problem + args.n_problems)),
        args.n_runs,
        command=command,
        log=None if args.quiet else say,
    )
    path = write_sweep(sweep, args.out, args.name)
    print(f"wrote {path} and {path.with_suffix('.md')}")
    print(verdict_line(sweep, eta_verdict(sweep)))
    return 0


def cmd_tradeoff_decomposition(args: argparse.Namespace) -> int:
    import csv

    from ..tradeoff import ERRORS, decomposition

    etas = np.linspace(0.05, 1.0, args.n_etas)
    d = decomposition(
        etas,
        list(range(args.n_seeds)),
        dim=args.dim,
        obs_dim=args.obs_dim,
        sigma_y=args.sigma_y,
        num_steps=steps_for(args.steps, "mgps", 100),
    )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["eta", *[f"w2_{name}" for name in ERRORS]])
        for k, eta in enumerate(etas):
            writer.writerow([f"{eta:.4f}", *[f"{d.mean(name)[k]:.5f}" for name in ERRORS]])
    both = d.mean("surrogate")
    k = int(np.argmin(both))
    cross = d.crossing()
    print(f"wrote {out}")
    print(
        f"likelihood error {d.mean('likelihood')[0]:.3f} -> {d.mean('likelihood')[-1]:.3f}, "
        f"transition error {d.mean('transition')[0]:.3f} -> {d.mean('transition')[-1]:.3f} "
        f"(eta {etas[0]:.2f} -> {etas[-1]:.2f}); they cross at eta = "
        f"{'none' if cross is None else f'{cross:.2f}'}; the surrogate's minimum "
        f"{both[k]:.3f} at eta = {etas[k]:.2f}"
    )
    return 0


def add_tradeoff_commands(sub: argparse._SubParsersAction) -> None:
    """``tradeoff sweep`` and ``tradeoff decomposition``."""
    group = sub.add_parser(
        "tradeoff", help="the Midpoint trade-off tab's teaching sweep (2-D mixture)"
    ).add_subparsers(dest="tradeoff_command", required=True)
    d = TeachingSettings()
    p = group.add_parser("sweep", help="MGPS's SW against η over problems × runs × an η grid")
    p.add_argument("--out", required=True, help="output folder (the sweep as <name>.json, .md)")
    p.add_argument("--name", default="teaching")
    p.add_argument("--etas", default=",".join(f"{e:g}" for e in DEFAULT_ETAS))
    p.add_argument("--n-problems", type=int, default=20, help="problems (seeds 0..N-1)")
    p.add_argument("--first-problem", type=int, default=0)
    p.add_argument("--n-runs", type=int, default=1, help="sampler seeds per problem")
    p.add_argument("--sigma-y", type=float, default=d.sigma_y)
    add_steps_argument(p, help=f"MGPS's diffusion steps (default {d.num_steps})")
    p.add_argument("--spacing", type=float, default=d.spacing, help="distance between modes")
    p.add_argument(
        "--angle", type=float, default=None, help="observation direction, radians (random)"
    )
    p.add_argument("--n-samples", type=int, default=d.num_samples, help="posterior samples per run")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_tradeoff_sweep)

    p = group.add_parser(
        "decomposition",
        help="Example 3.2's W2 against η: the likelihood's error, the transition's, both, neither",
    )
    p.add_argument("--out", required=True, help="output CSV (eta and the mean W2 of each curve)")
    p.add_argument("--n-etas", type=int, default=20, help="η values from 0.05 to 1")
    p.add_argument("--n-seeds", type=int, default=3, help="random instances (seeds 0..N-1)")
    p.add_argument("--dim", type=int, default=20)
    p.add_argument("--obs-dim", type=int, default=10)
    p.add_argument("--sigma-y", type=float, default=0.1)
    add_steps_argument(p, help="diffusion steps (default 100)")
    p.set_defaults(func=cmd_tradeoff_decomposition)
