"""The ``ecg`` command of ``python -m mgps``.

Wire it into :mod:`mgps.cli` with two lines in ``build_parser``::

    from .ecg.cli import add_ecg_commands
    add_ecg_commands(sub)

Commands::

    python -m mgps ecg table --out results/ecg [--n-windows 20] [--samples 4]
        [--samplers mgps,dps] [--tasks missing_block,missing_leads]
        [--param mgps:num_steps=300] [--prior ecg] [--sigma-y 0.05] [--seed 0]
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

__all__ = ["add_ecg_commands", "cmd_ecg_table"]


def _overrides(items: list[str] | None) -> dict[str, dict[str, Any]]:
    from ..cli import parse_params
    from ..registry import SAMPLERS

    out: dict[str, dict[str, Any]] = {}
    for item in items or []:
        name, _, rest = item.partition(":")
        if not rest:
            raise ValueError(f"--param expects sampler:name=value, got {item!r}")
        out.setdefault(name, {}).update(parse_params(SAMPLERS[name], [rest]))
    return out


def cmd_ecg_table(args: argparse.Namespace) -> int:
    """Run :func:`mgps.ecg.benchmark.table` and print the Markdown table."""
    from .benchmark import table

    prior: Any = args.prior
    if prior != "ecg" and Path(prior).is_dir():
        from .prior import load_ecg_prior

        prior = load_ecg_prior(prior)
    table(
        args.out,
        prior=prior,
        data_path=args.data,
        num_windows=args.n_windows,
        num_samples=args.samples,
        samplers=args.samplers.split(",") if args.samplers else None,
        tasks=args.tasks.split(",") if args.tasks else ("missing_block", "missing_leads"),
        overrides=_overrides(args.param),
        sigma_y=args.sigma_y,
        seed=args.seed,
        chunk_windows=args.chunk_windows,
        log=(lambda *_: None) if args.quiet else print,
    )
    print((Path(args.out) / "ecg_table.md").read_text())
    return 0


def add_ecg_commands(subparsers: argparse._SubParsersAction) -> None:
    """Add ``ecg table`` to the ``python -m mgps`` sub-commands (``subparsers`` is the object
    returned by ``parser.add_subparsers``)."""
    from . import prior as _prior  # noqa: F401  (registers PRIORS["ecg"] and the operators)
    from .benchmark import DEFAULT_SAMPLERS, PAPER_STEPS

    ecg = subparsers.add_parser("ecg", help="ECG benchmarks (synthetic 12-lead ECG prior)")
    sub = ecg.add_subparsers(dest="ecg_command", required=True)
    p = sub.add_parser(
        "table",
        help="MAE/RMSE of every sampler on held-out windows: missing block and missing leads",
        description=(
            "Paper §4.2 on the synthetic ECG prior. Step counts (Table 14): "
            + ", ".join(f"{k} {v}" for k, v in PAPER_STEPS.items())
            + ". Paper-sized run: --n-windows 200 --samples 10 (hours on one CPU core)."
        ),
    )
    p.add_argument("--out", required=True, help="output folder (ecg_table.json, ecg_table.md)")
    p.add_argument("--prior", default="ecg", help="registered prior name or an EcgPrior folder")
    p.add_argument("--data", default=None, help="ECG .npz (default assets/ecg/ecg_windows.npz)")
    p.add_argument("--n-windows", type=int, default=20, help="held-out test windows (default 20)")
    p.add_argument(
        "--samples", type=int, default=4, help="posterior samples per window (default 4)"
    )
    p.add_argument(
        "--samplers", default=None, help=f"comma-separated (default: {','.join(DEFAULT_SAMPLERS)})"
    )
    p.add_argument("--tasks", default=None, help="comma-separated: missing_block,missing_leads")
    p.add_argument(
        "--param", action="append", metavar="SAMPLER:NAME=VALUE", help="e.g. mgps:num_steps=300"
    )
    p.add_argument("--sigma-y", type=float, default=0.05)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--chunk-windows", type=int, default=None, help="windows per sampler call")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.set_defaults(func=cmd_ecg_table)
