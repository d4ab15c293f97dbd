"""The trade-off tab's words about one run: its summary and what each snapshot of its
animation draws. (The words about the charts against η are in :mod:`app.tradeoff_charts`,
beside the data they read.) No gradio import.
"""

from __future__ import annotations

from .tradeoff_runs import Snapshots, TradeoffRun

__all__ = ["run_summary", "frame_caption"]


def run_summary(run: TradeoffRun) -> str:
    """One run in a sentence: the sampler, the problem, its SW and the settings."""
    s = run.settings
    return (
        f"**{run.label}** on problem {run.seed}: sliced Wasserstein distance (SW) to the exact "
        f"posterior **{run.sw:.2f}** ({s.num_samples} samples, {s.num_steps} steps, "
        f"σ_y = {s.sigma_y:g}, modes {s.spacing:g} apart)."
    )


def frame_caption(snap: Snapshots, k: int) -> str:
    """What snapshot ``k`` draws, in words: the start, a step (with its midpoint), the end."""
    t = snap.times[k]
    if k == 0:
        return f"the start, t = {t}: x_T is pure noise; x̂0 = D_T(x_T), its denoised guess"
    if k == len(snap) - 1:
        return "the end, t = 0: the samples"
    ell = snap.midpoint_times[k]
    return f"t = {t}" + (f", midpoint ℓ = {ell}" if ell is not None else "")
