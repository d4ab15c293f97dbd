"""Which sampler is best on which measure, from the data: per-sampler means with 95 % Student-t
intervals (:func:`mgps.metrics.t_interval`), a winner named only where its interval separates
from every other's, and a data fit under the noise level flagged as over-fitting.

    ranking = rank("PSNR", "dB", {"MGPS": [18.1, 17.9, 18.4, 18.0], "DPS": [...]})
    ranking.winner        # "MGPS" when its interval does not overlap any other's, else None
    text = verdict([ranking, ...], fits={"DAPS": [0.59, ...]}, sigma_y=0.05, num_observed=392)

The intervals are unpaired: each sampler's over its own samples. (Compare's samplers start
from the same initial noise, so paired differences would be sharper; they are not used, which
keeps the verdict conservative: a named winner is one every test would name.)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import scipy.stats

from .metrics import t_interval

__all__ = ["Interval", "Ranking", "interval", "rank", "overfit_threshold", "overfits", "verdict"]


@dataclass(frozen=True)
class Interval:
    """A mean with its 95 % Student-t half-width (NaN for fewer than two finite values)."""

    mean: float
    half: float
    n: int

    @property
    def low(self) -> float:
        return self.mean - self.half

    @property
    def high(self) -> float:
        return self.mean + self.half

    def separated_from(self, other: Interval) -> bool:
        """Whether the two intervals do not overlap (False when either has no width)."""
        if not all(math.isfinite(v) for v in (self.half, other.half)):
            return False
        return self.low > other.high or other.low > self.high

    def text(self, digits: int = 2) -> str:
        if not math.isfinite(self.mean):
            return "–"
        if not math.isfinite(self.half):
            return f"{self.mean:.{digits}f}"
        return f"{self.mean:.{digits}f} ± {self.half:.{digits}f}"


def interval(values: Sequence[float]) -> Interval:
    """:class:`Interval` of the finite ``values``."""
    mean, half = t_interval(values)
    return Interval(mean, half, sum(1 for v in values if math.isfinite(v)))


@dataclass(frozen=True)
class Ranking:
    """One measure across samplers, best mean first."""

    measure: str
    unit: str
    higher_is_better: bool
    intervals: dict[str, Interval]  # best mean first
    digits: int = 2

    @property
    def order(self) -> list[str]:
        return list(self.intervals)

    @property
    def top_group(self) -> list[str]:
        """The best-mean sampler and those whose interval overlaps its interval: the samplers
        that cannot be told apart from the best."""
        order = [n for n in self.order if math.isfinite(self.intervals[n].mean)]
        if not order:
            return []
        best = self.intervals[order[0]]
        return [order[0]] + [n for n in order[1:] if not best.separated_from(self.intervals[n])]

    @property
    def winner(self) -> str | None:
        """The best-mean sampler if its interval separates from every other's, else None."""
        group = self.top_group
        finite = [n for n in self.order if math.isfinite(self.intervals[n].mean)]
        return group[0] if len(group) == 1 and len(finite) > 1 else None

    def sentence(self) -> str:
        """One line: the winner and who it beats, or who cannot be told apart."""
        unit = f" ({self.unit})" if self.unit else ""
        direction = "higher" if self.higher_is_better else "lower"
        head = f"**{self.measure}**{unit}, {direction} is better: "
        group = self.top_group
        if not group:
            return head + "no finite values."

        def show(names: list[str]) -> str:
            return _join([f"{n} {self.intervals[n].text(self.digits)}" for n in names])

        rest = [n for n in self.order if n not in group]
        if self.winner is not None:
            return (
                head + f"**{self.winner}** is best ({show([self.winner])}), ahead of {show(rest)}."
            )
        if len(self.order) == 1:
            return head + f"{show(group)} (one sampler)."
        text = head + f"{show(group)} cannot be told apart"
        if rest:
            text += f"; behind them: {show(rest)}"
        return text + "."


def rank(
    measure: str,
    unit: str,
    values: dict[str, Sequence[float]],
    *,
    higher_is_better: bool = True,
    digits: int = 2,
) -> Ranking:
    """Rank samplers on one measure by their mean (NaN last), with 95 % intervals."""
    intervals = {name: interval(v) for name, v in values.items()}
    sign = -1.0 if higher_is_better else 1.0

    def key(name: str) -> float:
        mean = intervals[name].mean
        return sign * mean if math.isfinite(mean) else math.inf

    ordered = {name: intervals[name] for name in sorted(intervals, key=key)}
    return Ranking(measure, unit, higher_is_better, ordered, digits)


def overfit_threshold(sigma_y: float, num_observed: int) -> float:
    """The data fit ‖y − A(x)‖ that the true image x beats only 2.5 % of the time: y − A(x) is
    the noise, σ_y·ε, whose norm is σ_y times a χ variable with ``num_observed`` degrees of
    freedom."""
    return float(sigma_y * scipy.stats.chi.ppf(0.025, num_observed))


def overfits(fits: Sequence[float], sigma_y: float, num_observed: int) -> bool:
    """Whether the mean data fit of the samples lies below :func:`overfit_threshold`: they
    fit the noise of y, not only the image."""
    mean = interval(fits).mean
    return math.isfinite(mean) and mean < overfit_threshold(sigma_y, num_observed)


def verdict(
    rankings: Sequence[Ranking],
    *,
    fits: dict[str, Sequence[float]] | None = None,
    sigma_y: float | None = None,
    num_observed: int | None = None,
    preface: str = "",
) -> str:
    """The verdict as Markdown lines: one per measure (:meth:`Ranking.sentence`), then the
    samplers whose data fit is under the noise level (over-fitting), then how it was decided."""
    lines = [preface] if preface else []
    lines += [r.sentence() for r in rankings]
    if fits and sigma_y is not None and num_observed:
        level = sigma_y * math.sqrt(num_observed)
        threshold = overfit_threshold(sigma_y, num_observed)
        over = [n for n, v in fits.items() if overfits(v, sigma_y, num_observed)]
        if over:
            shown = _join([f"{n} ({interval(fits[n]).text()})" for n in over])
            lines.append(
                f"⚠️ **Over-fitting**: {shown} fit{'s' if len(over) == 1 else ''} y closer than "
                f"the true image would: ‖y − A(x̂)‖ under {threshold:.2f} (the noise level "
                f"σ_y√m is {level:.2f}), so {'it fits' if len(over) == 1 else 'they fit'} "
                "the noise of y."
            )
        else:
            lines.append(
                f"Data fit: no sampler under the noise level ({level:.2f}; over-fitting "
                f"would be under {threshold:.2f})."
            )
    n = max((i.n for r in rankings for i in r.intervals.values()), default=0)
    lines.append(
        f"<small>Means ± 95 % Student-t half-widths over {n} samples per sampler; a sampler is "
        "named best only where its interval does not overlap any other's.</small>"
    )
    return "\n\n".join(lines)


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
