"""What the status line of a sampling tab says, and how long a run will take.

Four states, the same words in every tab (and in Compare's table):

* ``MGPS: running, step 12/50 · 3.1 s · about 9 s left``
* ``MGPS: stopped at step 12/50``
* ``error: <the message>``
* ``MGPS: done in 21.3 s``

Time estimates come from runs measured in this process (:class:`RateBook`): before a run,
from earlier runs of the same sampler on the same prior; during a run, from its last steps.
No gradio import here.
"""

from __future__ import annotations

import re
import statistics
import threading
from collections import deque
from dataclasses import dataclass

__all__ = [
    "duration",
    "starting",
    "running",
    "stopped",
    "stopped_at",
    "failed",
    "done",
    "Remaining",
    "RateBook",
    "RATES",
]

_RUNNING = re.compile(r"^(?P<label>.*?): (?:running, )?step (?P<k>\d+)/(?P<n>\d+)")


def duration(seconds: float) -> str:
    """``4.2 s``, ``1 min 05 s``, ``12 min``."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(round(seconds)), 60)
    if minutes >= 10:
        return f"{minutes + (rest >= 30)} min"
    return f"{minutes} min {rest:02d} s"


def starting(label: str, note: str = "") -> str:
    return f"{label}: starting…" + (f" {note}" if note else "")


def running(label: str, step: int, num_steps: int, seconds: float, left: float | None) -> str:
    text = f"{label}: running, step {step}/{num_steps} · {duration(seconds)}"
    if left is not None and step < num_steps:
        text += f" · about {duration(left)} left"
    return text


def stopped_at(label: str, step: int, num_steps: int) -> str:
    if step <= 0:
        return f"{label}: stopped before the first step"
    return f"{label}: stopped at step {step}/{num_steps}"


def stopped(current: str) -> str:
    """The status after Stop, from the status shown when Stop was pressed: ``running, step k/K``
    becomes ``stopped at step k/K``; a run that had not started says so; a finished run, an
    error or an empty status are left as they are."""
    text = (current or "").strip()
    m = _RUNNING.match(text)
    if m:
        return f"{m['label']}: stopped at step {m['k']}/{m['n']}"
    if text.endswith("starting…") or ": starting… " in text:
        return text.split(": starting…")[0] + ": stopped before the first step"
    return current


def failed(message: str) -> str:
    return f"error: {message}"


def done(label: str, seconds: float) -> str:
    return f"{label}: done in {duration(seconds)}"


class Remaining:
    """Seconds left in a run, from the pace of its last ``window`` steps (a sampler's early
    steps can cost more than its later ones: MGPS fits longer while the noise is high)."""

    def __init__(self, num_steps: int, window: int = 10) -> None:
        self.num_steps = num_steps
        self._times: deque[tuple[int, float]] = deque(maxlen=window + 1)

    def update(self, step: int, seconds: float) -> float | None:
        """Record that ``step`` steps took ``seconds``; return the seconds left (None: unknown)."""
        self._times.append((step, seconds))
        if len(self._times) < 2:
            return None if step == 0 else seconds / step * (self.num_steps - step)
        (k0, s0), (k1, s1) = self._times[0], self._times[-1]
        if k1 <= k0:
            return None
        return (s1 - s0) / (k1 - k0) * (self.num_steps - k1)


@dataclass(frozen=True)
class _Rate:
    per_step: float  # median seconds of one step
    extra: float  # seconds above per_step × steps (the costlier first steps), at most ...
    recorded_steps: int  # ... for a run of this many steps
    num_samples: int


class RateBook:
    """How fast each sampler ran on each prior here: per-step seconds of finished runs, to
    estimate a run before it starts; and how the prior's network cost grows with the batch
    (measured when it is preloaded), to carry a rate to another number of samples.
    Thread-safe; one book per process (:data:`RATES`)."""

    def __init__(self) -> None:
        self._rates: dict[tuple[str, str], _Rate] = {}
        self._batch: dict[str, tuple[float, float, int]] = {}  # prior -> (cost(1), cost(n), n)
        self._lock = threading.Lock()

    def calibrate(self, prior: str, cost_one: float, cost_many: float, many: int) -> None:
        """Record the seconds of one network pass (forward and backward) on 1 and on ``many``
        samples; between and beyond, the cost is taken as linear in the samples."""
        if cost_one > 0 and cost_many > 0 and many > 1:
            with self._lock:
                self._batch[prior] = (cost_one, cost_many, many)

    def _cost(self, prior: str, n: int, linear_in_samples: bool) -> float:
        batch = self._batch.get(prior)
        if batch is None:  # not measured: linear on a CPU, flat on a GPU
            return float(n) if linear_in_samples else 1.0
        one, many, m = batch
        return one + (many - one) * (n - 1) / (m - 1)

    def record(self, prior: str, sampler: str, step_seconds: list[float], num_samples: int) -> None:
        """Record the seconds of each step of a run (at least 5 steps, or nothing is kept)."""
        if len(step_seconds) < 5:
            return
        per_step = statistics.median(step_seconds)
        extra = max(0.0, sum(step_seconds) - per_step * len(step_seconds))
        with self._lock:
            self._rates[(prior, sampler)] = _Rate(per_step, extra, len(step_seconds), num_samples)

    def estimate(
        self, prior: str, sampler: str, num_steps: int, num_samples: int, *, linear_in_samples: bool
    ) -> float | None:
        """Seconds a run of ``num_steps`` × ``num_samples`` should take, or None when this
        sampler has not run on this prior here yet. A recorded rate is carried to another
        number of samples by the network's measured batch cost (:meth:`calibrate`); without
        it, linearly on a CPU and flat on a GPU."""
        with self._lock:
            rate = self._rates.get((prior, sampler))
            if rate is None:
                return None
            scale = self._cost(prior, num_samples, linear_in_samples) / self._cost(
                prior, rate.num_samples, linear_in_samples
            )
        extra = rate.extra * min(1.0, num_steps / rate.recorded_steps)
        return (rate.per_step * num_steps + extra) * scale


RATES = RateBook()
