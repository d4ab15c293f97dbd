"""What a sampler costs, and how many steps each sampler gets under one budget.

A run's cost is counted in network evaluations (one per batch): its forward calls, and among
them its vector-Jacobian products (VJPs: calls whose output a gradient flows back through).
A call with a VJP costs :func:`vjp_price` forward calls, *measured* on the prior's device (on
the 28×28 digits UNet on a CPU it is about 2). So

    cost = forward calls + (price − 1) × VJPs          (in forward calls)

The counts come from running the sampler itself on a stand-in prior with the same noise
schedule and shapes whose denoiser costs nothing (:func:`count_calls`): which calls a sampler
makes and which it differentiates depends on its schedule and settings, not on the network,
so no sampler states its cost a second time. :func:`steps_for_budget` finds the number of
steps whose cost is nearest a budget; :func:`plan` does it for several samplers.

    price = vjp_price(prior, key="digits")
    budget = count_calls("mgps", prior, problem, 50).units(price)
    steps, cost = steps_for_budget(budget, lambda k: count_calls("dps", prior, problem, k), price)
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from .pipeline import CountingPrior
from .presets import task_defaults
from .samplers.common import is_latent, run
from .types import InverseProblem, Prior

__all__ = [
    "Cost",
    "count_calls",
    "vjp_price",
    "measure_vjp_price",
    "steps_for_budget",
    "plan",
    "BUDGETS",
]

BUDGETS = ("cost", "steps", "defaults")  # equal cost, equal steps, each sampler's defaults


@dataclass(frozen=True)
class Cost:
    """The network evaluations of one run (each on the whole batch)."""

    forward_calls: int  # all network evaluations, those back-propagated included
    vjps: int  # evaluations whose output was back-propagated (a VJP through the network)

    def units(self, price: float) -> float:
        """The cost in forward calls when a call with a VJP costs ``price`` forward calls."""
        return self.forward_calls + (price - 1.0) * self.vjps


# ---------------------------------------------------------------------------- counting
class _StandIn:
    """A prior with the schedule and shapes of ``prior`` and a free denoiser: the exact one of a
    standard normal x_0, E[x_0 | x_t] = √ᾱ_t x_t (differentiable, finite, like a real one). A
    latent prior's decoder and encoder become cheap differentiable resizings."""

    def __init__(self, prior: Prior) -> None:
        self.alphas_cumprod = prior.alphas_cumprod.detach().cpu().double()
        self.shape = tuple(prior.shape)
        self.dtype = torch.float32
        self.device = torch.device("cpu")
        self._roots = self.alphas_cumprod.sqrt().float()
        if is_latent(prior):
            self.image_shape = tuple(prior.image_shape)
            self.decode = self._decode
            self.encode = self._encode

    def x0_pred(self, x_t: Tensor, t: int) -> Tensor:
        return x_t * self._roots[t]

    def _decode(self, z: Tensor) -> Tensor:
        channels, height, width = self.image_shape
        x = F.interpolate(z.mean(1, keepdim=True), size=(height, width), mode="nearest")
        return x.expand(-1, channels, -1, -1)

    def _encode(self, x: Tensor) -> Tensor:
        z = F.interpolate(x.mean(1, keepdim=True), size=self.shape[1:], mode="nearest")
        return z.expand(-1, self.shape[0], -1, -1)


_COUNTS: dict[tuple[Any, ...], Cost] = {}
_LOCK = threading.Lock()


def count_calls(
    sampler: str,
    prior: Prior,
    problem: InverseProblem,
    num_steps: int,
    params: dict[str, Any] | None = None,
    operator: str | None = None,
) -> Cost:
    """The forward calls and VJPs of ``sampler`` with ``num_steps`` steps on ``problem``, counted
    by running it on a stand-in prior (same schedule and shapes, a free denoiser; one sample).
    ``params`` are the sampler's settings; ``operator`` (a registry name) adds its per-task
    settings first, as the restore pipeline does. Cached per sampler, schedule, shapes,
    operator and settings.

    Raises:
        ValueError: the sampler cannot run this problem, or a bad setting.
    """
    settings = {**(task_defaults(sampler, operator) if operator else {}), **(params or {})}
    settings["num_steps"] = int(num_steps)
    op = problem.operator
    key = (
        sampler,
        int(prior.alphas_cumprod.numel()),
        float(prior.alphas_cumprod[-1]),
        tuple(prior.shape),
        tuple(getattr(prior, "image_shape", None) or ()),
        is_latent(prior),
        getattr(op, "name", type(op).__name__),
        tuple(problem.y.shape[1:]),
        tuple(sorted((k, repr(v)) for k, v in settings.items())),
    )
    with _LOCK:
        if key in _COUNTS:
            return _COUNTS[key]
    counting = CountingPrior(_StandIn(prior))  # type: ignore[arg-type]
    stand_in_problem = InverseProblem(op, problem.y.detach().cpu().float(), problem.sigma_y)
    for _ in run(
        sampler,
        counting,
        stand_in_problem,
        num_samples=1,
        generator=torch.Generator().manual_seed(0),
        **settings,
    ):
        pass
    cost = Cost(counting.network_calls, counting.vjps)
    with _LOCK:
        _COUNTS[key] = cost
    return cost


# ---------------------------------------------------------------------------- the VJP's price
_PRICES: dict[tuple[str, str, str, int], float] = {}


def measure_vjp_price(
    prior: Prior, num_samples: int = 1, repeats: int = 9, seconds: float = 3.0
) -> float:
    """Seconds of a network evaluation with a VJP (forward with autograd, then the gradient
    with respect to the input) over seconds of a plain forward call, on the prior's device and
    dtype, on a batch of ``num_samples`` at the middle of the schedule. After one warm-up of
    each, the two are timed back to back ``repeats`` times (fewer, but at least 3, once
    ``seconds`` have passed) and the median of the ratios is returned (a busy machine slows
    both of a pair alike). At least 1."""
    device = torch.device(getattr(prior, "device", "cpu"))
    dtype = getattr(prior, "dtype", torch.float32)
    t = (prior.alphas_cumprod.numel() - 1) // 2
    x = torch.randn(
        (num_samples, *tuple(prior.shape)),
        generator=torch.Generator().manual_seed(0),
        dtype=torch.float32,
    ).to(device=device, dtype=dtype)

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    def forward() -> float:
        sync()
        start = time.perf_counter()
        with torch.no_grad():
            prior.x0_pred(x, t)
        sync()
        return time.perf_counter() - start

    def with_vjp() -> float:
        sync()
        start = time.perf_counter()
        with torch.enable_grad():
            z = x.detach().requires_grad_(True)
            out = prior.x0_pred(z, t)
            torch.autograd.grad(out, z, torch.ones_like(out))
        sync()
        return time.perf_counter() - start

    forward(), with_vjp()  # warm-up: allocation, kernel selection
    ratios = []
    begin = time.perf_counter()
    for i in range(repeats):
        if i >= 3 and time.perf_counter() - begin > seconds:
            break
        first, second = (forward, with_vjp) if i % 2 == 0 else (with_vjp, forward)
        a, b = first(), second()
        plain, vjp = (a, b) if first is forward else (b, a)
        ratios.append(vjp / max(plain, 1e-9))
    return max(1.0, statistics.median(ratios))


def vjp_price(prior: Prior, key: str | None = None, num_samples: int = 1) -> float:
    """:func:`measure_vjp_price`, measured once per prior (``key``, e.g. its registry name;
    the object's identity otherwise), device, dtype and batch size, then remembered."""
    device = str(getattr(prior, "device", "cpu"))
    name = key if key is not None else f"id{id(prior)}"
    cache_key = (name, device, str(getattr(prior, "dtype", torch.float32)), int(num_samples))
    with _LOCK:
        if cache_key in _PRICES:
            return _PRICES[cache_key]
    price = measure_vjp_price(prior, num_samples)
    with _LOCK:
        _PRICES.setdefault(cache_key, price)
        return _PRICES[cache_key]


# ---------------------------------------------------------------------------- budgets
def steps_for_budget(
    budget: float,
    cost_at: Callable[[int], Cost],
    price: float,
    low: int = 2,
    high: int = 1000,
) -> tuple[int, Cost]:
    """The number of steps in [low, high] whose cost (in forward calls, a VJP at ``price``) is
    nearest ``budget``, and that cost. ``cost_at(k)`` is the cost of k steps, taken as
    non-decreasing in k. Searches by interpolation between the step counts that cost less and
    more than the budget (a handful of ``cost_at`` calls, each near the answer)."""
    if not budget > 0:
        raise ValueError(f"the budget must be positive, got {budget}")
    costs: dict[int, Cost] = {}

    def units(k: int) -> float:
        if k not in costs:
            costs[k] = cost_at(k)
        return costs[k].units(price)

    lo = low
    if units(lo) >= budget:
        return lo, costs[lo]
    hi = None  # the fewest steps known to cost more than the budget
    while hi is None or hi - lo > 1:
        if hi is None:  # proportional guess from the cheaper end, at least one step more
            guess = max(lo + 1, round(lo * budget / units(lo)))
            if guess >= high:
                if units(high) <= budget:
                    return high, costs[high]
                hi = high
                continue
        else:  # interpolate between the bracket's ends, strictly inside it
            c_lo, c_hi = units(lo), units(hi)
            guess = lo + round((budget - c_lo) / max(c_hi - c_lo, 1e-9) * (hi - lo))
            guess = min(max(guess, lo + 1), hi - 1)
        if units(guess) <= budget:
            lo = guess
        else:
            hi = guess
    best = min((lo, hi), key=lambda k: (abs(units(k) - budget), k))
    return best, costs[best]


def plan(
    samplers: Sequence[str],
    prior: Prior,
    problem: InverseProblem,
    operator: str,
    *,
    budget: str = "cost",
    num_steps: int = 50,
    default_steps: dict[str, int] | None = None,
    price: float = 2.0,
    high: int = 1000,
) -> tuple[dict[str, tuple[int, Cost]], float | None]:
    """The steps each sampler runs, with its counted cost, under a ``budget``:

    * ``"cost"``: the first sampler runs ``num_steps`` steps and its cost is the budget; each
      other gets the steps whose cost is nearest it (a VJP at ``price`` forward calls);
    * ``"steps"``: every sampler runs ``num_steps``;
    * ``"defaults"``: each runs ``default_steps[name]`` (``num_steps`` when absent).

    Returns ``({sampler: (steps, cost)}, the budget in forward calls or None)``.
    """
    if budget not in BUDGETS:
        raise ValueError(f"budget must be one of {', '.join(BUDGETS)}; got {budget!r}")
    if not samplers:
        raise ValueError("no sampler to plan for")

    def cost_of(name: str) -> Callable[[int], Cost]:
        return lambda k: count_calls(name, prior, problem, k, operator=operator)

    if budget == "steps":
        return {n: (num_steps, cost_of(n)(num_steps)) for n in samplers}, None
    if budget == "defaults":
        steps = {n: int((default_steps or {}).get(n, num_steps)) for n in samplers}
        return {n: (k, cost_of(n)(k)) for n, k in steps.items()}, None
    reference = cost_of(samplers[0])(num_steps)
    target = reference.units(price)
    out = {samplers[0]: (num_steps, reference)}
    for name in samplers[1:]:
        out[name] = steps_for_budget(target, cost_of(name), price, high=high)
    return out, target
