#!/usr/bin/env python
"""Synthesise the offline 12-lead ECG data set ``assets/ecg/ecg_windows.npz`` with neurokit2.

PTB-XL (the paper's data) cannot be downloaded here, so the ECG prior is trained on synthetic
ECGs from neurokit2's multi-lead ECGSYN simulator (McSharry et al. 2003; ``nk.ecg_simulate(
method="multileads")``, neurokit2 0.3.0, MIT). Their realism is low to moderate: see
``assets/ecg/README.md``. neurokit2 is needed only to regenerate the data, never at test or
run time (``pip install neurokit2``; it is not in requirements.txt).

Per record ``r`` (all randomness from ``--seed``, so the file is reproducible):

1. draw a heart rate ~ U(50, 110) bpm, a heart-rate std ~ U(1, 6) bpm, a noise amplitude
   ~ U(0.005, 0.04) (neurokit's Laplace noise), and a morphology jitter of the five ECGSYN
   waves P, Q, R, S, T: amplitudes ``ai`` × LogNormal(0, 0.2), angles ``ti`` + N(0, 4°),
   widths ``bi`` × LogNormal(0, 0.1);
2. simulate ``1 + 2.56·W + 0.3`` s of 12 leads at 500 Hz with ``random_state = seed·10⁶ + r``;
3. keep the independent leads I, II, V1–V6 (the simulator's III, aVR, aVL, aVF do **not**
   obey Einthoven/Goldberger), drop the first second (the ODE's start-up transient);
4. decimate to 100 Hz with an anti-aliasing polyphase filter (``scipy.signal.resample_poly``,
   down = 5), the sampling rate of the paper's PTB-XL models;
5. per lead, subtract the median over the record (isoelectric baseline estimate; neurokit
   min-max scales each lead to [-0.4, 1.2] with an arbitrary offset);
6. multiply by random gains, one per record ~ LogNormal(0, 0.15) and one per lead
   ~ LogNormal(0, 0.1), for amplitude variety;
7. set III = II − I (Einthoven), so the limb leads obey the lead relations exactly;
8. cut ``W`` contiguous, non-overlapping windows of 256 samples (2.56 s) from the start.

There is **no further standardisation**: values stay in neurokit's "mV-like" units (about
1.6 peak-to-peak per lead), so σ_y = 0.05 has the same meaning as in the paper (mV on
PTB-XL). One scale for all leads keeps the linear lead relations. Records are split into
train/test by record (``--test-fraction``, the last records by a seeded permutation), so no
test record is seen in training. Windows of one record are stored in order and contiguous,
so a training loader can cut random 2.56-s crops across neighbouring windows.

Stored arrays (``np.load``; no pickle needed):

* ``windows`` float16 ``(N, 9, 256)`` in the lead order I, II, III, V1–V6;
* ``record`` int32 ``(N,)``, ``position`` int32 ``(N,)`` (window index in its record),
  ``is_test`` bool ``(N,)``;
* per record ``(R,)``: ``record_heart_rate``, ``record_heart_rate_std``, ``record_noise``,
  ``record_gain``, ``record_seed``, ``record_is_test``;
* ``leads`` (str), ``sampling_rate`` (100), ``window_length`` (256), ``generator`` (str).

Usage::

    pip install neurokit2
    OMP_NUM_THREADS=1 python scripts/ecg_make_data.py             # 320 records, ~12 min
    python scripts/ecg_make_data.py --records 8 --out runs/ecg_check.npz  # quick check
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import scipy.signal  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

from mgps.ecg.leads import LEADS_9  # noqa: E402

SIM_RATE = 500  # Hz, simulator
RATE = 100  # Hz, stored
WINDOW = 256  # samples = 2.56 s
TRANSIENT_S = 1.0
MARGIN_S = 0.3
KEEP = ("I", "II", "V1", "V2", "V3", "V4", "V5", "V6")  # independent leads taken from neurokit
BASE_TI = np.array([-70.0, -15.0, 0.0, 15.0, 100.0])  # ECGSYN defaults (degrees)
BASE_AI = np.array([1.2, -5.0, 30.0, -7.5, 0.75])
BASE_BI = np.array([0.25, 0.1, 0.1, 0.1, 0.4])


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--records", type=int, default=320, help="number of simulated records")
    p.add_argument("--windows-per-record", type=int, default=6, help="2.56-s windows per record")
    p.add_argument("--test-fraction", type=float, default=0.2, help="share of test records")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=str(ROOT / "assets" / "ecg" / "ecg_windows.npz"))
    return p.parse_args(argv)


def record_parameters(rng: np.random.Generator) -> dict:
    """Random simulator settings of one record (see the module docstring, step 1)."""
    ti = BASE_TI + rng.normal(0.0, 4.0, 5)
    ti = np.sort(ti)  # keep the P, Q, R, S, T order
    return {
        "heart_rate": float(rng.uniform(50.0, 110.0)),
        "heart_rate_std": float(rng.uniform(1.0, 6.0)),
        "noise": float(rng.uniform(0.005, 0.04)),
        "ti": tuple(float(v) for v in ti),
        "ai": tuple(float(v) for v in BASE_AI * rng.lognormal(0.0, 0.2, 5)),
        "bi": tuple(float(v) for v in BASE_BI * rng.lognormal(0.0, 0.1, 5)),
        "gain": float(rng.lognormal(0.0, 0.15)),
        "lead_gains": rng.lognormal(0.0, 0.1, len(KEEP)),
    }


def simulate_record(params: dict, random_state: int, windows: int) -> np.ndarray:
    """One record as float32 ``(9, windows·256)`` at 100 Hz (steps 2–8)."""
    import neurokit2 as nk

    duration = TRANSIENT_S + windows * WINDOW / RATE + MARGIN_S
    df = nk.ecg_simulate(
        duration=duration,
        sampling_rate=SIM_RATE,
        method="multileads",
        heart_rate=params["heart_rate"],
        heart_rate_std=params["heart_rate_std"],
        noise=params["noise"],
        random_state=random_state,
        ti=params["ti"],
        ai=params["ai"],
        bi=params["bi"],
    )
    x = df[list(KEEP)].to_numpy(dtype=np.float64).T  # (8, n)
    x = x[:, int(TRANSIENT_S * SIM_RATE) :]
    x = scipy.signal.resample_poly(x, 1, SIM_RATE // RATE, axis=1)
    x = x - np.median(x, axis=1, keepdims=True)
    x = x * params["gain"] * params["lead_gains"][:, None]
    lead_i, lead_ii = x[0], x[1]
    x9 = np.concatenate([x[:2], (lead_ii - lead_i)[None], x[2:]], axis=0)
    need = windows * WINDOW
    if x9.shape[1] < need:
        raise RuntimeError(f"simulated {x9.shape[1]} samples, need {need}")
    return x9[:, :need].astype(np.float32)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.records < 2:
        raise SystemExit("--records must be at least 2 (one train and one test record)")
    if not 0.0 < args.test_fraction < 1.0:
        raise SystemExit("--test-fraction must lie in (0, 1)")
    try:
        import neurokit2 as nk
    except ImportError:
        raise SystemExit(
            "neurokit2 is needed to regenerate the data: pip install neurokit2"
        ) from None

    rng = np.random.default_rng(args.seed)
    n_test = max(1, int(round(args.test_fraction * args.records)))
    test_records = set(rng.permutation(args.records)[:n_test].tolist())
    W = args.windows_per_record
    windows, record, position = [], [], []
    meta: dict[str, list] = {k: [] for k in ("hr", "hr_std", "noise", "gain", "seed", "test")}
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for r in range(args.records):
        params = record_parameters(rng)
        seed = args.seed * 1_000_000 + r
        x9 = simulate_record(params, seed, W)
        windows.append(x9.reshape(9, W, WINDOW).transpose(1, 0, 2))
        record += [r] * W
        position += list(range(W))
        meta["hr"].append(params["heart_rate"])
        meta["hr_std"].append(params["heart_rate_std"])
        meta["noise"].append(params["noise"])
        meta["gain"].append(params["gain"])
        meta["seed"].append(seed)
        meta["test"].append(r in test_records)
        if (r + 1) % 20 == 0 or r + 1 == args.records:
            print(
                f"{r + 1}/{args.records} records, {time.process_time() - cpu0:.0f} s CPU, "
                f"{time.perf_counter() - wall0:.0f} s wall",
                flush=True,
            )
    x = np.concatenate(windows, 0)
    record_arr = np.asarray(record, dtype=np.int32)
    is_test = np.asarray([meta["test"][r] for r in record], dtype=bool)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp.npz")
    np.savez_compressed(
        tmp,
        windows=x.astype(np.float16),
        record=record_arr,
        position=np.asarray(position, dtype=np.int32),
        is_test=is_test,
        record_heart_rate=np.asarray(meta["hr"], dtype=np.float32),
        record_heart_rate_std=np.asarray(meta["hr_std"], dtype=np.float32),
        record_noise=np.asarray(meta["noise"], dtype=np.float32),
        record_gain=np.asarray(meta["gain"], dtype=np.float32),
        record_seed=np.asarray(meta["seed"], dtype=np.int64),
        record_is_test=np.asarray(meta["test"], dtype=bool),
        leads=np.asarray(LEADS_9),
        sampling_rate=np.int32(RATE),
        window_length=np.int32(WINDOW),
        generator=np.asarray(
            f"neurokit2 {nk.__version__} ecg_simulate(method='multileads') at {SIM_RATE} Hz, "
            f"scripts/ecg_make_data.py --records {args.records} --windows-per-record {W} "
            f"--test-fraction {args.test_fraction} --seed {args.seed}"
        ),
    )
    os.replace(tmp, out)
    x16 = x.astype(np.float16).astype(np.float32)
    print(
        f"wrote {out}: {x.shape[0]} windows ({int((~is_test).sum())} train, {int(is_test.sum())} "
        f"test) from {args.records} records, {out.stat().st_size / 1e6:.2f} MB; "
        f"{time.process_time() - cpu0:.0f} s CPU, {time.perf_counter() - wall0:.0f} s wall"
    )
    print(
        f"value range [{x.min():.2f}, {x.max():.2f}], std {x.std():.3f}, per-lead std "
        f"{np.round(x.std(axis=(0, 2)), 3).tolist()}, "
        f"max |III − (II − I)| after float16 {np.abs(x16[:, 2] - x16[:, 1] + x16[:, 0]).max():.2e}"
    )


if __name__ == "__main__":
    main()
