"""Where to run and in what precision: the one choice of device for the command line, the
tables and the app.

``auto`` is CUDA when a CUDA GPU is visible and the CPU otherwise (MPS only when asked for:
several samplers and the exact mixtures need float64, which MPS lacks). A device that is not
there raises :class:`DeviceUnavailableError` at once, naming the devices that are.

    >>> pick_device("cpu")
    device(type='cpu')
"""

from __future__ import annotations

import os
import re

import torch

__all__ = [
    "DEVICE_HELP",
    "DTYPES",
    "DeviceUnavailableError",
    "available_devices",
    "check_device_name",
    "parse_dtype",
    "pick_device",
]

DEVICE_HELP = "auto (CUDA when present, otherwise the CPU), cpu, cuda, cuda:N or mps"
DTYPES: dict[str, torch.dtype] = {
    "float32": torch.float32,
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
}
_SPEC = re.compile(r"auto|cpu|mps|cuda(:\d+)?")


class DeviceUnavailableError(ValueError):
    """The requested device does not exist on this machine (the message lists those that do)."""


def check_device_name(spec: str) -> str:
    """``spec`` in lower case when it names a device (``auto``, ``cpu``, ``cuda``, ``cuda:N``,
    ``mps``), else ``ValueError``; whether the device is there is :func:`pick_device`'s check."""
    text = str(spec).strip().lower()
    if not _SPEC.fullmatch(text):
        raise ValueError(f"unknown device {str(spec)!r}; use {DEVICE_HELP}")
    return text


def available_devices() -> list[str]:
    """The devices torch can use here: ``cpu``, then ``cuda:0`` … and ``mps`` when present."""
    devices = ["cpu"]
    if torch.cuda.is_available():
        devices += [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        devices.append("mps")
    return devices


def _why_no_cuda() -> str:
    if torch.version.cuda is None:
        return (
            f"this torch ({torch.__version__}) is a CPU build; install a CUDA build of torch "
            "(README, 'Installing torch') to use a GPU"
        )
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    hidden = f" (CUDA_VISIBLE_DEVICES={visible!r})" if visible is not None else ""
    return f"this torch is built for CUDA {torch.version.cuda} but sees no GPU{hidden}"


def pick_device(
    spec: str | torch.device | None = "auto", *, index: int | None = None
) -> torch.device:
    """The device named by ``spec``, checked to exist.

    Args:
        spec: ``auto``, ``cpu``, ``cuda``, ``cuda:N``, ``mps`` (or a ``torch.device``);
            ``None`` means ``auto``.
        index: the local index of this process among several (``accelerate launch``): with
            ``auto`` or ``cuda`` it picks GPU ``index`` (modulo the number of GPUs, so that
            more processes than GPUs share them evenly).

    Raises:
        DeviceUnavailableError: the device is not there; the message lists those that are.
        ValueError: ``spec`` is not a device name.
    """
    text = check_device_name(spec if spec is not None else "auto")
    here = ", ".join(available_devices())
    if text == "auto":
        text = "cuda" if torch.cuda.is_available() else "cpu"
    if text == "cpu":
        return torch.device("cpu")
    if text == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise DeviceUnavailableError(
                f"device 'mps' is not available: MPS needs an Apple-silicon Mac and a torch "
                f"built with MPS. Devices here: {here}."
            )
        return torch.device("mps")
    if not torch.cuda.is_available():
        raise DeviceUnavailableError(
            f"device {text!r} is not available: {_why_no_cuda()}. Devices here: {here}."
        )
    count = torch.cuda.device_count()
    if text == "cuda":
        return torch.device("cuda", (index or 0) % count) if count else torch.device("cuda")
    number = int(text.split(":")[1])
    if number >= count:
        raise DeviceUnavailableError(
            f"device {text!r} is not available: this machine has {count} CUDA "
            f"device{'s' if count > 1 else ''}. Devices here: {here}."
        )
    return torch.device("cuda", number)


def parse_dtype(name: str | torch.dtype | None) -> torch.dtype:
    """``float32``, ``float16`` or ``bfloat16`` (``None``: float32) as a ``torch.dtype``."""
    if name is None:
        return torch.float32
    if isinstance(name, torch.dtype):
        if name not in DTYPES.values():
            raise ValueError(f"unsupported dtype {name}; use one of {', '.join(DTYPES)}")
        return name
    key = str(name).strip().lower().removeprefix("torch.")
    if key not in DTYPES:
        raise ValueError(f"unknown dtype {name!r}; use one of {', '.join(DTYPES)}")
    return DTYPES[key]
