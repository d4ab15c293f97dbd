"""Compare's verdict at equal cost on held-out digits, headless.

Runs the Compare tab's own logic (``app.comparing.compare``: the budget plan of
``mgps.budget`` with the VJP's price measured here, one initial noise for all samplers, the
per-sample measures and the verdict) on a few test digits per task, then writes a table over
the digits with 95 % Student-t intervals (each digit's per-sampler mean is one value) and the
verdict over the digits, with this command beside it:

    nice python scripts/compare_equal_cost.py --out results/compare_equal_cost/digits

The first sampler (MGPS at ``--steps``) sets the budget; the others get the steps that cost the
same. Writes ``<out>/README.md`` and ``<out>/compare.json`` (every digit's numbers and its own
Compare verdict).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the app package, when run from a checkout

from app import comparing  # noqa: E402
from mgps.arguments import add_steps_argument, steps_for  # noqa: E402
from mgps.paper.defaults import held_out  # noqa: E402
from mgps.types import DEFAULT_SIGMA_Y  # noqa: E402
from mgps.verdict import interval, rank, verdict  # noqa: E402


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default="results/compare_equal_cost/digits")
    p.add_argument("--prior", default="digits")
    p.add_argument("--operators", nargs="+", default=["half", "sr4"])
    p.add_argument("--samplers", nargs="+", default=["mgps", "dps", "daps"])
    add_steps_argument(p, help="diffusion steps of the first sampler (default 50)")
    p.add_argument("--budget", default="cost", choices=["cost", "steps", "defaults"])
    # dest: compare.json keeps its keys (its config is what --report-only reads back)
    p.add_argument(
        "--n-images", dest="images", type=int, default=6, help="held-out test digits per task"
    )
    p.add_argument("--n-samples", dest="samples", type=int, default=4, help="samples per digit")
    p.add_argument("--sigma-y", type=float, default=DEFAULT_SIGMA_Y)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--report-only",
        action="store_true",
        help="rewrite <out>/README.md from <out>/compare.json (its own command) without sampling",
    )
    args = p.parse_args(argv)
    try:
        args.steps = steps_for(args.steps, args.samplers[0], 50)
    except ValueError as exc:
        p.error(str(exc))
    return args


def as_array(image: torch.Tensor) -> np.ndarray:
    """A ``(1, H, W)`` image in [-1, 1] as the 8-bit grey picture a user would give."""
    return ((image[0].clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).numpy()


def run(args: argparse.Namespace) -> dict[str, Any]:
    torch.set_num_threads(1)
    digits = held_out("digits", args.images)[0]
    runs = []
    for op in args.operators:
        for k in range(args.images):
            request = comparing.CompareRequest(
                image=as_array(digits[k]),
                samplers=tuple(args.samplers),
                operator=op,
                prior=args.prior,
                num_steps=args.steps,
                sigma_y=args.sigma_y,
                num_samples=args.samples,
                seed=args.seed + k,
                budget=args.budget,
            )
            start = time.perf_counter()
            final = list(comparing.compare(request))[-1]
            runs.append(
                {
                    "operator": op,
                    "image": k,
                    "seed": args.seed + k,
                    "results": final.results,
                    "verdict": final.verdict,
                }
            )
            steps = ", ".join(f"{n} {r['steps']}" for n, r in final.results.items())
            psnr = ", ".join(f"{n} {np.mean(r['psnr']):.2f}" for n, r in final.results.items())
            print(
                f"{op} digit {k}: steps {steps}; PSNR {psnr} ({time.perf_counter() - start:.0f} s)",
                flush=True,
            )
    return {"config": vars(args), "runs": runs}


MEASURES = (  # key, name, unit, higher is better, digits; the first one present ranks
    ("energy_distance", "Energy distance to the exact posterior", "", False, 3),
    ("psnr", "PSNR", "dB", True, 2),
    ("ssim", "SSIM", "", True, 3),
)


def report(data: dict[str, Any], command: str) -> str:
    """The Markdown table over the digits and the verdict, per task."""
    cfg = data["config"]
    lines = [
        f"# Compare at {'equal cost' if cfg['budget'] == 'cost' else cfg['budget']}: "
        f"{', '.join(s.upper() for s in cfg['samplers'])} on {cfg['prior']}",
        "",
        "Made by (one CPU thread):",
        "",
        f"    {command}",
        "",
        f"The Compare tab's logic headless (`app.comparing.compare`) on {cfg['images']} "
        f"held-out test digits per task, {cfg['samples']} samples each, σ_y = {cfg['sigma_y']}, "
        f"seeds {cfg['seed']}…{cfg['seed'] + cfg['images'] - 1} (one per digit: the observation "
        f"noise and the samplers' shared initial noise). The first sampler at {cfg['steps']} "
        "steps sets the budget; each other gets the steps whose cost is nearest it, "
        "cost = forward calls + (price − 1) × VJPs with the VJP's price measured on this "
        "machine at start. Each digit's per-sampler mean (over its samples) is one value; the "
        "table shows the mean over the digits ± the 95 % Student-t half-width, and the verdict "
        "names a winner only where the intervals separate. *Per-digit verdicts* counts, over "
        "the digits, how often the Compare tab's own verdict (on that digit's samples) named the "
        "sampler the winner on its first measure (the energy distance to the exact posterior "
        "on an exact prior, PSNR otherwise), tied it for best, or put it behind.",
        "",
    ]
    for op in cfg["operators"]:
        runs = [r for r in data["runs"] if r["operator"] == op]
        labels = list(runs[0]["results"])
        per_digit: dict[str, dict[str, list[float]]] = {n: {} for n in labels}
        for r in runs:
            for name, res in r["results"].items():
                for key in ("psnr", "ssim", "residual_norm", "energy_distance"):
                    if key in res:
                        per_digit[name].setdefault(key, []).append(float(np.mean(res[key])))
                for key in ("steps", "forward_calls", "vjps", "cost", "seconds"):
                    per_digit[name].setdefault(key, []).append(float(res[key]))
        tally = {n: {"best": 0, "tied": 0, "behind": 0} for n in labels}
        key, name, unit, higher, _ = next(
            m for m in MEASURES if all(m[0] in r["results"][n] for r in runs for n in labels)
        )
        for r in runs:
            ranking = rank(
                name,
                unit,
                {n: res[key] for n, res in r["results"].items()},
                higher_is_better=higher,
            )
            for n in labels:
                if ranking.winner == n:
                    tally[n]["best"] += 1
                elif n in ranking.top_group and ranking.winner is None:
                    tally[n]["tied"] += 1
                else:
                    tally[n]["behind"] += 1
        exact = key == "energy_distance"
        res0 = runs[0]["results"][labels[0]]
        price = np.mean([r["results"][labels[0]]["vjp_price"] for r in runs])
        lines += [
            f"## {op}",
            "",
            f"Budget: {np.mean(per_digit[labels[0]]['cost']):.0f} forward calls (a VJP measured "
            f"at {price:.2f} forward calls); noise level σ_y√m = "
            f"{res0['expected_residual_norm']:.2f}.",
            "",
            "| sampler | steps | forward calls | VJPs | cost | seconds | PSNR (dB) | SSIM "
            "| ‖y − A(x̂)‖ |"
            + (" energy distance to the exact posterior |" if exact else "")
            + f" per-digit verdicts ({name if name.isupper() else name.lower()}): best / tied / behind |",
            "|---" * (11 if exact else 10) + "|",
        ]
        for n in labels:
            d = per_digit[n]
            lines.append(
                f"| {n} | {np.mean(d['steps']):.0f} | {np.mean(d['forward_calls']):.0f} "
                f"| {np.mean(d['vjps']):.0f} | {np.mean(d['cost']):.0f} "
                f"| {np.mean(d['seconds']):.1f} | {interval(d['psnr']).text()} "
                f"| {interval(d['ssim']).text(3)} | {interval(d['residual_norm']).text()} |"
                + (f" {interval(d['energy_distance']).text(3)} |" if exact else "")
                + f" {tally[n]['best']} / {tally[n]['tied']} / {tally[n]['behind']} |"
            )
        rankings = [
            rank(name, unit, {n: per_digit[n][key] for n in labels}, higher_is_better=hi, digits=dg)
            for key, name, unit, hi, dg in MEASURES
            if all(key in per_digit[n] for n in labels)
        ]
        m = round((res0["expected_residual_norm"] / cfg["sigma_y"]) ** 2)
        text = verdict(
            rankings,
            fits={n: per_digit[n]["residual_norm"] for n in labels},
            sigma_y=cfg["sigma_y"],
            num_observed=m,
        ).replace(
            f"over {len(runs)} samples per sampler",
            f"over {len(runs)} digits (each digit's mean over its {cfg['samples']} samples)",
        )
        lines += ["", "**Verdict over the digits.**", "", text, ""]
        lines += paired(labels, per_digit)
    return "\n".join(lines) + "\n"


def paired(labels: list[str], per_digit: dict[str, dict[str, list[float]]]) -> list[str]:
    """The first sampler against each other, digit by digit: on one digit both see the same
    observation and start from the same noise, so the per-digit differences remove what makes
    one digit harder than another (the unpaired intervals above keep it)."""
    first = labels[0]
    out = [
        f"**Paired over the digits** ({first} − each other; shown where the 95 % interval "
        "of the per-digit differences excludes 0):",
        "",
    ]
    for name in labels[1:]:
        parts = []
        for key, measure, unit, digits, higher in (
            ("energy_distance", "energy distance", "", 3, False),
            ("psnr", "PSNR", " dB", 2, True),
            ("ssim", "SSIM", "", 3, True),
        ):
            if key not in per_digit[first] or key not in per_digit[name]:
                continue
            diff = interval(np.subtract(per_digit[first][key], per_digit[name][key]))
            if (diff.low > 0) if higher else (diff.high < 0):
                word = f"{first} ahead"
            elif (diff.high < 0) if higher else (diff.low > 0):
                word = f"{name} ahead"
            else:
                word = "a tie"
            parts.append(
                f"{measure} {diff.mean:+.{digits}f} ± {diff.half:.{digits}f}{unit} ({word})"
            )
        out.append(f"- against {name}: " + "; ".join(parts))
    return out + [""]


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.report_only:
        data = json.loads((out / "compare.json").read_text())
    else:
        command = "nice python scripts/compare_equal_cost.py " + shlex.join(
            sys.argv[1:] if argv is None else argv
        )
        data = {"command": command.strip(), **run(args)}
        (out / "compare.json").write_text(json.dumps(data, indent=1))
    (out / "README.md").write_text(report(data, data["command"]))
    print(f"wrote {out}/README.md" + ("" if args.report_only else " and compare.json"))


if __name__ == "__main__":
    main()
