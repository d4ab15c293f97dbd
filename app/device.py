"""The one place where the app picks its device, how many sampling jobs run at once, and the
optional ZeroGPU decorator.

``spaces`` (Hugging Face ZeroGPU) is imported only when installed, and before torch, as it
asks; elsewhere :func:`gpu` returns the function unchanged.

Jobs at once: on ZeroGPU each call of a decorated function gets a GPU of its own for its
duration, so :data:`ZERO_GPU_JOBS` users sample at the same time; on one local device (a CPU,
or a Space or machine with one GPU) sampling jobs run one at a time and the others wait in
the queue, since they would only share the device and all finish later.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterable
from typing import Any

try:  # before torch: on ZeroGPU it patches CUDA
    import spaces  # type: ignore[import-not-found]
except ImportError:  # not on a Space: the decorator is a no-op
    spaces = None

import torch

__all__ = [
    "DEVICE",
    "HEAVY",
    "ZERO_GPU_JOBS",
    "gpu",
    "on_space",
    "on_zero_gpu",
    "sampling_jobs",
    "preload_priors",
]

log = logging.getLogger(__name__)


def _pick_device() -> torch.device:
    """CUDA when present (a GPU Space, ZeroGPU's emulated CUDA), otherwise the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


DEVICE: torch.device = _pick_device()

HEAVY = "device"  # the concurrency id shared by every sampling event
ZERO_GPU_JOBS = 4  # sampling jobs at once on ZeroGPU (each call gets its own GPU)


def on_space() -> bool:
    """Whether the app runs on a Hugging Face Space (the runtime sets ``SYSTEM=spaces``)."""
    return os.environ.get("SYSTEM") == "spaces" or "SPACE_ID" in os.environ


def on_zero_gpu() -> bool:
    """Whether the app runs on ZeroGPU (``spaces`` installed and ``SPACES_ZERO_GPU`` set)."""
    return spaces is not None and bool(os.environ.get("SPACES_ZERO_GPU"))


def sampling_jobs() -> int:
    """How many sampling jobs run at once: :data:`ZERO_GPU_JOBS` on ZeroGPU, else 1."""
    return ZERO_GPU_JOBS if on_zero_gpu() else 1


def gpu(
    duration: int | Callable[..., int] = 60,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``spaces.GPU(duration=...)`` on ZeroGPU; the identity everywhere else."""
    if not on_zero_gpu():
        return lambda fn: fn
    return spaces.GPU(duration=duration)


def preload_priors(names: Iterable[str], *, background: bool) -> threading.Thread | None:
    """Load (and cache) priors so that the first Run does not wait for them.

    Failures are logged, not raised: the Run handler reports them when the prior is picked.
    """
    from mgps.priors import load_prior

    names = list(names)

    def work() -> None:
        for name in names:
            try:
                load_prior(name, device=DEVICE)
                log.info("preloaded prior %s on %s", name, DEVICE)
            except Exception as err:  # noqa: BLE001 - reported again when used
                log.warning("could not preload prior %s: %s", name, err)

    if not background:
        work()
        return None
    thread = threading.Thread(target=work, name="preload-priors", daemon=True)
    thread.start()
    return thread
