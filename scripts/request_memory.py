"""Peak memory of the app server for the largest request it accepts: ``python app.py`` in a
subprocess, one small restore to warm it up, then one restore whose editor value is at every
limit of ``app/limits.py`` (a background at the megapixel limit and the most layers at the same
size: MAX_REQUEST_MEGAPIXELS decoded in all), and the server's peak resident memory
(``VmHWM``) before and after. Linux only (reads /proc).

    python scripts/request_memory.py            # prints the table the README quotes
"""

from __future__ import annotations

import argparse
import math
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def status_mb(pid: int, key: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    raise KeyError(key)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def images(folder: Path, megapixels: float, layers: int) -> tuple[Path, list[Path]]:
    """A background of ``megapixels`` (a smooth gradient: a small PNG, a full-size decode)
    and ``layers`` layers of the same size with a stroke across the middle."""
    side = int(math.sqrt(megapixels * 1e6))
    ramp = np.linspace(0, 255, side, dtype=np.float32).astype(np.uint8)
    background = np.empty((side, side, 3), np.uint8)
    background[...] = ramp[None, :, None]
    Image.fromarray(background).save(folder / "background.png")
    stroke = np.zeros((side, side, 4), np.uint8)
    stroke[side // 3 : side // 2, side // 4 : 3 * side // 4] = (255, 45, 85, 255)
    paths = []
    for k in range(layers):
        path = folder / f"layer{k}.png"
        Image.fromarray(stroke).save(path)
        paths.append(path)
    return folder / "background.png", paths


def main() -> None:
    from app import catalog, limits
    from mgps.arguments import add_steps_argument, steps_for

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_steps_argument(parser, help="DDNM's diffusion steps (default 2)")
    args = parser.parse_args()
    try:
        args.steps = steps_for(args.steps, "ddnm", 2)
    except ValueError as exc:
        parser.error(str(exc))
    layers = limits.MAX_LAYERS
    megapixels = min(catalog.MAX_MEGAPIXELS, limits.MAX_REQUEST_MEGAPIXELS / (1 + layers))
    port = free_port()
    env = {
        **os.environ,
        "GRADIO_SERVER_NAME": "127.0.0.1",
        "GRADIO_SERVER_PORT": str(port),
        "HF_HUB_OFFLINE": "1",
        "OMP_NUM_THREADS": "1",
        "GRADIO_ANALYTICS_ENABLED": "False",
    }
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "app.py")],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        from gradio_client import Client, handle_file

        url = f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + 300
        while True:
            try:
                client = Client(url, verbose=False)
                break
            except Exception:  # noqa: BLE001 - not up yet
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("the app did not start") from None
                time.sleep(1)
        settings = dict(
            operator="mask",
            sampler="ddnm",
            num_samples=catalog.MAX_SAMPLES,
            ddnm__num_steps=args.steps,
            api_name="/restore",
        )

        def editor(background: Path, strokes: list[Path]) -> dict:
            return {
                "background": handle_file(str(background)),
                "layers": [handle_file(str(p)) for p in strokes],
                "composite": None,
            }

        with tempfile.TemporaryDirectory() as tmp:
            small_bg, small_layers = images(Path(tmp), 0.01, 1)
            client.predict(editor(small_bg, small_layers), **settings)  # warm-up
            idle = status_mb(server.pid, "VmRSS")
            peak_before = status_mb(server.pid, "VmHWM")
            (Path(tmp) / "big").mkdir()
            background, strokes = images(Path(tmp) / "big", megapixels, layers)
            side = Image.open(background).size[0]
            result = client.predict(editor(background, strokes), **settings)
            peak = status_mb(server.pid, "VmHWM")
            after = status_mb(server.pid, "VmRSS")
        assert "done" in result[0], result[0]
        total = side * side * (1 + layers) / 1e6
        print(
            f"request: background {side}×{side} + {layers} layers of the same size = "
            f"{total:.1f} megapixels decoded (limit {limits.MAX_REQUEST_MEGAPIXELS}), "
            f"{catalog.MAX_SAMPLES} samples, {args.steps} steps"
        )
        print(f"server RSS idle after warm-up: {idle:.0f} MB (peak so far {peak_before:.0f} MB)")
        print(
            f"server peak RSS with the request: {peak:.0f} MB (+{peak - idle:.0f} MB); "
            f"RSS after it: {after:.0f} MB"
        )
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
