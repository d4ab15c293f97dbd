"""Bring your own image, measured: held-out digits damaged with Pillow, restored from the file.

Each held-out test digit (``assets/data/digits.npz``, not seen in training) is damaged here
with Pillow alone, as a visitor's own file would be: a ×4 BOX downscale, a JPEG at quality 10,
a white square painted over its middle. Each file is restored through the command line's
``--observation`` mode only (``mgps restore --observation FILE --truth ORIGINAL``; the noise
level is the one the command estimates, the JPEG quality the one it reads from the file), and
the restoration's mean image is scored against the original beside the naive answer: bicubic
upscaling, the decoded JPEG, the hole filled from its surroundings (repeated averaging of the
neighbours, a discrete Laplace equation).

    python scripts/own_image_table.py --n-images 8 --steps 50 --out results/own_image

writes ``table.md`` (the table, with the command) and ``table.json`` (every PSNR); with
``--keep``, also the damaged files (``files/``) and each run's folder as the command writes it
(``runs/<task>_<k>/``).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

from mgps.arguments import add_steps_argument, steps_for
from mgps.cli import main as mgps_main
from mgps.paper.defaults import held_out

HOLE = (9, 9, 18, 18)  # the painted square, left, top, right, bottom (inclusive)
TASKS = {  # operator, what the naive answer is
    "sr4": "bicubic upscaling",
    "jpeg": "the decoded JPEG",
    "mask": "hole filled from its surroundings",
}


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR of two uint8 images in [-1, 1] units (peak-to-peak 2), as ``mgps.metrics``."""
    diff = (np.asarray(a, np.float64) - np.asarray(b, np.float64)) / 127.5
    return float(10 * np.log10(4 / np.mean(diff**2)))


def harmonic_fill(image: np.ndarray, missing: np.ndarray, iterations: int = 300) -> np.ndarray:
    """Fill ``missing`` pixels from the others: start from their mean, then repeatedly
    replace each missing pixel by the mean of its four neighbours."""
    x = image.astype(np.float64).copy()
    x[missing] = x[~missing].mean()
    for _ in range(iterations):
        p = np.pad(x, 1, mode="edge")
        x[missing] = ((p[:-2, 1:-1] + p[2:, 1:-1] + p[1:-1, :-2] + p[1:-1, 2:]) / 4)[missing]
    return np.round(x).astype(np.uint8)


def damage(
    truth: Image.Image, folder: Path, k: int
) -> dict[str, tuple[Path, list[str], np.ndarray]]:
    """The three damaged files of digit ``k``: per operator, the file, the extra command-line
    arguments, and the naive answer (uint8)."""
    low = truth.resize((truth.width // 4, truth.height // 4), Image.BOX)
    low.save(folder / f"low_{k}.png")
    truth.save(folder / f"jpeg_{k}.jpg", quality=10)
    painted = truth.copy()
    ImageDraw.Draw(painted).rectangle(HOLE, fill=255)
    painted.save(folder / f"painted_{k}.png")
    marks = Image.new("L", truth.size, 0)
    ImageDraw.Draw(marks).rectangle(HOLE, fill=255)
    marks.save(folder / f"marks_{k}.png")
    with Image.open(folder / f"jpeg_{k}.jpg") as decoded:
        jpeg = np.asarray(decoded.convert("L"))
    return {
        "sr4": (folder / f"low_{k}.png", [], np.asarray(low.resize(truth.size, Image.BICUBIC))),
        "jpeg": (folder / f"jpeg_{k}.jpg", [], jpeg),
        "mask": (
            folder / f"painted_{k}.png",
            ["--mask", str(folder / f"marks_{k}.png")],
            harmonic_fill(np.asarray(painted), np.asarray(marks) > 0),
        ),
    }


def run(args: argparse.Namespace, out: Path) -> dict:
    files = out / "files"
    files.mkdir(parents=True, exist_ok=True)
    images, labels = held_out("digits", args.n_images, first=args.first)
    rows: dict[str, list[dict]] = {task: [] for task in TASKS}
    for i in range(args.n_images):
        k = args.first + i
        pixels = np.round((images[i, 0].numpy() + 1) * 127.5).astype(np.uint8)
        truth = Image.fromarray(pixels)
        truth.save(files / f"truth_{k}.png")
        for task, (path, extra, naive) in damage(truth, files, k).items():
            run_dir = out / "runs" / f"{task}_{k}"
            command = [
                "restore", "--prior", "digits", "--operator", task, "--sampler", "mgps",
                "--observation", str(path), "--truth", str(files / f"truth_{k}.png"),
                "--steps", str(args.steps), "--n-samples", str(args.n_samples),
                "--seed", "0", "--out", str(run_dir), "--quiet", *extra,
            ]  # fmt: skip
            start = time.perf_counter()
            with contextlib.redirect_stdout(io.StringIO()) as said:
                code = mgps_main(command)
            if code != 0:
                raise SystemExit(f"mgps {' '.join(command)} failed:\n{said.getvalue()}")
            metrics = json.loads((run_dir / "metrics.json").read_text())
            row = {
                "digit": k,
                "label": int(labels[i]),
                "naive_psnr": psnr(naive, pixels),
                "restored_psnr": metrics["psnr_mean_image"],
                "sigma_y": metrics["sigma_y"],
                "operator_params": metrics["operator_params"],
                "seconds": time.perf_counter() - start,
            }
            rows[task].append(row)
            print(
                f"digit {k} ({row['label']}) {task}: naive {row['naive_psnr']:.2f} dB, "
                f"restored {row['restored_psnr']:.2f} dB, σ_y {row['sigma_y']:.4f}, "
                f"{row['operator_params']}, {row['seconds']:.1f} s",
                flush=True,
            )
    return rows


def table(rows: dict, args: argparse.Namespace, command: str) -> str:
    lines = [
        f"# Bring your own image: {args.n_images} held-out digits damaged with Pillow",
        "",
        f"Made by `{command}` (torch threads = 1). Each file restored by",
        f"`mgps restore --prior digits --sampler mgps --steps {args.steps} --n-samples "
        f"{args.n_samples} --observation FILE --truth ORIGINAL` (noise level estimated by the "
        "command, JPEG quality read from the file); PSNR (dB, mean over the digits) of the "
        "restoration's mean image against the original.",
        "",
        "| damage | operator | naive answer | naive PSNR | restored PSNR | gain | digits improved |",
        "|---|---|---|---|---|---|---|",
    ]
    damage_names = {"sr4": "×4 BOX downscale", "jpeg": "JPEG quality 10", "mask": "painted square"}
    for task, naive in TASKS.items():
        r = rows[task]
        a = np.array([x["naive_psnr"] for x in r])
        b = np.array([x["restored_psnr"] for x in r])
        lines.append(
            f"| {damage_names[task]} | `{task}` | {naive} | {a.mean():.2f} | {b.mean():.2f} | "
            f"{(b - a).mean():+.2f} | {int((b > a).sum())}/{len(r)} |"
        )
    seconds = [x["seconds"] for r in rows.values() for x in r]
    lines += ["", f"Seconds per file (whole command, CPU): {np.mean(seconds):.1f} on average."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-images", type=int, default=8, help="held-out test digits (default 8)")
    parser.add_argument("--first", type=int, default=0, help="index of the first test digit")
    add_steps_argument(parser, help="MGPS diffusion steps (default 50)")
    parser.add_argument(
        "--n-samples", type=int, default=1, help="posterior samples per file (default 1)"
    )
    parser.add_argument("--out", default="results/own_image", help="output folder")
    parser.add_argument("--keep", action="store_true", help="keep the files and the runs")
    args = parser.parse_args(argv)
    try:
        args.steps = steps_for(args.steps, "mgps", 50)
    except ValueError as exc:
        parser.error(str(exc))
    torch.set_num_threads(1)
    command = "python scripts/own_image_table.py " + " ".join(
        sys.argv[1:] if argv is None else argv
    )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        rows = run(args, out if args.keep else Path(scratch))
    (out / "table.json").write_text(json.dumps({"command": command, "rows": rows}, indent=1))
    text = table(rows, args, command.strip())
    (out / "table.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
