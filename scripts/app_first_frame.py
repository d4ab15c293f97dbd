"""How soon the app shows something after Run: time from submitting a restore job through
gradio_client to its first streamed outputs, on the embedded digits prior, with the Restore
tab's defaults (MGPS, 50 steps, 4 samples, a drawn mask).

Two times per run: the first update (the observation, right after the problem is built) and
the first streamed x̂0 image (after the first sampler step). The app is launched in this
process as ``python app.py`` does (the default prior preloaded), each job is cancelled once
its first x̂0 arrives, and one more job runs to the end for the total. Writes
``results/app_first_frame.json``.

    python scripts/app_first_frame.py [--runs 7] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402

DIGIT = ROOT / "assets" / "examples" / "digit_3_1.png"


def stroke_file(folder: Path) -> Path:
    """An RGBA layer as the ImageEditor sends it: a stroke across the digit."""
    layer = np.zeros((28, 28, 4), np.uint8)
    layer[10:17, 4:22] = (255, 45, 85, 255)
    path = folder / "stroke.png"
    Image.fromarray(layer).save(path)
    return path


def first_frames(client, payload: dict, seed: int, *, to_end: bool = False) -> dict:
    """Submit one job; seconds to the first update and to the first x̂0 image."""
    t0 = time.perf_counter()
    job = client.submit(payload, api_name="/restore", seed=seed)
    first_update = first_x0 = None
    while first_x0 is None:
        outs = job.outputs()
        now = time.perf_counter() - t0
        if outs and first_update is None:
            first_update = now
        if any(isinstance(o[2], str) for o in outs):
            first_x0 = now
        if job.done() and first_x0 is None:
            raise RuntimeError(f"the job ended without streaming an image: {job.status()}")
        time.sleep(0.005)
    total = None
    if to_end:
        while not job.done():
            time.sleep(0.01)
        total = time.perf_counter() - t0
        last = job.outputs()[-1][0]
        if "done" not in last:
            raise RuntimeError(f"the job did not finish: {last}")
    else:
        job.cancel()
        while not job.done():
            time.sleep(0.01)
    return {"first_update_s": first_update, "first_x0_s": first_x0, "total_s": total}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--out", default=str(ROOT / "results" / "app_first_frame.json"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    import gradio
    from gradio_client import Client, handle_file

    from app.device import DEVICE
    from app.ui import build_demo, preload
    from mgps.priors import load_prior

    t = time.perf_counter()
    demo = build_demo()
    preload()
    load_prior("digits", device=DEVICE)  # what preload() started in the background
    startup = time.perf_counter() - t
    _, url, _ = demo.launch(prevent_thread_lock=True, quiet=True, server_name="127.0.0.1")
    client = Client(url, verbose=False)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        payload = {
            "background": handle_file(str(DIGIT)),
            "layers": [handle_file(str(stroke_file(Path(tmp))))],
            "composite": None,
        }
        runs = [first_frames(client, payload, seed=k) for k in range(args.runs)]
        full = first_frames(client, payload, seed=args.runs, to_end=True)
    load_after = os.getloadavg()
    client.close()
    demo.close()

    def median(key: str, items: list[dict]) -> float:
        return statistics.median(r[key] for r in items)

    later = runs[1:] or runs
    result = {
        "what": "seconds from submitting a restore job (gradio_client, loopback) to its first "
        "streamed outputs; digits prior, MGPS 50 steps, 4 samples, drawn mask (the Restore "
        "tab's defaults); the prior preloaded as `python app.py` does",
        "first_update_median_s": round(median("first_update_s", later), 3),
        "first_x0_median_s": round(median("first_x0_s", later), 3),
        "first_run": {k: round(v, 3) for k, v in runs[0].items() if v is not None},
        "full_run_total_s": round(full["total_s"], 2),
        "runs": [{k: round(v, 3) for k, v in r.items() if v is not None} for r in runs],
        "startup_s": round(startup, 2),
        "machine": {
            "device": str(DEVICE),
            "torch_threads": torch.get_num_threads(),
            "cpu_count": os.cpu_count(),
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in load_after],
            "python": platform.python_version(),
            "torch": torch.__version__,
            "gradio": gradio.__version__,
        },
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: result[k] for k in list(result)[:5]}, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
