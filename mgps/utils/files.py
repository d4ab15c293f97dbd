"""Writing files so that a reader, or a crash, never sees them half-written."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch

__all__ = ["atomic_torch_save", "atomic_write_text", "swap_dirs"]

_libc = None


def _atomic(path: Path, write) -> None:
    """``write(tmp)`` into a temporary file in the folder of ``path``, synced to disk, then
    renamed over ``path``: ``path`` holds the old content or the new, never a part."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_torch_save(obj: Any, path: Path) -> None:
    """``torch.save(obj, path)``, atomically (a crash leaves the old file or the new)."""
    _atomic(path, lambda tmp: torch.save(obj, tmp))


def atomic_write_text(path: Path, text: str) -> None:
    """``Path(path).write_text(text)``, atomically (a crash leaves the old file or the new)."""
    _atomic(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


def swap_dirs(new: Path, dst: Path) -> None:
    """Put folder ``new`` at ``dst``; a reader of ``dst`` sees the old or the new folder, never
    a mix (Linux ``renameat2(RENAME_EXCHANGE)`` swaps both names in one step; elsewhere two
    renames, so ``dst`` is briefly absent but never half-written)."""
    global _libc
    new, dst = Path(new), Path(dst)
    if not dst.exists():
        os.rename(new, dst)
        return
    try:
        if _libc is None:
            _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        at_fdcwd, rename_exchange = -100, 2
        rc = _libc.renameat2(
            at_fdcwd, os.fsencode(str(new)), at_fdcwd, os.fsencode(str(dst)), rename_exchange
        )
        if rc == 0:
            shutil.rmtree(new)  # ``new`` now holds the old folder
            return
    except (AttributeError, OSError):
        pass
    old = dst.parent / f".{dst.name}.old-{os.getpid()}"
    shutil.rmtree(old, ignore_errors=True)
    os.rename(dst, old)
    os.rename(new, dst)
    shutil.rmtree(old, ignore_errors=True)
