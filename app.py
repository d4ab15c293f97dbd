"""The Gradio app: `python app.py` (offline, embedded priors) or a Hugging Face Space."""

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
if os.environ.get("SYSTEM") != "spaces":  # locally: never wait on the hub
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

from app.ui import build_demo, launch_kwargs, preload  # noqa: E402

demo = build_demo()
if __name__ == "__main__":
    preload()
    demo.launch(**launch_kwargs())
