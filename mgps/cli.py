"""Command line: ``python -m mgps <command> ...``.

Commands:
  gmm sample      posterior samples for a Gaussian-mixture problem file (.npz)
  gmm table       the paper's Table 1 (SW to the exact posterior, every sampler)
  gmm ablation    Figure 4 (MGPS's SW against the number of gradient steps)
  gaussian-eta    Example 3.2 (exact W2 of the MGPS surrogate against the midpoint η)
  restore         restore an image file with any prior, operator and sampler
  images table    every sampler × operator pair on a folder of images
  images exact    samplers against the exact posterior of the digits-exact prior
  ecg table       ECG missing block / missing leads: MAE and RMSE per sampler
  samplers        list the samplers with their parameters
  operators       list the operators with their parameters
  priors          list the registered priors
"""

from __future__ import annotations

import argparse
import inspect
import logging
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .registry import SAMPLERS, Entry, parse_value
from .types import SamplerDivergedError

__all__ = ["main", "parse_params"]

log = logging.getLogger("mgps")


def parse_params(entry: Entry, pairs: list[str] | None) -> dict[str, Any]:
    """Turn ``["name=value", ...]`` into typed keyword arguments of a registered function."""
    sig = inspect.signature(entry.obj)
    keywords = {n: p for n, p in sig.parameters.items() if p.kind is inspect.Parameter.KEYWORD_ONLY}
    reserved = {"generator", "x_init", "num_samples"}
    out: dict[str, Any] = {}
    for pair in pairs or []:
        if "=" not in pair:
            raise ValueError(f"--param expects name=value, got {pair!r}")
        name, text = (s.strip() for s in pair.split("=", 1))
        if name not in keywords or name in reserved:
            valid = ", ".join(n for n in keywords if n not in reserved)
            raise ValueError(f"{entry.label} has no parameter {name!r}; valid parameters: {valid}")
        declared = next((p for p in entry.params if p.name == name), None)
        if declared is not None:
            out[name] = declared.parse(text)
        else:
            default = keywords[name].default
            out[name] = parse_value(text, type(default) if default is not None else float)
    return out


def _set_threads(n: int | None) -> None:
    if n:
        torch.set_num_threads(n)


def cmd_samplers(args: argparse.Namespace) -> int:
    for entry in SAMPLERS:
        tags = ", ".join(sorted(entry.tags))
        print(f"{entry.name:10s} {entry.label:10s} [{tags}]  {entry.reference}")
        for p in entry.params:
            rng = f" [{p.low}, {p.high}]" if p.low is not None else ""
            print(f"    {p.name} = {p.default!r}{rng}  {p.help}")
    return 0


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
        print(
            f"{entry.name:20s} {entry.label:40s} [{', '.join(sorted(entry.tags))}]  {entry.description}"
        )
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    import json

    from .pipeline import Progress, prepare, restore_stream
    from .registry import OPERATORS
    from .utils.images import save_image

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
    )
    for note in setup.notes:
        print(f"note: {note}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    result = None
    for update in restore_stream(
        setup,
        args.sampler,
        num_samples=args.n_samples,
        params=params,
        seed=args.seed,
        every=max(1, args.progress_every),
    ):
        if isinstance(update, Progress):
            if args.progress_every and update.index % args.progress_every == 0:
                print(
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
        f"{entry.label} on {args.operator} with {args.prior}: PSNR {sum(m['psnr']) / len(m['psnr']):.2f} dB, "
        f"SSIM {sum(m['ssim']) / len(m['ssim']):.3f}, ‖y − A(x̂)‖ {sum(m['residual_norm']) / len(m['residual_norm']):.3f} "
        f"(noise level {m['expected_residual_norm']:.3f}), {m['seconds']:.1f} s, {m['network_calls']} network calls. Wrote {out}/"
    )
    return 0


def _sampler_overrides(items: list[str] | None) -> dict[str, dict[str, Any]]:
    overrides: dict[str, dict[str, Any]] = {}
    for item in items or []:
        name, _, rest = item.partition(":")
        if not rest:
            raise ValueError(f"--param for a table expects sampler:name=value, got {item!r}")
        overrides.setdefault(name, {}).update(parse_params(SAMPLERS[name], [rest]))
    return overrides


def cmd_images_table(args: argparse.Namespace) -> int:
    from .benchmarks.images import DEFAULT_OPERATORS, table

    table(
        args.prior,
        args.images,
        args.out,
        samplers=args.samplers.split(",") if args.samplers else None,
        operators=args.operators.split(",") if args.operators else DEFAULT_OPERATORS,
        overrides=_sampler_overrides(args.param),
        sigma_y=args.sigma_y,
        num_images=args.n_images,
        seed=args.seed,
    )
    print((Path(args.out) / "images_table.md").read_text())
    return 0


def cmd_images_exact(args: argparse.Namespace) -> int:
    from .benchmarks.exact_images import exact_table

    steps = {}
    for item in args.steps or []:
        name, _, value = item.partition("=")
        SAMPLERS[name]
        steps[name] = int(value)
    exact_table(
        args.out,
        operators=args.operators.split(","),
        samplers=args.samplers.split(",") if args.samplers else None,
        num_images=args.n_images,
        num_samples=args.n_samples,
        sigma_y=args.sigma_y,
        steps=steps,
        overrides=_sampler_overrides(args.param),
        seed=args.seed,
    )
    print((Path(args.out) / "exact_table.md").read_text())
    return 0


def cmd_gmm_sample(args: argparse.Namespace) -> int:
    from .benchmarks.gmm import load_problem, run_sampler

    entry = SAMPLERS[args.sampler]
    overrides = parse_params(entry, args.param)
    if args.steps is not None:
        overrides["num_steps"] = args.steps
    if args.n_samples < 1:
        raise ValueError(f"--n-samples must be at least 1, got {args.n_samples}")
    inst = load_problem(args.problem)
    x, seconds = run_sampler(inst, args.sampler, args.n_samples, args.seed, **overrides)
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


def cmd_gmm_table(args: argparse.Namespace) -> int:
    from .benchmarks.gmm import table

    samplers = args.samplers.split(",") if args.samplers else None
    for n in samplers or []:
        SAMPLERS[n]
    overrides = _sampler_overrides(args.param)
    result = table(
        args.out,
        settings=_parse_settings(args.settings),
        num_instances=args.instances,
        num_samples=args.n_samples,
        num_slices=args.slices,
        sigma_y=args.sigma_y,
        samplers=samplers,
        overrides=overrides,
        seed=args.seed,
    )
    print((Path(args.out) / "gmm_table.md").read_text())
    del result
    return 0


def cmd_gmm_ablation(args: argparse.Namespace) -> int:
    from .benchmarks.gmm import ablation

    ablation(
        args.out,
        dim=args.dim,
        obs_dim=args.obs_dim,
        etas=[float(e) for e in args.etas.split(",")],
        gradient_steps=[int(m) for m in args.gradient_steps.split(",")],
        num_instances=args.instances,
        num_samples=args.n_samples,
        num_steps=args.steps,
        sigma_y=args.sigma_y,
        seed=args.seed,
    )
    print((Path(args.out) / "gmm_ablation.md").read_text())
    return 0


def cmd_gaussian_eta(args: argparse.Namespace) -> int:
    from .benchmarks.gaussian_eta import write_eta_curve

    etas = np.linspace(0, 1, args.grid + 2)[1:-1]
    w2 = write_eta_curve(
        args.out,
        etas=etas,
        seeds=list(range(args.seeds)),
        dim=args.dim,
        obs_dim=args.obs_dim,
        sigma_y=args.sigma_y,
        num_steps=args.steps,
    )
    best = int(np.argmin(w2.mean(1)))
    print(f"wrote {args.out} and {Path(args.out).with_suffix('.html')}")
    print(
        f"minimum mean W2 {w2.mean(1)[best]:.3f} at eta = {etas[best]:.3f}; at eta = {etas[-1]:.3f}: {w2.mean(1)[-1]:.3f}"
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m mgps",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("samplers", help="list samplers and their parameters")
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
        "--steps", type=int, default=None, help="diffusion steps (default: the sampler's)"
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
    p.set_defaults(func=cmd_restore)

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
    p.add_argument(
        "--param", action="append", metavar="SAMPLER:NAME=VALUE", help="e.g. mgps:num_steps=50"
    )
    p.add_argument("--n-images", type=int, default=None)
    p.add_argument("--sigma-y", type=float, default=0.05)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_images_table)

    p = images.add_parser(
        "exact", help="samplers against the exact posterior of the digits-exact prior"
    )
    p.add_argument("--out", required=True)
    p.add_argument("--operators", default="box,half,sr4")
    p.add_argument("--samplers", default=None)
    p.add_argument("--n-images", type=int, default=5)
    p.add_argument("--n-samples", type=int, default=32)
    p.add_argument("--sigma-y", type=float, default=0.05)
    p.add_argument(
        "--steps",
        action="append",
        metavar="SAMPLER=K",
        help="e.g. mgps=100 (defaults: MGPS 100, others 1000)",
    )
    p.add_argument("--param", action="append", metavar="SAMPLER:NAME=VALUE")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_images_exact)

    from .ecg.cli import add_ecg_commands

    add_ecg_commands(sub)

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
    p.add_argument(
        "--steps", type=int, default=None, help="diffusion steps (default: the sampler's)"
    )
    p.add_argument(
        "--param",
        action="append",
        metavar="NAME=VALUE",
        help="override a sampler parameter (repeatable)",
    )
    p.add_argument("--out", required=True, help="output .npy of shape (N, d)")
    p.set_defaults(func=cmd_gmm_sample)

    p = gmm.add_parser("table", help="Table 1: SW to the exact posterior for every sampler")
    p.add_argument("--out", required=True, help="output directory (gmm_table.json, gmm_table.md)")
    p.add_argument(
        "--settings", default="20x1,200x1", help="comma-separated d x d_y, default 20x1,200x1"
    )
    p.add_argument("--instances", type=int, default=20)
    p.add_argument("--n-samples", type=int, default=2000)
    p.add_argument("--slices", type=int, default=100)
    p.add_argument("--sigma-y", type=float, default=0.05)
    p.add_argument("--samplers", default=None, help="comma-separated subset (default: all)")
    p.add_argument(
        "--param",
        action="append",
        metavar="SAMPLER:NAME=VALUE",
        help="override, e.g. mgps:midpoint=1",
    )
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_gmm_table)

    p = gmm.add_parser(
        "ablation", help="Figure 4: MGPS SW against gradient steps per diffusion step"
    )
    p.add_argument("--out", required=True)
    p.add_argument("--dim", type=int, default=20)
    p.add_argument("--obs-dim", type=int, default=1)
    p.add_argument("--etas", default="0.5,1.0")
    p.add_argument("--gradient-steps", default="1,2,5,10,20")
    p.add_argument("--instances", type=int, default=10)
    p.add_argument("--n-samples", type=int, default=2000)
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--sigma-y", type=float, default=0.05)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_gmm_ablation)

    p = sub.add_parser("gaussian-eta", help="Example 3.2: exact W2 of the MGPS surrogate against η")
    p.add_argument("--out", required=True, help="output CSV (a plot is written beside it as .html)")
    p.add_argument("--grid", type=int, default=20, help="number of η values in (0, 1)")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--dim", type=int, default=100)
    p.add_argument("--obs-dim", type=int, default=50)
    p.add_argument("--sigma-y", type=float, default=0.1)
    p.add_argument("--steps", type=int, default=300)
    p.set_defaults(func=cmd_gaussian_eta)
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


if __name__ == "__main__":
    raise SystemExit(main())
