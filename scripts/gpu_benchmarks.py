"""The GPU figures of the README, in a few minutes on one GPU (about 8 at most on an H200-class
card): needs a CUDA build of torch that sees a GPU, and no network.

1. MGPS-50 against DPS-1000 on the 256×256 UNet (``google/ddpm-ema-celebahq-256``'s
   architecture; its weights when cached, random ones otherwise, which take the same time), end
   to end: seconds and peak GPU memory of each (``scripts/timing_unet256.py --mode full``).
2. ``mgps restore --device cuda`` on the digits prior, as a user runs it.
3. The digits table (``scripts/digits_mgps_sweep.py``, the README's: box and ×4
   super-resolution, 50 held-out digits, every configuration) through ``accelerate launch``,
   one process on every visible GPU.

Writes ``results/gpu/`` (``timing_unet256.json``, ``restore/``, ``digits_sweep/``, and
``summary.json`` / ``summary.md`` with each step's command and wall time).

    python scripts/gpu_benchmarks.py [--out results/gpu]
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]


def run(label: str, cmd: list[str], steps: list[dict]) -> None:
    """Run ``cmd`` from the repository's root, time it, stop on a failure."""
    print(f"\n== {label}\n$ {shlex.join(cmd)}", flush=True)
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT)
    seconds = time.perf_counter() - start
    steps.append({"step": label, "command": shlex.join(cmd), "seconds": round(seconds, 1)})
    if done.returncode != 0:
        raise SystemExit(f"{label} failed (exit {done.returncode}) after {seconds:.0f} s")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=Path("results/gpu"))
    args = parser.parse_args(argv)
    if not torch.cuda.is_available():
        build = "a CPU build" if torch.version.cuda is None else f"CUDA {torch.version.cuda}"
        raise SystemExit(
            f"error: no CUDA GPU here (torch {torch.__version__}, {build}); this script times "
            "the GPU. On a CPU: python scripts/timing_unet256.py (an estimate)."
        )
    out = args.out if args.out.is_absolute() else ROOT / args.out
    out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing is downloaded
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])
    )
    gpus = torch.cuda.device_count()
    names = [torch.cuda.get_device_name(i) for i in range(gpus)]
    print(f"{gpus} GPU(s): {', '.join(names)}; torch {torch.__version__}", flush=True)
    python = sys.executable
    steps: list[dict] = []
    start = time.perf_counter()
    run(
        "MGPS-50 and DPS-1000 on the 256² UNet",
        [python, "scripts/timing_unet256.py", "--mode", "full", "--device", "cuda"]
        + ["--out", str(out / "timing_unet256.json")],
        steps,
    )
    run(
        "mgps restore --device cuda",
        [python, "-m", "mgps", "restore", "--device", "cuda", "--prior", "digits"]
        + ["--operator", "box", "--sampler", "mgps", "--steps", "50", "--n-samples", "4"]
        + ["--image", "assets/examples/digit_3_1.png", "--quiet", "--out", str(out / "restore")],
        steps,
    )
    launch = [python, "-m", "accelerate.commands.launch", "--num_processes", str(gpus)]
    launch += ["--multi_gpu"] if gpus > 1 else []
    run(
        f"the digits table on {gpus} GPU(s)",
        launch
        + ["scripts/digits_mgps_sweep.py", "--device", "cuda", "--quiet", "--fail-fast"]
        + ["--operators", "box", "sr4", "--n-images", "50", "--out", str(out / "digits_sweep")],
        steps,
    )
    total = time.perf_counter() - start
    timing = json.loads((out / "timing_unet256.json").read_text())
    restore = json.loads((out / "restore" / "metrics.json").read_text())
    summary = {
        "gpus": names,
        "torch": torch.__version__,
        "seconds_total": round(total, 1),
        "steps": steps,
        "unet256": {
            "weights": timing.get("weights"),
            "runs": {
                label: {
                    "seconds": row.get("measured_seconds"),
                    "peak_memory_mib": row.get("max_memory_mib"),
                }
                for label, row in timing["runs"].items()
            },
            "ratio_dps1000_over_mgps50": timing["ratio_dps1000_over_mgps50"],
        },
        "restore": {k: restore[k] for k in ("seconds", "network_calls", "psnr")},
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    lines = [
        f"GPU: {', '.join(names)}; torch {torch.__version__}; {total:.0f} s in all.",
        "",
        "| step | seconds | command |",
        "|---|---|---|",
        *(f"| {s['step']} | {s['seconds']:.1f} | `{s['command']}` |" for s in steps),
        "",
        f"256² UNet ({summary['unet256']['weights']}), box inpainting, one sample:",
        "",
        "| sampler | seconds | peak GPU memory (MiB) |",
        "|---|---|---|",
        *(
            f"| {label} | {row['seconds']:.1f} | {row['peak_memory_mib']:.0f} |"
            for label, row in summary["unet256"]["runs"].items()
        ),
        "",
        f"DPS-1000 / MGPS-50 time: {summary['unet256']['ratio_dps1000_over_mgps50']:.2f}×.",
        "",
    ]
    (out / "summary.md").write_text("\n".join(lines))
    print("\n" + "\n".join(lines))
    print(f"wrote {out}/")


if __name__ == "__main__":
    main()
