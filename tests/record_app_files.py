"""Run by tests/test_space.py in a subprocess: launch the app (``app.py``, as a Space starts
it), use every tab once through the API (a restore with each image prior, a comparison, the
trade-off, the ECG) and print, one per line, the repository's files the process opened (audit
hook on ``open``) and the repository's Python modules it imported.

Usage: python tests/record_app_files.py OUT_FILE
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
opened: set[str] = set()


def hook(event: str, args: tuple) -> None:
    if event == "open" and args and isinstance(args[0], str | os.PathLike):
        path = os.path.abspath(os.fspath(args[0]))
        if path.startswith(str(ROOT) + os.sep):
            opened.add(path)


def main(out: str) -> None:
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.chdir(ROOT)  # the caller puts ROOT on PYTHONPATH, so `app` and `mgps` are the checkout's
    # the client's own files come from a copy outside the repository
    work = Path(tempfile.mkdtemp())
    image = work / "digit.png"
    shutil.copy(ROOT / "assets" / "examples" / "digit_3_1.png", image)
    sys.addaudithook(hook)
    import safetensors
    import safetensors.torch

    # safetensors opens its files in Rust, unseen by the audit hook: record its calls
    def recorded(fn):
        def call(filename, *args, **kwargs):
            hook("open", (filename,))
            return fn(filename, *args, **kwargs)

        return call

    safetensors.safe_open = recorded(safetensors.safe_open)
    safetensors.torch.safe_open = recorded(safetensors.torch.safe_open)
    safetensors.torch.load_file = recorded(safetensors.torch.load_file)

    import runpy

    import torch

    torch.set_num_threads(1)
    app_main = runpy.run_path(str(ROOT / "app.py"), run_name="app_main")
    demo = app_main["demo"]
    app_main["preload"]()
    _, url, _ = demo.launch(
        prevent_thread_lock=True, quiet=True, server_name="127.0.0.1", **app_main["launch_kwargs"]()
    )
    from gradio_client import Client, handle_file

    from app import catalog

    client = Client(url, verbose=False)
    editor = {"background": handle_file(str(image)), "layers": [], "composite": None}
    for prior in [p.name for p in catalog.priors() if p.available]:
        client.predict(
            editor,
            api_name="/restore",
            prior=prior,
            operator="box",
            sampler="ddnm",
            num_samples=1,
            ddnm__num_steps=2,
        )
    client.predict(
        editor,
        api_name="/compare",
        samplers=["ddnm", "dps"],
        operator="half",
        num_steps=2,
        num_samples=1,
    )
    client.predict(api_name="/tradeoff", sampler="mgps", steps=10)
    client.predict(api_name="/ecg", sampler="ddnm", num_steps=2, num_samples=1)
    client.close()
    demo.close()
    modules = {
        os.path.abspath(m.__file__)
        for m in list(sys.modules.values())
        if getattr(m, "__file__", None) and os.path.abspath(m.__file__).startswith(str(ROOT))
    }
    files = {os.path.relpath(p, ROOT) for p in opened | modules if os.path.isfile(p)}
    files = {
        f
        for f in files
        if "__pycache__" not in f and not f.startswith((".", "mgps.egg-info", "tests/"))
    }
    Path(out).write_text("\n".join(sorted(files)) + "\n")
    sys.stdout.flush()
    os._exit(0)  # the preload threads may still run: no teardown


if __name__ == "__main__":
    main(sys.argv[1])
