"""Command line: mgps <command> ... (or python -m mgps <command> ...).

The library's commands:

  samplers        list the samplers with their parameters
  operators       list the operators with their parameters
  priors          list the registered priors
  restore         restore an image file with any prior, operator and sampler

The reproduction commands of the paper's tables and figures and of the project's benchmark
tables (gmm, gaussian-eta, images, ecg) are defined in mgps/paper/cli.py and added here
through one registration point.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

import torch

from .arguments import add_run_arguments, parse_params
from .registry import SAMPLERS
from .types import SamplerDivergedError

__all__ = ["main", "parse_params"]

log = logging.getLogger("mgps")


def _set_threads(n: int | None) -> None:
    if n:
        torch.set_num_threads(n)


def cmd_samplers(args: argparse.Namespace) -> int:
    if args.task is not None:
        return _print_defaults(args.task)
    for entry in SAMPLERS:
        tags = ", ".join(sorted(entry.tags))
        print(f"{entry.name:10s} {entry.label:10s} [{tags}]  {entry.reference}")
        for p in entry.params:
            rng = f" [{p.low}, {p.high}]" if p.low is not None else ""
            print(f"    {p.name} = {p.default!r}{rng}  {p.help}")
    return 0


def _print_defaults(task: str) -> int:
    """The table of defaults on one task: every setting of every sampler, per context."""
    from .presets import CONTEXTS, is_task, settings
    from .registry import OPERATORS

    OPERATORS[task]  # a clear error for an unknown name
    if not is_task(task):
        raise ValueError(f"{task!r} is not an image task; the table covers: "
                         + ", ".join(OPERATORS.names(with_tag="image")))  # fmt: skip
    print(f"Defaults on {task} (mgps/presets.py), the settings that run when none is given:")
    for name, why in CONTEXTS.items():
        print(f"  {name}: {why}")
    for entry in SAMPLERS:
        by_context = {c: settings(entry.name, task, c) for c in CONTEXTS}
        first, *others = CONTEXTS
        print(f"{entry.name:10s} {first}: " + _settings_text(by_context[first]))
        for c in others:
            changed = {k: v for k, v in by_context[c].items() if by_context[first][k] != v}
            print(f"{'':10s} {c}: " + (_settings_text(changed) if changed else "the same"))
    return 0


def _settings_text(values: dict) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in values.items())


def cmd_operators(args: argparse.Namespace) -> int:
    from .registry import OPERATORS

    for entry in OPERATORS:
        print(f"{entry.name:22s} {entry.label:34s} [{', '.join(sorted(entry.tags))}]")
        for p in entry.params:
            print(f"    {p.name} = {p.default!r}  {p.help}")
    return 0


def cmd_priors(args: argparse.Namespace) -> int:
    from .registry import PRIORS

    for entry in PRIORS:
        hub = getattr(entry.obj, "hub_id", None)
        at = f" ({hub}@{entry.obj.revision or 'main'})" if hub else ""
        print(
            f"{entry.name:20s} {entry.label:40s} [{', '.join(sorted(entry.tags))}]  {entry.description}{at}"
        )
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    import json

    from .devices import parse_dtype, pick_device
    from .pipeline import Progress, prepare, restore_stream
    from .progress import bars_wanted, say, step_bar
    from .registry import OPERATORS
    from .utils.images import save_image

    device = pick_device(args.device)  # a device that is not there: a message, at once
    entry = SAMPLERS[args.sampler]
    op_entry = OPERATORS[args.operator]
    params = parse_params(entry, args.param)
    if args.steps is not None:
        params["num_steps"] = args.steps
    op_params = {}
    for pair in args.op_param or []:
        name, _, text = pair.partition("=")
        op_params[name.strip()] = op_entry.param(name.strip()).parse(text)
    setup = prepare(
        args.prior,
        args.image,
        args.operator,
        operator_params=op_params,
        mask=args.mask,
        mask_drawn_means=args.mask_convention,
        sigma_y=args.sigma_y,
        seed=args.seed,
        device=device,
        dtype=parse_dtype(args.dtype),
    )
    for note in setup.notes:
        print(f"note: {note}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    result = None
    with step_bar(enabled=bars_wanted(args.quiet), desc=entry.label, position=0) as on_step:
        for update in restore_stream(
            setup,
            args.sampler,
            num_samples=args.n_samples,
            params=params,
            seed=args.seed,
            every=max(1, args.progress_every),
            on_step=on_step,
        ):
            if isinstance(update, Progress):
                if args.progress_every and update.index % args.progress_every == 0:
                    say(
                        f"step {update.index + 1}/{update.num_steps} t={update.t} ‖y − A(x̂0)‖={float(update.residual_norm.mean()):.3f} ({update.seconds:.1f} s)"
                    )
            else:
                result = update
    assert result is not None
    save_image(setup.x_true, out / "input.png")
    save_image(result.observation, out / "observation.png")
    for k, sample in enumerate(result.samples):
        save_image(sample, out / f"sample_{k}.png")
    save_image(result.mean, out / "mean.png")
    std = result.std
    save_image(std / std.max().clamp_min(1e-8) * 2 - 1, out / "std.png")
    save_image(result.samples[result.best_index], out / "best.png")
    (out / "metrics.json").write_text(json.dumps(result.metrics, indent=1))
    m = result.metrics
    print(
        f"{entry.label} on {args.operator} with {args.prior}: PSNR {sum(m['psnr']) / len(m['psnr']):.2f} dB"
        + (f" (up to {m['psnr_up_to']})" if m.get("psnr_up_to") else "")
        + ", "
        f"SSIM {sum(m['ssim']) / len(m['ssim']):.3f}, ‖y − A(x̂)‖ {sum(m['residual_norm']) / len(m['residual_norm']):.3f} "
        f"(noise level {m['expected_residual_norm']:.3f}), {m['seconds']:.1f} s, {m['network_calls']} network calls on {device}. Wrote {out}/"
    )
    return 0


def _prog() -> str:
    """``mgps`` for the console script, ``python -m mgps`` for the module."""
    return "python -m mgps" if Path(sys.argv[0]).name == "__main__.py" else "mgps"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=_prog(),
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("samplers", help="list samplers and their parameters")
    p.add_argument(
        "--task",
        default=None,
        metavar="OPERATOR",
        help="print the table of defaults on this image task: every setting each sampler "
        "runs with when none is given, per context (library and command line, app)",
    )
    p.set_defaults(func=cmd_samplers)

    p = sub.add_parser("operators", help="list operators and their parameters")
    p.set_defaults(func=cmd_operators)
    p = sub.add_parser("priors", help="list registered priors")
    p.set_defaults(func=cmd_priors)

    p = sub.add_parser(
        "restore", help="restore an image: degrade it, sample the posterior, write PNGs and metrics"
    )
    p.add_argument(
        "--prior",
        required=True,
        help="registered name (python -m mgps priors), hub id, or diffusers folder",
    )
    p.add_argument(
        "--operator", required=True, help="registered operator (python -m mgps operators)"
    )
    p.add_argument("--sampler", required=True, help=f"one of: {', '.join(SAMPLERS.names())}")
    p.add_argument(
        "--image",
        required=True,
        help="input image (any size or mode; centre-cropped and resized to the prior)",
    )
    p.add_argument("--mask", default=None, help="mask image for --operator mask")
    p.add_argument(
        "--mask-convention",
        default="observed",
        choices=["observed", "missing"],
        help="white/opaque pixels of --mask are observed (default; black = to restore) or missing",
    )
    p.add_argument(
        "--steps",
        type=int,
        default=None,
        help="diffusion steps (default: the table's for this task, mgps samplers --task TASK)",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--n-samples", type=int, default=1)
    p.add_argument(
        "--sigma-y",
        type=float,
        default=0.05,
        help="observation noise std in [-1, 1] units (default 0.05)",
    )
    p.add_argument(
        "--param", action="append", metavar="NAME=VALUE", help="sampler parameter (repeatable)"
    )
    p.add_argument(
        "--op-param",
        action="append",
        metavar="NAME=VALUE",
        help="operator parameter, e.g. quality=10 for jpeg",
    )
    p.add_argument(
        "--progress-every", type=int, default=0, help="print progress every N steps (0: quiet)"
    )
    p.add_argument("--out", required=True, help="output folder")
    add_run_arguments(p)
    p.set_defaults(func=cmd_restore)

    # The reproduction commands: the one place the library's command line reaches mgps.paper.
    from .paper.cli import add_commands

    add_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s"
    )
    _set_threads(args.threads)
    try:
        return int(args.func(args) or 0)
    except (ValueError, KeyError, FileNotFoundError, SamplerDivergedError) as exc:
        message = (
            exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
        )  # KeyError quotes its str
        print(f"error: {message}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the output was piped into a reader that stopped (`| head`)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
