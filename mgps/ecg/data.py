"""The offline ECG data set: synthetic 12-lead ECG windows from neurokit2.

``assets/ecg/ecg_windows.npz`` is written by ``scripts/ecg_make_data.py`` (see
``assets/ecg/README.md``): windows ``(N, 9, 256)`` float16 of the leads I, II, III, V1–V6 at
100 Hz (2.56 s), III = II − I, split into train and test **by record**. The windows of a record
are stored in order and contiguous, so :func:`record_segments` can glue them back into the
continuous signal (training takes random 2.56-s crops from it).

These are synthetic ECGs (ECGSYN dynamical model), not PTB-XL: realism is low to moderate.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..utils.assets import ASSETS_DIR

__all__ = ["DATA_PATH", "EcgData", "load_ecg_data", "record_segments"]

DATA_PATH = ASSETS_DIR / "ecg" / "ecg_windows.npz"
SPLITS = ("train", "test", "all")


@dataclass
class EcgData:
    """The windows and their bookkeeping.

    Attributes:
        windows: float32 ``(N, 9, L)``.
        record: ``(N,)`` record id of each window.
        position: ``(N,)`` index of the window inside its record (contiguous windows).
        is_test: ``(N,)`` bool, the window's record is a test record.
        sampling_rate: Hz (100).
        meta: per-record arrays (heart rate, noise, gain, seed, split) and the generator string.
    """

    windows: np.ndarray
    record: np.ndarray
    position: np.ndarray
    is_test: np.ndarray
    sampling_rate: int = 100
    meta: dict[str, Any] = field(default_factory=dict)

    def split(self, name: str) -> np.ndarray:
        """float32 windows of ``"train"``, ``"test"`` or ``"all"``."""
        return self.windows[self.split_mask(name)]

    def split_mask(self, name: str) -> np.ndarray:
        if name not in SPLITS:
            raise ValueError(f"split must be one of {', '.join(SPLITS)}, got {name!r}")
        if name == "all":
            return np.ones(len(self.windows), dtype=bool)
        return self.is_test if name == "test" else ~self.is_test


def load_ecg_data(path: str | os.PathLike[str] | None = None) -> EcgData:
    """Read the ``.npz`` written by ``scripts/ecg_make_data.py``.

    Raises:
        FileNotFoundError: the file is missing (with how to make it).
    """
    path = Path(path) if path is not None else DATA_PATH
    if not path.is_file():
        raise FileNotFoundError(
            f"ECG data {str(path)!r} not found; make it with `pip install neurokit2 && "
            "python scripts/ecg_make_data.py`"
        )
    with np.load(path) as f:
        windows = f["windows"].astype(np.float32)
        meta = {
            k: f[k]
            for k in f.files
            if k.startswith("record_") or k in ("leads", "generator", "window_length")
        }
        return EcgData(
            windows=windows,
            record=f["record"].astype(np.int64),
            position=f["position"].astype(np.int64),
            is_test=f["is_test"].astype(bool),
            sampling_rate=int(f["sampling_rate"]),
            meta=meta,
        )


def record_segments(data: EcgData, split: str = "train") -> list[np.ndarray]:
    """The continuous signal of every record of ``split``: a list of float32 ``(9, n_r)``.

    Consecutive windows of a record are concatenated in order; a gap in the positions starts
    a new segment (never happens for files made by ``scripts/ecg_make_data.py``).
    """
    mask = data.split_mask(split)
    segments: list[np.ndarray] = []
    for r in np.unique(data.record[mask]):
        idx = np.flatnonzero(mask & (data.record == r))
        idx = idx[np.argsort(data.position[idx])]
        start = 0
        for k in range(1, len(idx) + 1):
            if k == len(idx) or data.position[idx[k]] != data.position[idx[k - 1]] + 1:
                segments.append(np.concatenate(list(data.windows[idx[start:k]]), axis=-1))
                start = k
    return segments
