"""The digits verdict table of results/mgps_jf/README.md from a digits_mgps_sweep.py sweep.json:
per task and configuration, PSNR, the paired difference to the reference (MGPS-50) with its
95 % interval, whether PSNR is "within MGPS's paired interval" (the interval reaches 0 or lies
above it), and the process's CPU seconds per image as a ratio to the reference's.

    python results/mgps_jf/verdict.py results/mgps_jf/digits_all/sweep.json --ref mgps50
"""

from __future__ import annotations

import argparse
import json

from scipy.stats import t


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("sweep")
    p.add_argument("--ref", default="mgps50")
    args = p.parse_args()
    runs = json.load(open(args.sweep))["runs"]
    print(
        "| task | configuration | PSNR | paired Δ to MGPS-50 (95 %) | within? | right digit "
        "| residual / expected | CPU s / image | CPU time ratio |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for op, configs in runs.items():
        ref = configs[args.ref]
        for name, r in configs.items():
            if "psnr" not in r:
                print(f"| {op} | {name} | failed: {r.get('failed', '?')} | | | | | | |")
                continue
            diffs = [b - a for a, b in zip(ref["psnr"], r["psnr"], strict=True)]
            n = len(diffs)
            mean = sum(diffs) / n
            sd = (sum((d - mean) ** 2 for d in diffs) / (n - 1)) ** 0.5 if n > 1 else 0.0
            half = t.ppf(0.975, n - 1) * sd / n**0.5 if n > 1 else float("nan")
            within = "–" if name == args.ref else ("yes" if mean + half >= 0 else "**no**")
            ratio = r["cpu_seconds_per_image"] / ref["cpu_seconds_per_image"]
            print(
                f"| {op} | {name} | {r['psnr_mean']:.2f} ± {r['psnr_ci95']:.2f} "
                f"| {mean:+.2f} ± {half:.2f} | {within} | {100 * r['right_label_rate']:.0f} % "
                f"| {r['residual_over_expected']:.2f} | {r['cpu_seconds_per_image']:.2f} "
                f"| {ratio:.2f}× |"
            )


if __name__ == "__main__":
    main()
