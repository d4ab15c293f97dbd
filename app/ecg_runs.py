"""ECG runs: reconstruct the 12 leads of a held-out synthetic ECG window from
lead I (``ecg_missing_leads``) or from its first half (``ecg_missing_block``) with a posterior
sampler and the ``ecg`` prior (``mgps.ecg``), as in the library's benchmark
(:mod:`mgps.ecg.tasks`: σ_y = 0.05, the paper's ECG step counts and MGPS settings).

Plain functions that yield plotly figures (``ecg_figures``) and tables; no gradio import (the
ECG tab wires them).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import plotly.graph_objects as go
import torch

import mgps
from mgps.ecg.data import DATA_PATH, EcgData, load_ecg_data
from mgps.ecg.leads import twelve_leads
from mgps.ecg.tasks import PAPER_STEPS, TASKS, sampler_kwargs, window_metrics
from mgps.pipeline import SamplerRun, check_settings

from . import catalog, status
from .checks import int_in
from .device import DEVICE, gpu_seconds
from .ecg_figures import ecg_base, ecg_figure

__all__ = [
    "EcgRequest",
    "EcgFrame",
    "reconstruct",
    "preview",
    "ecg_samplers",
    "default_steps",
    "availability",
    "num_test_windows",
    "random_window",
    "window_info",
    "ecg_base",
    "ecg_figure",
    "TASK_CHOICES",
    "TABLE_COLUMNS",
    "DATA_NOTE",
]

PRIOR = "ecg"
SIGMA_Y = mgps.DEFAULT_SIGMA_Y  # the paper's (and the benchmark's) observation noise
MAX_SAMPLES = 10
DEFAULT_SAMPLES = 4
DEFAULT_TASK = "missing_leads"
DEFAULT_SAMPLER = "mgps"
DISPLAY_FRAMES = 20  # streamed figures per run (about)

TASK_CHOICES: list[tuple[str, str]] = [
    ("Missing leads: only lead I observed, rebuild the 12 leads", "missing_leads"),
    ("Missing block: second half of the window missing on all leads", "missing_block"),
]
TASK_SHORT = {"missing_leads": "lead I observed", "missing_block": "second half missing"}
TABLE_COLUMNS = ["estimate", "MAE", "RMSE", "MAE 12-lead", "RMSE 12-lead", "seconds"]
DATA_NOTE = (
    "The ECGs are **synthetic** (neurokit2's ECGSYN simulator, `assets/ecg/`), **not PTB-XL**: "
    "plausible heartbeats but no pathologies and little variety, so the numbers are not the "
    "paper's. Windows of 2.56 s at 100 Hz; the prior models I, II, III, V1–V6 and aVR, aVL, "
    "aVF are rebuilt from I, II, III (Goldberger). Units: neurokit's “mV-like” units."
)


# ---------------------------------------------------------------------------- availability
def availability() -> str | None:
    """Why the tab cannot run here (no trained prior, no data), or None when it can."""
    entry = mgps.PRIORS[PRIOR]
    check = getattr(entry.obj, "available", None)
    reasons = []
    try:
        prior_ok = bool(check()) if check is not None else True
    except Exception as err:  # noqa: BLE001
        prior_ok = False
        reasons.append(f"the ECG prior cannot be checked ({err})")
    if not prior_ok and not reasons:
        from mgps.ecg.prior import ECG_PRIOR_DIR

        reasons.append(
            f"the ECG prior is not trained yet: `{ECG_PRIOR_DIR.name}/` (assets/priors/ecg) holds "
            "no `config.json` + `model.safetensors`; `scripts/ecg_train.py` writes them"
        )
    if not DATA_PATH.is_file():
        reasons.append(
            "the synthetic ECG data `assets/ecg/ecg_windows.npz` are missing; "
            "`pip install neurokit2 && python scripts/ecg_make_data.py` writes them"
        )
    if not reasons:
        return None
    return "The ECG tab cannot run here: " + "; and ".join(reasons) + "."


def _require_available() -> None:
    why = availability()
    if why is not None:
        raise ValueError(why)


@lru_cache(maxsize=1)
def _data() -> EcgData:
    return load_ecg_data()


@lru_cache(maxsize=1)
def _test_index() -> np.ndarray:
    return np.flatnonzero(_data().is_test)


def num_test_windows() -> int:
    """How many held-out test windows there are (0 when the data are missing)."""
    if not DATA_PATH.is_file():
        return 0
    return len(_test_index())


def window_info(window: int) -> str:
    """Where test window ``window`` comes from (record, time inside it)."""
    d = _data()
    i = int(_test_index()[window])
    length = d.windows.shape[-1]
    start = int(d.position[i]) * length / d.sampling_rate
    return (
        f"test window {window} of {len(_test_index())}: record {int(d.record[i])}, "
        f"{start:.2f}–{start + length / d.sampling_rate:.2f} s"
    )


def random_window() -> int:
    """A test window index drawn at random (not seeded: a new one each click)."""
    return int(np.random.default_rng().integers(max(1, num_test_windows())))


def ecg_samplers(task: str = DEFAULT_TASK) -> list[tuple[str, str]]:
    """``(label, name)`` of the pixel-space samplers whose tags allow ``task``'s operator,
    with the paper's step count in the label."""
    op_name = _task(task)[0]
    out = []
    for e in mgps.SAMPLERS:
        if "pixel" not in e.tags or catalog.incompatibility(e.name, op_name, PRIOR) is not None:
            continue
        steps = PAPER_STEPS.get(e.name)
        out.append((e.label + (f" (paper: {steps} steps)" if steps else ""), e.name))
    out.sort(key=lambda c: (c[1] != DEFAULT_SAMPLER, c[1]))
    return out


def default_steps(sampler: str) -> int:
    """The paper's ECG step count for ``sampler`` (Table 14), else its registry default."""
    if sampler in PAPER_STEPS:
        return PAPER_STEPS[sampler]
    if sampler in mgps.SAMPLERS:
        return int(mgps.SAMPLERS[sampler].defaults().get("num_steps", 100))
    return 100


def settings_note(sampler: str) -> str:
    """The settings a run of ``sampler`` uses (beyond the steps), as a short line."""
    if sampler not in mgps.SAMPLERS:
        return ""
    kw = {k: v for k, v in sampler_kwargs(sampler).items() if k != "num_steps"}
    label = mgps.SAMPLERS[sampler].label
    if not kw:
        return f"{label}: registry defaults, σ_y = {SIGMA_Y}."
    text = ", ".join(f"{k} = {v}" for k, v in kw.items())
    return f"{label}: the ECG benchmark's settings ({text}), σ_y = {SIGMA_Y}."


def _task(task: str) -> tuple[str, dict[str, Any]]:
    if task not in TASKS:
        raise ValueError(f"unknown ECG task {task!r}; choose {' or '.join(TASKS)}")
    return TASKS[task]


# ---------------------------------------------------------------------------- the problem
@dataclass
class _Problem:
    x_true: torch.Tensor  # (9, L), on DEVICE, prior dtype
    operator: Any
    problem: mgps.InverseProblem
    observed: np.ndarray  # (9, L): y at the observed entries, NaN elsewhere
    missing: torch.Tensor  # bool (9, L)


def _window(window: Any) -> int:
    n = num_test_windows()
    if n == 0:
        _require_available()
    return int_in("the test window", window, 0, n - 1)


def _problem(window: int, task: str, seed: int, dtype: torch.dtype) -> _Problem:
    op_name, op_params = _task(task)
    x = torch.from_numpy(_data().windows[_test_index()[window]]).to(DEVICE, dtype)
    operator = mgps.OPERATORS[op_name].obj(tuple(x.shape), **op_params)
    problem = mgps.measure(x[None], operator, SIGMA_Y, torch.Generator().manual_seed(seed))
    observed = operator.observation_signal(problem.y)[0].cpu().double().numpy()
    return _Problem(x, operator, problem, observed, operator.missing_mask())


def _missing_12(missing: torch.Tensor) -> torch.Tensor:
    """bool ``(12, L)``: entries of the rebuilt 12 leads that depend on a missing entry."""
    coefficients = twelve_leads(torch.eye(missing.shape[0], dtype=torch.float64))  # (12, 9)
    return (coefficients.abs() @ missing.to(torch.float64).cpu()) > 0


def _errors(samples: torch.Tensor, x_true: torch.Tensor, missing: torch.Tensor) -> dict:
    """MAE/RMSE over the missing entries of the 9 leads (the benchmark's ``window_metrics``)
    and of the rebuilt 12 leads, per sample and of the samples' mean."""
    s = samples.detach().cpu().to(torch.float64)
    x = x_true.detach().cpu().to(torch.float64)
    m = missing.cpu()
    out = window_metrics(s, x, m, "missing_block")  # mae, rmse, mae_mean (9 leads)
    m12 = _missing_12(m)
    e12 = (twelve_leads(s) - twelve_leads(x)[None])[:, m12]  # (S, n12)
    mean_err = (s.mean(0) - x)[m]
    mean_e12 = (twelve_leads(s.mean(0)) - twelve_leads(x))[m12]
    out.update(
        rmse_mean=float(mean_err.pow(2).mean().sqrt()),
        mae12=float(e12.abs().mean(1).mean()),
        rmse12=float(e12.pow(2).mean(1).sqrt().mean()),
        mae12_mean=float(mean_e12.abs().mean()),
        rmse12_mean=float(mean_e12.pow(2).mean().sqrt()),
        mae_each=[float(v) for v in (s - x)[:, m].abs().mean(1)],
    )
    return out


def _table(metrics: dict, zero_fill: dict, n: int, seconds: float) -> list[list[Any]]:
    def r(v: float) -> float:
        return round(float(v), 4)

    return [
        [
            f"each sample (mean over {n})",
            r(metrics["mae"]),
            r(metrics["rmse"]),
            r(metrics["mae12"]),
            r(metrics["rmse12"]),
            round(seconds, 2),
        ],
        [
            f"mean of the {n} samples",
            r(metrics["mae_mean"]),
            r(metrics["rmse_mean"]),
            r(metrics["mae12_mean"]),
            r(metrics["rmse12_mean"]),
            None,
        ],
        [
            "zero-fill A⁺y (reference)",
            r(zero_fill["mae"]),
            r(zero_fill["rmse"]),
            r(zero_fill["mae12"]),
            r(zero_fill["rmse12"]),
            0.0,
        ],
    ]


def preview(window: Any = 0, task: str = DEFAULT_TASK, seed: Any = 0) -> tuple[go.Figure, str]:
    """The chosen window and its observation, before any sampling: (figure, one-line info).

    Raises:
        ValueError: the data or the prior are missing, or a bad window/task/seed.
    """
    _require_available()
    w = _window(window)
    s = int_in("the seed", seed, 0, 2**31 - 1)
    p = _problem(w, task, s, torch.float32)
    info = window_info(w)
    title = f"{info} · {TASK_SHORT[task]}"
    return ecg_figure(ecg_base(p.x_true.cpu().numpy(), p.observed), title=title), info


# ---------------------------------------------------------------------------- the run
@dataclass(frozen=True)
class EcgRequest:
    """One reconstruction.

    Attributes:
        window: index among the held-out test windows (0 .. ``num_test_windows() - 1``).
        task: ``"missing_leads"`` (lead I observed) or ``"missing_block"`` (second half
            missing), the keys of :data:`mgps.ecg.tasks.TASKS`.
        sampler: a registered pixel-space sampler that can run the task's operator.
        num_steps: diffusion steps (None: the paper's ECG count, :func:`default_steps`).
        num_samples: posterior samples drawn at once (1 .. 10).
        seed: seeds the observation noise (``seed``) and the sampler (``seed + 1``).
        params: further sampler keywords over the benchmark's ECG settings.
    """

    window: int = 0
    task: str = DEFAULT_TASK
    sampler: str = DEFAULT_SAMPLER
    num_steps: int | None = None
    num_samples: int = DEFAULT_SAMPLES
    seed: int = 0
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class EcgFrame:
    """A streamed update; ``figure``/``table`` are None when unchanged."""

    status: str
    step: int = 0
    num_steps: int = 0
    figure: go.Figure | None = None
    table: list[list[Any]] | None = None
    metrics: dict[str, Any] | None = None
    final: bool = False


def _check(request: EcgRequest) -> tuple[int, str, str, dict[str, Any], int, int]:
    op_name, _ = _task(request.task)
    if request.sampler not in mgps.SAMPLERS:
        raise ValueError(
            f"unknown sampler {request.sampler!r}; for the ECG tasks choose among "
            f"{', '.join(n for _, n in ecg_samplers(request.task))}"
        )
    entry = mgps.SAMPLERS[request.sampler]
    why = catalog.incompatibility(request.sampler, op_name, PRIOR)
    if why is None and "pixel" not in entry.tags:
        why = f"{entry.label} is not a pixel-space sampler"
    if why is not None:
        task_label = mgps.OPERATORS[op_name].label
        raise ValueError(f"{entry.label} cannot run “{task_label}” with the ECG prior: {why}")
    steps_param = entry.param("num_steps")
    num_steps = int_in(
        "the number of steps",
        default_steps(request.sampler) if request.num_steps is None else request.num_steps,
        int(steps_param.low or 1),
        min(int(steps_param.high or catalog.MAX_STEPS), catalog.MAX_STEPS),
    )
    n = int_in("the number of samples", request.num_samples, 1, MAX_SAMPLES)
    seed = int_in("the seed", request.seed, 0, 2**31 - 1)
    check_settings(request.sampler, request.params)
    kwargs = sampler_kwargs(request.sampler, {**request.params, "num_steps": num_steps})
    return _window(request.window), request.task, request.sampler, kwargs, n, seed


def reconstruct(request: EcgRequest) -> Iterator[EcgFrame]:
    """Reconstruct one test window and stream it: a first frame with the truth and the
    observation, one frame per step (the figure of the current x̂0 every few steps, so a
    consumer can stop within one step), then a final frame with the samples and the metrics.

    Raises:
        ValueError: the prior or the data are missing, bad input, or a sampler that cannot
            run the task (the library's message).
        mgps.SamplerDivergedError: the sampler produced NaN/inf.
    """
    _require_available()
    window, task, sampler, kwargs, n, seed = _check(request)
    label = mgps.SAMPLERS[sampler].label
    num_steps = int(kwargs["num_steps"])
    start = time.perf_counter()
    prior = mgps.load_prior(PRIOR, device=DEVICE)
    p = _problem(window, task, seed, prior.dtype)
    base = ecg_base(p.x_true.cpu().numpy(), p.observed)
    info = window_info(window)
    what = f"{label}, {num_steps} steps, {n} sample{'s' if n > 1 else ''}"
    yield EcgFrame(
        status.starting(what, f"({info})"),
        0,
        num_steps,
        figure=ecg_figure(base, title=f"window {window} · {what}: starting"),
        table=[],
    )
    stride = max(1, num_steps // DISPLAY_FRAMES)
    steps = SamplerRun(
        sampler,
        prior,
        p.problem,
        params=kwargs,
        num_samples=n,
        generator=torch.Generator().manual_seed(seed + 1),
    )
    remaining = status.Remaining(num_steps)
    for step in steps:
        done = step.index + 1
        show = step.index % stride == 0 and done < step.num_steps
        figure = None
        if show:
            figure = ecg_figure(
                base,
                step.x0_hat.detach().cpu().numpy(),
                title=f"window {window} · {label}: x̂0 at step {done}/{step.num_steps} (t = {step.t})",
                sample_label="x̂0",
                validate=False,
            )
        left = remaining.update(done, steps.seconds)
        yield EcgFrame(
            status.running(what, done, step.num_steps, steps.seconds, left) + f" · t = {step.t}",
            done,
            step.num_steps,
            figure=figure,
        )
    samples, seconds = steps.samples(), steps.seconds
    if not bool(torch.isfinite(samples).all()):
        raise mgps.SamplerDivergedError(f"{label} returned NaN or inf samples")
    metrics = _errors(samples, p.x_true, p.missing)
    zero_fill = _errors(p.operator.A_pinv(p.problem.y), p.x_true, p.missing)
    metrics.update(
        seconds=seconds,
        job_seconds=time.perf_counter() - start,
        sampler=sampler,
        task=task,
        window=window,
        num_steps=num_steps,
        num_samples=n,
        seed=seed,
        sigma_y=SIGMA_Y,
        params={k: v for k, v in kwargs.items()},
        zero_fill={k: zero_fill[k] for k in ("mae", "rmse", "mae12", "rmse12")},
    )
    title = (
        f"window {window} · {label}, {n} sample{'s' if n > 1 else ''} · MAE {metrics['mae']:.3f} "
        f"(zero-fill {zero_fill['mae']:.3f}) over the missing entries"
    )
    yield EcgFrame(
        f"{status.done(what, metrics['job_seconds'])} (sampling {status.duration(seconds)}) · "
        f"MAE over the missing entries {metrics['mae']:.3f}, 12-lead {metrics['mae12']:.3f}",
        num_steps,
        num_steps,
        figure=ecg_figure(base, samples.cpu().numpy(), title=title),
        table=_table(metrics, zero_fill, n, seconds),
        metrics=metrics,
        final=True,
    )


def ecg_duration(request: EcgRequest) -> int:
    """Seconds to ask ZeroGPU for (MGPS's steps are several network calls each)."""
    steps = int(request.num_steps or default_steps(request.sampler))
    per_step = 0.3 if request.sampler == "mgps" else 0.05
    return gpu_seconds(per_step, steps, samples=int(request.num_samples))
