"""How soon the app shows something after Run: time from submitting a restore job through
gradio_client to its first streamed outputs, on the embedded digits prior, with the Restore
tab's defaults (MGPS, 50 steps, 4 samples, a drawn mask).

Three times per run, from the submit:

* the first update: the observation y and the first x̂0, which is the prior's own estimate
  D_T(x_T) from the initial noise x_T (one network call, before any guidance by y);
* the first guided x̂0: after MGPS's first step (its warm start and first variational fit);
* (one run only) the whole job.

The app is launched in this process as ``python app.py`` does (``preload()``: the default
prior loaded and warmed up; the jobs wait for the trade-off charts it computes in the
background), each job is cancelled once its first guided x̂0 arrives, and one
more job runs to the end. Writes ``results/app_first_frame/app_first_frame.json``.

    python scripts/app_first_frame.py [--n-runs 7] [--threads 1]
"""

from __future__ import annotations

import argparse
import importlib.util
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
if str(ROOT) not in sys.path:  # run from a checkout: ``app`` and ``mgps`` are beside this folder
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402

DIGIT = ROOT / "assets" / "examples" / "digit_3_1.png"
X0 = 2  # index of the x̂0 image among the /restore outputs


def stroke_file(folder: Path) -> Path:
    """An RGBA layer as the ImageEditor sends it: a stroke across the digit."""
    layer = np.zeros((28, 28, 4), np.uint8)
    layer[10:17, 4:22] = (255, 45, 85, 255)
    path = folder / "stroke.png"
    Image.fromarray(layer).save(path)
    return path


def load_app():
    """``app.py`` as a module (``import app`` is the package next to it)."""
    spec = importlib.util.spec_from_file_location("app_main", ROOT / "app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _is_image(value) -> bool:
    """An image output: a path, or (``download_files=False``) a file-data dict."""
    return isinstance(value, str) or (isinstance(value, dict) and "path" in value)


def first_frames(client, payload: dict, seed: int, *, to_end: bool = False) -> dict:
    """Submit one job; seconds to the first update (with the prior's x̂0), to the first x̂0
    after a guided step, and (``to_end``) to the end."""
    t0 = time.perf_counter()
    job = client.submit(payload, api_name="/restore", seed=seed)
    first_update = first_x0 = first_guided = None
    while first_guided is None:
        outs = job.outputs()
        now = time.perf_counter() - t0
        if outs and first_update is None:
            first_update = now
        images = [k for k, o in enumerate(outs) if _is_image(o[X0])]
        if images and first_x0 is None:
            first_x0 = now
        if len(images) >= 2:  # the first is the prior's, in the first update
            first_guided = now
        if job.done() and first_guided is None:
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
    return {
        "first_update_s": first_update,
        "first_x0_s": first_x0,
        "first_guided_x0_s": first_guided,
        "total_s": total,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n-runs", type=int, default=7, help="timed runs (default 7)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument(
        "--out", default=str(ROOT / "results" / "app_first_frame" / "app_first_frame.json")
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    import gradio
    from gradio_client import Client, handle_file

    t = time.perf_counter()
    app_main = load_app()
    from app.device import DEVICE
    from mgps.priors import load_prior

    charts = app_main.preload()
    load_prior("digits", device=DEVICE)  # what preload() started in the background
    charts.join()  # the trade-off charts, computed in the background at start-up
    startup = time.perf_counter() - t
    _, url, _ = app_main.demo.launch(
        prevent_thread_lock=True, quiet=True, server_name="127.0.0.1", **app_main.launch_kwargs()
    )
    # download_files=False: an update is seen when it arrives, as a browser sets an image's
    # source then (with downloads, the client would first fetch every image of the update)
    client = Client(url, verbose=False, download_files=False)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        payload = {
            "background": handle_file(str(DIGIT)),
            "layers": [handle_file(str(stroke_file(Path(tmp))))],
            "composite": None,
        }
        runs = [first_frames(client, payload, seed=k) for k in range(args.n_runs)]
        full = first_frames(client, payload, seed=args.n_runs, to_end=True)
    load_after = os.getloadavg()
    client.close()
    app_main.demo.close()

    def median(key: str, items: list[dict]) -> float:
        return statistics.median(r[key] for r in items)

    def rounded(r: dict) -> dict:
        return {k: round(v, 3) for k, v in r.items() if v is not None}

    result = {
        "what": "seconds from submitting a restore job (gradio_client, loopback, no file "
        "downloads) to its first streamed outputs; digits prior, MGPS 50 steps, 4 samples, drawn mask (the Restore "
        "tab's defaults); the app started as `python app.py` does (default prior preloaded "
        "and warmed up). The first update carries the observation and the first x̂0, the "
        "prior's estimate from the initial noise before any guidance; the first guided x̂0 "
        "follows MGPS's first step.",
        "first_update_median_s": round(median("first_update_s", runs), 3),
        "first_x0_median_s": round(median("first_x0_s", runs), 3),
        "first_guided_x0_median_s": round(median("first_guided_x0_s", runs), 3),
        "first_run": rounded(runs[0]),
        "full_run_total_s": round(full["total_s"], 2),
        "runs": [rounded(r) for r in runs],
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
    print(json.dumps({k: result[k] for k in list(result)[1:6]}, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
