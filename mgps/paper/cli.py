"""The reproduction commands of ``mgps`` (``python -m mgps``): the paper's tables and figures
and the project's own benchmark tables.

:mod:`mgps.cli` adds them to its parser through :func:`add_commands`, its one registration
point; nothing here imports :mod:`mgps.cli` (the shared ``--param`` parsing is in
:mod:`mgps.arguments`).

Commands::

    gmm sample      posterior samples for a Gaussian-mixture problem file (.npz)
    gmm table       the paper's Table 1 (SW to the exact posterior, every sampler)
    gmm ablation    Figure 4 (MGPS's SW against the number of gradient steps)
    gaussian-eta    Example 3.2 (exact W2 of the MGPS surrogate against the midpoint η)
    tradeoff sweep  the trade-off tab's teaching sweep (2-D mixture, SW against η)
    images table    every sampler × operator pair on a folder of images
    images exact    samplers against the exact posterior of the digits-exact prior
    images defaults every sampler × task with its defaults, on held-out digits or clothes
    ecg table       ECG missing block / missing leads: MAE and RMSE per sampler
    validate        any sampler (yours too) against exact posteriors, beside the registered ones
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from ..arguments import (
    add_param_argument,
    add_run_arguments,
    add_steps_argument,
    params_for,
    sampler_overrides,
    steps_by_sampler,
    steps_for,
)
from ..devices import parse_dtype
from ..progress import say
from ..registry import SAMPLERS
from ..types import DEFAULT_SIGMA_Y
from . import needs_paper_extra
from .tradeoff import add_tradeoff_commands
from .validate import add_validate_command

__all__ = ["add_commands", "add_ecg_commands"]


def _names(text: str | None) -> list[str] | None:
    """A comma-separated ``--samplers`` (None: the command's own default)."""
    return text.split(",") if text else None


# --------------------------------------------------------------------------- images
@needs_paper_extra
def cmd_images_table(args: argparse.Namespace) -> int:
    from .cells import process_device
    from .images import DEFAULT_OPERATORS, table

    result = table(
        args.prior,
        args.images,
        args.out,
        samplers=args.samplers.split(",") if args.samplers else None,
        operators=args.operators.split(",") if args.operators else DEFAULT_OPERATORS,
        overrides=sampler_overrides(args.param, _names(args.samplers)),
        sigma_y=args.sigma_y,
        num_images=args.n_images,
        seed=args.seed,
        device=process_device(args.device),
        dtype=parse_dtype(args.dtype),
        quiet=args.quiet,
        log=None if args.quiet else say,
    )
    if result is not None:  # the main process (the others only computed cells)
        print((Path(args.out) / "images_table.md").read_text())
    return 0


@needs_paper_extra
def cmd_images_exact(args: argparse.Namespace) -> int:
    from .cells import process_device
    from .exact_table import exact_table

    steps, others = steps_by_sampler(args.steps)
    if others is not None:
        steps = {**dict.fromkeys(SAMPLERS.names(), others), **steps}
    result = exact_table(
        args.out,
        operators=args.operators.split(","),
        samplers=args.samplers.split(",") if args.samplers else None,
        num_images=args.n_images,
        num_samples=args.n_samples,
        sigma_y=args.sigma_y,
        steps=steps,
        overrides=sampler_overrides(args.param, _names(args.samplers)),
        seed=args.seed,
        device=process_device(args.device),
        quiet=args.quiet,
        log=None if args.quiet else say,
    )
    if result is not None:
        print((Path(args.out) / "exact_table.md").read_text())
    return 0


@needs_paper_extra
def cmd_images_defaults(args: argparse.Namespace) -> int:
    from .defaults import defaults_sweep

    steps, others = steps_by_sampler(args.steps)
    if others is not None:
        steps["others"] = others
    result = defaults_sweep(
        args.prior,
        args.out,
        num_images=args.n_images,
        first=args.first,
        operators=args.operators.split(",") if args.operators else None,
        samplers=args.samplers.split(",") if args.samplers else None,
        steps=steps,
        sigma_y=args.sigma_y,
        seed=args.seed,
        device=args.device,
        dtype=parse_dtype(args.dtype),
        quiet=args.quiet,
        log=None if args.quiet else say,
    )
    if result is not None:
        print((Path(args.out) / "defaults.md").read_text())
    return 0


def add_image_commands(sub: argparse._SubParsersAction) -> None:
    """``images table``, ``images exact`` and ``images defaults``."""
    images = sub.add_parser("images", help="image benchmarks").add_subparsers(
        dest="images_command", required=True
    )
    p = images.add_parser(
        "table", help="every sampler × operator pair the tags allow, on a folder of images"
    )
    p.add_argument("--prior", required=True)
    p.add_argument("--images", required=True, help="folder of images")
    p.add_argument("--out", required=True)
    p.add_argument(
        "--samplers", default=None, help="comma-separated subset (default: all that apply)"
    )
    p.add_argument(
        "--operators",
        default=None,
        help="comma-separated (default: box,half,sr4,gaussian_blur,motion_blur,jpeg,phase_retrieval,hdr)",
    )
    add_param_argument(p, help="a sampler parameter, e.g. mgps:num_steps=50")
    p.add_argument("--n-images", type=int, default=None)
    p.add_argument("--sigma-y", type=float, default=DEFAULT_SIGMA_Y)
    p.add_argument("--seed", type=int, default=0)
    add_run_arguments(p)
    p.set_defaults(func=cmd_images_table)

    p = images.add_parser(
        "exact", help="samplers against the exact posterior of the digits-exact prior"
    )
    p.add_argument("--out", required=True)
    p.add_argument("--operators", default="box,half,sr4")
    p.add_argument("--samplers", default=None)
    p.add_argument("--n-images", type=int, default=5)
    p.add_argument("--n-samples", type=int, default=32)
    p.add_argument("--sigma-y", type=float, default=DEFAULT_SIGMA_Y)
    add_steps_argument(p, help="diffusion steps, e.g. mgps=100 (defaults: MGPS 100, others 1000)")
    add_param_argument(p, help="a sampler parameter")
    p.add_argument("--seed", type=int, default=0)
    add_run_arguments(p, dtype=False)
    p.set_defaults(func=cmd_images_exact)

    p = images.add_parser(
        "defaults",
        help="every sampler × task it accepts, with the defaults of the app and the command line, "
        "on held-out digits or clothes",
    )
    p.add_argument("--prior", default="digits", help="digits, digits-exact or fashion")
    p.add_argument("--out", required=True, help="output folder (a rerun resumes there)")
    p.add_argument("--n-images", type=int, default=20, help="how many held-out test images")
    p.add_argument("--first", type=int, default=350, help="index of the first test image")
    p.add_argument(
        "--operators", default=None, help="comma-separated (default: every image operator)"
    )
    p.add_argument("--samplers", default=None, help="comma-separated (default: every sampler)")
    add_steps_argument(
        p,
        help="diffusion steps (default: each sampler's own; the app's: --steps mgps=50 "
        "--steps 100)",
    )
    p.add_argument("--sigma-y", type=float, default=DEFAULT_SIGMA_Y)
    p.add_argument("--seed", type=int, default=0)
    add_run_arguments(p)
    p.set_defaults(func=cmd_images_defaults)


# --------------------------------------------------------------------------- ECG
@needs_paper_extra
def cmd_ecg_table(args: argparse.Namespace) -> int:
    """Run :func:`mgps.paper.ecg.table` and print the Markdown table."""
    from .cells import process_device
    from .ecg import table

    prior: Any = args.prior
    if prior != "ecg" and Path(prior).is_dir():
        from ..ecg.prior import load_ecg_prior

        prior = load_ecg_prior(prior)
    result = table(
        args.out,
        prior=prior,
        data_path=args.data,
        num_windows=args.n_windows,
        num_samples=args.n_samples,
        samplers=args.samplers.split(",") if args.samplers else None,
        tasks=args.tasks.split(",") if args.tasks else ("missing_block", "missing_leads"),
        overrides=sampler_overrides(args.param, _names(args.samplers)),
        sigma_y=args.sigma_y,
        seed=args.seed,
        chunk_windows=args.chunk_windows,
        device=process_device(args.device),
        dtype=parse_dtype(args.dtype),
        quiet=args.quiet,
        log=None if args.quiet else say,
    )
    if result is not None:
        print((Path(args.out) / "ecg_table.md").read_text())
    return 0


def add_ecg_commands(subparsers: argparse._SubParsersAction) -> None:
    """``ecg table`` (``subparsers`` is the object returned by ``parser.add_subparsers``)."""
    from ..ecg.tasks import PAPER_STEPS
    from .ecg import DEFAULT_SAMPLERS

    ecg = subparsers.add_parser("ecg", help="ECG benchmarks (synthetic 12-lead ECG prior)")
    sub = ecg.add_subparsers(dest="ecg_command", required=True)
    p = sub.add_parser(
        "table",
        help="MAE/RMSE of every sampler on held-out windows: missing block and missing leads",
        description=(
            "Paper §4.2 on the synthetic ECG prior. Step counts (Table 14): "
            + ", ".join(f"{k} {v}" for k, v in PAPER_STEPS.items())
            + ". Paper-sized run: --n-windows 200 --n-samples 10 (hours on one CPU core)."
        ),
    )
    p.add_argument("--out", required=True, help="output folder (ecg_table.json, ecg_table.md)")
    p.add_argument("--prior", default="ecg", help="registered prior name or an EcgPrior folder")
    p.add_argument("--data", default=None, help="ECG .npz (default assets/ecg/ecg_windows.npz)")
    p.add_argument("--n-windows", type=int, default=20, help="held-out test windows (default 20)")
    p.add_argument(
        "--n-samples", type=int, default=4, help="posterior samples per window (default 4)"
    )
    p.add_argument(
        "--samplers", default=None, help=f"comma-separated (default: {','.join(DEFAULT_SAMPLERS)})"
    )
    p.add_argument("--tasks", default=None, help="comma-separated: missing_block,missing_leads")
    add_param_argument(p, help="a sampler parameter, e.g. mgps:num_steps=300")
    p.add_argument("--sigma-y", type=float, default=DEFAULT_SIGMA_Y)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--chunk-windows",
        type=int,
        default=None,
        help="windows per sampler call (a chunk × a sampler is the unit spread over processes)",
    )
    add_run_arguments(p)
    p.set_defaults(func=cmd_ecg_table)


# --------------------------------------------------------------------------- Gaussian mixtures
def cmd_gmm_sample(args: argparse.Namespace) -> int:
    from ..devices import pick_device
    from .gmm import load_problem, run_sampler

    entry = SAMPLERS[args.sampler]
    overrides = params_for(entry, args.param)
    steps = steps_for(args.steps, args.sampler)
    if steps is not None:
        overrides["num_steps"] = steps
    if args.n_samples < 1:
        raise ValueError(f"--n-samples must be at least 1, got {args.n_samples}")
    device = pick_device(args.device)
    inst = load_problem(args.problem)
    x, seconds = run_sampler(
        inst, args.sampler, args.n_samples, args.seed, device=device, **overrides
    )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.save(out, x.numpy())
    print(
        f"{entry.label}: wrote {x.shape[0]} samples of dimension {x.shape[1]} to {out} in {seconds:.2f} s"
    )
    return 0


def _parse_settings(text: str) -> list[tuple[int, int]]:
    settings = []
    for part in text.split(","):
        d, _, dy = part.strip().partition("x")
        settings.append((int(d), int(dy)))
    return settings


@needs_paper_extra
def cmd_gmm_table(args: argparse.Namespace) -> int:
    from .cells import process_device
    from .gmm import table

    samplers = args.samplers.split(",") if args.samplers else None
    for n in samplers or []:
        SAMPLERS[n]
    result = table(
        args.out,
        settings=_parse_settings(args.settings),
        num_instances=args.n_instances,
        num_samples=args.n_samples,
        num_slices=args.n_slices,
        sigma_y=args.sigma_y,
        samplers=samplers,
        overrides=sampler_overrides(args.param, _names(args.samplers)),
        seed=args.seed,
        device=process_device(args.device),
        quiet=args.quiet,
        log=None if args.quiet else say,
    )
    if result is not None:  # the main process (the others only computed cells)
        print((Path(args.out) / "gmm_table.md").read_text())
    return 0


@needs_paper_extra
def cmd_gmm_ablation(args: argparse.Namespace) -> int:
    from ..devices import pick_device
    from .gmm import ablation

    ablation(
        args.out,
        dim=args.dim,
        obs_dim=args.obs_dim,
        etas=[float(e) for e in args.etas.split(",")],
        gradient_steps=[int(m) for m in args.gradient_steps.split(",")],
        num_instances=args.n_instances,
        num_samples=args.n_samples,
        num_steps=steps_for(args.steps, "mgps", 300),
        sigma_y=args.sigma_y,
        seed=args.seed,
        device=pick_device(args.device),
    )
    print((Path(args.out) / "gmm_ablation.md").read_text())
    return 0


def add_gmm_commands(sub: argparse._SubParsersAction) -> None:
    """``gmm sample``, ``gmm table`` and ``gmm ablation``."""
    gmm = sub.add_parser("gmm", help="Gaussian-mixture problems and benchmarks").add_subparsers(
        dest="gmm_command", required=True
    )
    p = gmm.add_parser("sample", help="posterior samples for a problem file")
    p.add_argument(
        "--problem",
        required=True,
        help=".npz with weights (C,), means (C,d), optional covs (C,d,d), A (d_y,d), y (d_y,), sigma_y",
    )
    p.add_argument(
        "--sampler", required=True, help=f"one of: {', '.join(SAMPLERS.names(with_tag='pixel'))}"
    )
    p.add_argument("--n-samples", type=int, default=1000)
    p.add_argument("--seed", type=int, default=0)
    add_steps_argument(p, help="diffusion steps (default: the sampler's)")
    add_param_argument(p, help="override a sampler parameter")
    p.add_argument("--out", required=True, help="output .npy of shape (N, d)")
    add_run_arguments(p, dtype=False, quiet=False)
    p.set_defaults(func=cmd_gmm_sample)

    p = gmm.add_parser("table", help="Table 1: SW to the exact posterior for every sampler")
    p.add_argument("--out", required=True, help="output directory (gmm_table.json, gmm_table.md)")
    p.add_argument(
        "--settings", default="20x1,200x1", help="comma-separated d x d_y, default 20x1,200x1"
    )
    p.add_argument("--n-instances", type=int, default=20)
    p.add_argument("--n-samples", type=int, default=2000)
    p.add_argument("--n-slices", type=int, default=100)
    p.add_argument("--sigma-y", type=float, default=DEFAULT_SIGMA_Y)
    p.add_argument("--samplers", default=None, help="comma-separated subset (default: all)")
    add_param_argument(p, help="override a sampler parameter, e.g. mgps:midpoint=1")
    p.add_argument("--seed", type=int, default=0)
    add_run_arguments(p, dtype=False)
    p.set_defaults(func=cmd_gmm_table)

    p = gmm.add_parser(
        "ablation", help="Figure 4: MGPS SW against gradient steps per diffusion step"
    )
    p.add_argument("--out", required=True)
    p.add_argument("--dim", type=int, default=20)
    p.add_argument("--obs-dim", type=int, default=1)
    p.add_argument("--etas", default="0.5,1.0")
    p.add_argument("--gradient-steps", default="1,2,5,10,20")
    p.add_argument("--n-instances", type=int, default=10)
    p.add_argument("--n-samples", type=int, default=2000)
    add_steps_argument(p, help="MGPS's diffusion steps (default 300)")
    p.add_argument("--sigma-y", type=float, default=DEFAULT_SIGMA_Y)
    p.add_argument("--seed", type=int, default=0)
    add_run_arguments(p, dtype=False, quiet=False)
    p.set_defaults(func=cmd_gmm_ablation)


# --------------------------------------------------------------------------- Example 3.2
@needs_paper_extra
def cmd_gaussian_eta(args: argparse.Namespace) -> int:
    from .gaussian_eta import write_eta_curve

    etas = np.linspace(0, 1, args.n_etas + 2)[1:-1]
    w2 = write_eta_curve(
        args.out,
        etas=etas,
        seeds=list(range(args.n_seeds)),
        dim=args.dim,
        obs_dim=args.obs_dim,
        sigma_y=args.sigma_y,
        num_steps=steps_for(args.steps, "mgps", 300),
    )
    best = int(np.argmin(w2.mean(1)))
    print(f"wrote {args.out} and {Path(args.out).with_suffix('.html')}")
    print(
        f"minimum mean W2 {w2.mean(1)[best]:.3f} at eta = {etas[best]:.3f}; at eta = {etas[-1]:.3f}: {w2.mean(1)[-1]:.3f}"
    )
    return 0


def add_gaussian_eta_command(sub: argparse._SubParsersAction) -> None:
    """``gaussian-eta``."""
    p = sub.add_parser("gaussian-eta", help="Example 3.2: exact W2 of the MGPS surrogate against η")
    p.add_argument("--out", required=True, help="output CSV (a plot is written beside it as .html)")
    p.add_argument("--n-etas", type=int, default=20, help="number of η values in (0, 1)")
    p.add_argument("--n-seeds", type=int, default=3, help="random instances (seeds 0..N-1)")
    p.add_argument("--dim", type=int, default=100)
    p.add_argument("--obs-dim", type=int, default=50)
    p.add_argument("--sigma-y", type=float, default=0.1)
    add_steps_argument(p, help="diffusion steps (default 300)")
    p.set_defaults(func=cmd_gaussian_eta)


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Add every reproduction command to the sub-commands of ``python -m mgps``."""
    add_image_commands(sub)
    add_ecg_commands(sub)
    add_gmm_commands(sub)
    add_gaussian_eta_command(sub)
    add_tradeoff_commands(sub)
    add_validate_command(sub)
