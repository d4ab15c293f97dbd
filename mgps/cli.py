"""Command line: mgps <command> ... (or python -m mgps <command> ...).

The library's commands:

  samplers        list the samplers with their parameters
  operators       list the operators with their parameters
  priors          list the registered priors
  restore         restore an image file with any prior, operator and sampler
  space deploy    push the app to a Hugging Face Space (--dry-run: list its files)

The reproduction commands of the paper's tables and figures and of the project's benchmark
tables (gmm, gaussian-eta, images, ecg) are defined in mgps/paper/cli.py and added here
through one registration point; the tables need the paper extra: pip install "mgps[paper]".

Options mean the same in every command (mgps/arguments.py):
  --steps K, --steps SAMPLER=K              diffusion steps: for every sampler, or for one
  --param NAME=VALUE, --param SAMPLER:NAME=VALUE
                                            a sampler parameter, likewise (repeatable)
  --device auto|cpu|cuda|cuda:N|mps         where to run
  --n-samples, --n-images, --n-seeds, ...   counts say what they count; a plural without
                                            n- is a list (--samplers mgps,dps)
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

import torch

from .arguments import (
    add_param_argument,
    add_run_arguments,
    add_steps_argument,
    params_for,
    parse_params,
    steps_for,
)
from .registry import SAMPLERS
from .types import DEFAULT_SIGMA_Y, SamplerDivergedError

__all__ = ["main", "parse_params"]

log = logging.getLogger("mgps")

DEGRADE_SIGMA_Y = DEFAULT_SIGMA_Y  # the noise added to a clean --image

RESTORE_HELP = """Restore an image with a diffusion prior.

Two inputs, one of them:
  --image FILE        a clean image: the operator degrades it (plus noise of std --sigma-y)
                      and the restoration is scored against it (PSNR, SSIM).
  --observation FILE  an image that is already degraded, taken as the observation y itself:
      box, half       the damaged image at the prior's size (the fixed mask's pixels ignored)
      mask            the damaged image, with --mask marking the damaged part
      sr4, sr16       the low-resolution image (resized to the prior's size / 4 or / 16,
                      with a note, when it is not that size)
      gaussian_blur, gaussian_blur_svd, motion_blur
                      the blurred image; give the kernel with --op-param (std=, kernel_size=,
                      intensity=, seed=; at 256×256, scaled with the image; a note says the
                      kernel in pixels; defaults otherwise)
      jpeg            the JPEG file; its quality is read from its quantisation tables
                      (override with --op-param quality=Q; a PNG needs it)
    The noise level is estimated from the image unless --sigma-y is given. Phase retrieval,
    HDR and the nonlinear blur cannot take a real file and are refused. There is no PSNR
    without --truth FILE, the original: the data fit ‖y − A(x̂)‖ against the noise level is
    the measure.

Files written to --out: input.png (with --image or --truth), observation.png, sample_k.png,
mean.png, std.png, best.png (best data fit), metrics.json.
"""


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
    from .devices import parse_dtype, pick_device
    from .pipeline import (
        Progress,
        observation_refusal,
        prepare,
        prepare_observation,
        restore_stream,
        write_run,
    )
    from .progress import bars_wanted, say, step_bar
    from .registry import OPERATORS

    if args.observation is not None:
        refusal = observation_refusal(args.operator)  # before loading anything
        if refusal is not None:
            raise ValueError(refusal)
    elif args.truth is not None:
        raise ValueError(
            "--truth scores a restoration of --observation against the original; with --image "
            "the input itself is the truth"
        )
    device = pick_device(args.device)  # a device that is not there: a message, at once
    entry = SAMPLERS[args.sampler]
    op_entry = OPERATORS[args.operator]
    params = params_for(entry, args.param)
    steps = steps_for(args.steps, args.sampler)
    if steps is not None:
        params["num_steps"] = steps
    op_params = {}
    for pair in args.op_param or []:
        name, _, text = pair.partition("=")
        op_params[name.strip()] = op_entry.param(name.strip()).parse(text)
    if args.observation is not None:
        setup = prepare_observation(
            args.prior,
            args.observation,
            args.operator,
            operator_params=op_params,
            mask=args.mask,
            mask_drawn_means=args.mask_convention or "missing",
            sigma_y=args.sigma_y,
            truth=args.truth,
            device=device,
            dtype=parse_dtype(args.dtype),
        )
    else:
        setup = prepare(
            args.prior,
            args.image,
            args.operator,
            operator_params=op_params,
            mask=args.mask,
            mask_drawn_means=args.mask_convention or "observed",
            sigma_y=DEGRADE_SIGMA_Y if args.sigma_y is None else args.sigma_y,
            seed=args.seed,
            device=device,
            dtype=parse_dtype(args.dtype),
        )
    for note in setup.notes:
        print(f"note: {note}")
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
    out = Path(args.out)
    write_run(out, setup, result)
    m = result.metrics

    def mean(values: list[float]) -> float:
        return sum(values) / len(values)

    scores = (
        f"PSNR {mean(m['psnr']):.2f} dB"
        + (f" (up to {m['psnr_up_to']})" if m.get("psnr_up_to") else "")
        + f", SSIM {mean(m['ssim']):.3f}"
        if m["psnr"] is not None
        else "no PSNR (no --truth given)"
    )
    print(
        f"{entry.label} on {args.operator} with {args.prior}: {scores}, ‖y − A(x̂)‖ {mean(m['residual_norm']):.3f} "
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
        "restore",
        help="restore an image: degrade a clean one (--image) or take a degraded one as it is "
        "(--observation); sample the posterior, write PNGs and metrics",
        description=RESTORE_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
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
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--image",
        help="a clean image, degraded here by the operator (any size or mode; centre-cropped "
        "and resized to the prior)",
    )
    source.add_argument(
        "--observation",
        metavar="FILE",
        help="an image that is already degraded: taken as it is as the operator's observation "
        "y (see the rules above)",
    )
    p.add_argument(
        "--truth",
        metavar="FILE",
        default=None,
        help="with --observation: the original clean image, to score the restoration against "
        "(PSNR, SSIM); without it there is no PSNR",
    )
    p.add_argument(
        "--mask",
        default=None,
        help="mask image for --operator mask (with --observation: marks the damaged part)",
    )
    p.add_argument(
        "--mask-convention",
        default=None,
        choices=["observed", "missing"],
        help="white/opaque pixels of --mask are observed (black = to restore) or missing; "
        "default: observed with --image, missing (the marks are the damage) with --observation",
    )
    add_steps_argument(
        p, help="diffusion steps (default: the table's for this task, mgps samplers --task TASK)"
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--n-samples", type=int, default=1)
    p.add_argument(
        "--sigma-y",
        type=float,
        default=None,
        help=f"observation noise std in [-1, 1] units (default {DEGRADE_SIGMA_Y} with --image; "
        "with --observation, estimated from the image and printed)",
    )
    add_param_argument(p, help="a sampler parameter, e.g. midpoint=0.75 (mgps samplers lists them)")
    p.add_argument(
        "--op-param",
        action="append",
        metavar="NAME=VALUE",
        help="operator parameter (repeatable), e.g. std=3 for gaussian_blur, quality=10 for "
        "jpeg (with --observation, overrides the quality read from a JPEG file)",
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
    from .space import add_command as add_space_command  # mgps space deploy

    add_space_command(sub)
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
