"""Image benchmark: every sampler × operator pair the capability tags allow, on a folder of images.

    python -m mgps images table --prior digits --images assets/examples --out runs/images

For each image, operator and sampler it runs :func:`mgps.pipeline.restore` and records PSNR,
SSIM, the data-consistency residual ‖y − A(x̂)‖, wall time and network calls; writes
``images_table.json`` and ``images_table.md``. A pair the tags rule out is skipped and listed;
a run that diverges or raises is counted, not hidden.
"""

from __future__ import annotations

import json
import math
import platform
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..capabilities import compatibility
from ..pipeline import image_shape_of, prepare, restore
from ..priors.loading import load_prior
from ..progress import say
from ..registry import OPERATORS, SAMPLERS
from ..types import DEFAULT_SIGMA_Y, SamplerDivergedError
from .cells import Cell, launch_state, process_device, run_cells

__all__ = ["table", "DEFAULT_OPERATORS", "IMAGE_SUFFIXES"]

DEFAULT_OPERATORS = (
    "box",
    "half",
    "sr4",
    "gaussian_blur",
    "motion_blur",
    "jpeg",
    "phase_retrieval",
    "hdr",
)
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")


def _images(folder: str | Path, limit: int | None) -> list[Path]:
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"image folder {str(folder)!r} does not exist")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise ValueError(f"no images ({', '.join(IMAGE_SUFFIXES)}) in {str(folder)!r}")
    return files[:limit] if limit else files


def _supports(sampler: str, operator: Any, prior: Any) -> bool:
    return compatibility(sampler, prior, operator).ok


def table(
    prior: str,
    images: str | Path,
    out_dir: str | Path,
    *,
    samplers: Sequence[str] | None = None,
    operators: Sequence[str] = DEFAULT_OPERATORS,
    overrides: dict[str, dict[str, Any]] | None = None,
    sigma_y: float = DEFAULT_SIGMA_Y,
    num_images: int | None = None,
    seed: int = 0,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float32,
    quiet: bool = False,
    log: Callable[[str], None] | None = say,
) -> dict[str, Any] | None:
    """Run the benchmark and write ``images_table.{json,md}`` in ``out_dir``.

    Each cell (operator × image × sampler) restores one image with one sample, seeded by the
    image's index; the cells run through :func:`mgps.paper.cells.run_cells` (spread over the
    processes of ``accelerate launch``, kept in ``out_dir/cells/images_table/``, resumed on a
    rerun). Returns the result on the main process and ``None`` on the others.
    """
    files = _images(images, num_images)
    samplers = list(samplers or SAMPLERS.names())
    for name in samplers:
        SAMPLERS[name]
    for op_name in operators:
        OPERATORS[op_name]
    overrides = overrides or {}
    device = process_device(device) if isinstance(device, str) else torch.device(device)
    prior_obj = load_prior(prior, device=device, dtype=dtype)
    common = {"prior": prior, "sigma_y": sigma_y, "seed": seed, "dtype": str(dtype)}
    cells: list[Cell] = []
    skipped: set[tuple[str, str]] = set()
    for op_name in operators:
        operator = prepare(prior_obj, files[0], op_name, sigma_y=sigma_y, seed=seed).operator
        for k, path in enumerate(files):
            for name in samplers:
                if not _supports(name, operator, prior_obj):
                    skipped.add((name, op_name))
                    continue
                spec = {
                    **common,
                    "operator": op_name,
                    "image": path.name,
                    "index": k,
                    "sampler": name,
                    "params": overrides.get(name, {}),
                }
                cells.append(Cell(f"{op_name}-{path.name}-{name}", spec))

    @lru_cache(maxsize=2)
    def setup_for(op_name: str, k: int):
        return prepare(prior_obj, files[k], op_name, sigma_y=sigma_y, seed=seed + k)

    def compute(cell: Cell, on_step) -> list[dict[str, Any]]:
        op_name, k, name = cell.spec["operator"], cell.spec["index"], cell.spec["sampler"]
        params = dict(cell.spec["params"])
        base = {"operator": op_name, "sampler": name, "image": files[k].name, "params": params}
        try:
            setup = setup_for(op_name, k)
            result = restore(
                setup, name, num_samples=1, params=params, seed=seed + k, on_step=on_step
            )
            m = result.metrics
            return [
                {
                    **base,
                    "psnr": m["psnr"][0],
                    "ssim": m["ssim"][0],
                    "residual": m["residual_norm"][0],
                    "seconds": m["seconds"],
                    "network_calls": m["network_calls"],
                    "failed": "",
                }
            ]
        except (SamplerDivergedError, ValueError, RuntimeError) as exc:
            return [
                {
                    **base,
                    "psnr": math.nan,
                    "ssim": math.nan,
                    "residual": math.nan,
                    "seconds": math.nan,
                    "network_calls": 0,
                    "failed": f"{type(exc).__name__}: {exc}",
                }
            ]

    def describe(cell: Cell, records: list[dict[str, Any]]) -> str:
        r = records[0]
        failed = " FAILED " + r["failed"] if r["failed"] else ""
        return (
            f"{r['operator']:16s} {r['sampler']:9s} {r['image']}: PSNR {r['psnr']:.2f} "
            f"SSIM {r['ssim']:.3f} {r['seconds']:.1f} s{failed}"
        )

    records = run_cells(
        out_dir, "images_table", cells, compute, quiet=quiet, log=log, describe=describe
    )
    if records is None:
        return None
    summary = _summarise(records, samplers, operators)
    config = {
        "prior": prior,
        "images": [p.name for p in files],
        "image_shape": list(image_shape_of(prior_obj)),
        "sigma_y": sigma_y,
        "seed": seed,
        "sampler_params": {n: overrides.get(n, {}) for n in samplers},
        "skipped_pairs": sorted(f"{s}×{o}" for s, o in skipped),
        "device": str(device),
        "dtype": str(dtype).replace("torch.", ""),
        "processes": launch_state().num_processes,
        "torch_threads": torch.get_num_threads(),
        "machine": platform.processor() or platform.machine(),
    }
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    result = {"config": config, "summary": summary, "records": records}
    (out / "images_table.json").write_text(json.dumps(result, indent=1, default=float))
    (out / "images_table.md").write_text(markdown(summary, samplers, operators, config))
    return result


def _summarise(
    records: list[dict[str, Any]], samplers: Sequence[str], operators: Sequence[str]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for op in operators:
        out[op] = {}
        for name in samplers:
            rows = [r for r in records if r["operator"] == op and r["sampler"] == name]
            if not rows:
                continue
            ok = [r for r in rows if not r["failed"]]

            def avg(key: str, rows=ok) -> float:
                return float(np.mean([r[key] for r in rows])) if rows else math.nan

            out[op][name] = {
                "psnr": avg("psnr"),
                "ssim": avg("ssim"),
                "residual": avg("residual"),
                "seconds": avg("seconds"),
                "network_calls": avg("network_calls"),
                "runs": len(rows),
                "failed": len(rows) - len(ok),
            }
    return out


def markdown(
    summary: dict[str, Any],
    samplers: Sequence[str],
    operators: Sequence[str],
    config: dict[str, Any],
) -> str:
    labels = [SAMPLERS[n].label for n in samplers]
    lines = [
        "PSNR (dB) / SSIM, mean over images; seconds per run in brackets; – = not applicable",
        "",
        "| operator | " + " | ".join(labels) + " |",
        "|---|" + "---|" * len(samplers),
    ]
    for op in operators:
        cells = []
        for n in samplers:
            s = summary.get(op, {}).get(n)
            if s is None:
                cells.append("–")
            elif s["failed"] == s["runs"]:
                cells.append(f"failed ({s['failed']}/{s['runs']})")
            else:
                cell = f"{s['psnr']:.2f} / {s['ssim']:.3f} ({s['seconds']:.1f} s)"
                if s["failed"]:
                    cell += f" [{s['failed']}/{s['runs']} failed]"
                cells.append(cell)
        lines.append(f"| {op} | " + " | ".join(cells) + " |")
    params = "; ".join(
        f"{SAMPLERS[n].label} {p or 'defaults'}" for n, p in config["sampler_params"].items()
    )
    lines += [
        "",
        f"Prior `{config['prior']}`, {len(config['images'])} images {config['image_shape']}, σ_y = {config['sigma_y']}, one sample per run, torch threads {config['torch_threads']}. Settings: {params}.",
        "",
    ]
    return "\n".join(lines)
