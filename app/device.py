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
import time
from collections.abc import Callable, Iterable
from typing import Any

try:  # before torch: on ZeroGPU it patches CUDA
    import spaces  # type: ignore[import-not-found]
except ImportError:  # not on a Space: the decorator is a no-op
    spaces = None

import torch

from mgps.devices import pick_device

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
    """CUDA when present (a GPU Space, ZeroGPU's emulated CUDA), otherwise the CPU: the
    command line's ``--device auto``."""
    return pick_device("auto")


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


MAX_GPU_SECONDS = 300  # the longest call ZeroGPU is asked for


def gpu_seconds(step_seconds: float, steps: int, *, samples: int = 1, runs: int = 1) -> int:
    """Seconds to ask ZeroGPU for: 20 s to start, then ``step_seconds`` per step of each of
    ``runs`` runs, times the square root of the number of ``samples`` (a batch costs less
    than that many runs), at most :data:`MAX_GPU_SECONDS`."""
    return int(min(MAX_GPU_SECONDS, 20 + step_seconds * steps * runs * max(1, samples) ** 0.5))


def gpu(
    duration: int | Callable[..., int] = 60,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``spaces.GPU(duration=...)`` on ZeroGPU; the identity everywhere else."""
    if not on_zero_gpu():
        return lambda fn: fn
    return spaces.GPU(duration=duration)


def preload_priors(names: Iterable[str], *, background: bool) -> threading.Thread | None:
    """Load (and cache) priors so that the first Run does not wait for them, and (except on
    ZeroGPU, whose GPU is lent to decorated calls only) warm each up with a forward and
    backward pass (the first pass through a network is slower: memory allocation, kernel
    selection), so that the first user's run is as quick as the next.

    Failures are logged, not raised: the Run handler reports them when the prior is picked.
    """
    from mgps.priors import load_prior

    names = list(names)

    def work() -> None:
        for name in names:
            try:
                prior = load_prior(name, device=DEVICE)
                log.info("preloaded prior %s on %s", name, DEVICE)
            except Exception as err:  # noqa: BLE001 - reported again when used
                log.warning("could not preload prior %s: %s", name, err)
                continue
            if on_zero_gpu():  # the GPU is lent to decorated calls only
                continue
            try:
                _warm_up(name, prior)
            except Exception as err:  # noqa: BLE001 - only the first run is slower
                log.warning("could not warm up prior %s: %s", name, err)

    if not background:
        work()
        return None
    thread = threading.Thread(target=work, name="preload-priors", daemon=True)
    thread.start()
    return thread


BATCH = 16  # the batch whose cost is measured beside that of one sample (the app's maximum)


def _warm_up(name: str, prior: Any) -> None:
    """One forward and backward pass on 1 sample (the warm-up), then timed passes on 1 and
    :data:`BATCH` samples (the fastest of three each): how the network's cost grows with the
    samples, for time estimates; and the price of a VJP for Compare's budget
    (:func:`mgps.budget.vjp_price`, measured here once)."""
    from . import status

    dtype = getattr(prior, "dtype", torch.float32)
    t = (prior.alphas_cumprod.numel() - 1) // 2

    def one_pass(n: int) -> float:
        x = torch.randn((n, *tuple(prior.shape)), dtype=dtype, device=DEVICE, requires_grad=True)
        start = time.perf_counter()
        with torch.enable_grad():
            prior.x0_pred(x, t).sum().backward()
        if DEVICE.type == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter() - start

    one_pass(1)
    one = min(one_pass(1) for _ in range(3))  # the least disturbed of three
    many = min(one_pass(BATCH) for _ in range(3))
    status.RATES.calibrate(name, one, many, BATCH)
    from mgps.budget import vjp_price

    from .catalog import DEFAULT_SAMPLES

    vjp_price(prior, key=name, num_samples=DEFAULT_SAMPLES)  # Compare's cost of a VJP, remembered
