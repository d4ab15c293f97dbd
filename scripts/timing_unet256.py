"""Time MGPS-50 against DPS-1000 on a 256×256 UNet with the architecture of
``google/ddpm-ema-celebahq-256``: its weights when they are in the local Hugging Face cache,
otherwise random weights (the same compute; the output says which). Nothing is downloaded.

On a GPU it runs both samplers end to end (box inpainting, one sample) and records the seconds
and the peak GPU memory of each. On a CPU, where DPS-1000 would take about an hour, ``--mode
estimate`` (the default there) measures the cost of one network forward pass and of one
forward + vector-Jacobian product, counts how many of each the two samplers make (running them
on a free stand-in prior with the same interface), and multiplies. Writes
``results/timing_unet256/timing_unet256.json``.

    python scripts/timing_unet256.py [--mode full|estimate] [--device cuda] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import torch

import mgps
from mgps.arguments import add_device_argument
from mgps.devices import pick_device
from mgps.operators.base import measure
from mgps.priors.diffusers_pixel import DiffusersPixelPrior

CELEBAHQ_256 = {
    "sample_size": 256,
    "in_channels": 3,
    "out_channels": 3,
    "layers_per_block": 2,
    "block_out_channels": (128, 128, 256, 256, 512, 512),
    "down_block_types": (
        "DownBlock2D",
        "DownBlock2D",
        "DownBlock2D",
        "DownBlock2D",
        "AttnDownBlock2D",
        "DownBlock2D",
    ),
    "up_block_types": (
        "UpBlock2D",
        "AttnUpBlock2D",
        "UpBlock2D",
        "UpBlock2D",
        "UpBlock2D",
        "UpBlock2D",
    ),
}
RUNS = {
    "MGPS-50": ("mgps", {"num_steps": 50}),
    "DPS-1000": ("dps", {"num_steps": 1000, "step_size": 1.0}),
}


def build_prior(device: torch.device, weights: str) -> tuple[DiffusersPixelPrior, str]:
    """The 256² prior and what its weights are: the cached hub model (``weights="auto"`` or
    ``"hub"``) or a random UNet of its architecture (``"random"``, or ``"auto"`` when the model
    is not cached)."""
    from diffusers import DDPMScheduler, UNet2DModel

    if weights in ("auto", "hub"):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never a download: the cache or nothing
        from mgps.priors.loading import PriorUnavailableError, load_prior

        try:
            prior = load_prior("celebahq-256", device=device)
            return prior, "google/ddpm-ema-celebahq-256 from the local Hugging Face cache"
        except PriorUnavailableError as err:
            if weights == "hub":
                raise
            why = str(err).split(" is not in the local", 1)[0]
            print(f"note: {why} is not cached; timing a random UNet of its architecture")
    torch.manual_seed(0)
    unet = UNet2DModel(**CELEBAHQ_256)
    prior = DiffusersPixelPrior(
        unet, DDPMScheduler(num_train_timesteps=1000, beta_schedule="linear")
    ).to(device)
    return prior, "random weights (the google/ddpm-ema-celebahq-256 architecture)"


class CountingStandIn:
    """Same interface as the real prior, free to evaluate; counts forwards and VJP-forwards."""

    def __init__(self, prior) -> None:
        self.alphas_cumprod, self.shape, self.dtype, self.device = (
            prior.alphas_cumprod,
            prior.shape,
            torch.float32,
            torch.device("cpu"),
        )
        self.forward = 0
        self.with_vjp = 0

    def x0_pred(self, x_t, t):
        if torch.is_grad_enabled() and x_t.requires_grad:
            self.with_vjp += 1
        else:
            self.forward += 1
        return 0.5 * x_t


def unit_costs(prior, device, reps: int) -> tuple[float, float]:
    x = torch.randn(1, *prior.shape, device=device)

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize()

    with torch.no_grad():
        prior.x0_pred(x, 500)
        sync()
        start = time.perf_counter()
        for _ in range(reps):
            prior.x0_pred(x, 500)
        sync()
        forward = (time.perf_counter() - start) / reps
    xg = x.clone().requires_grad_(True)
    start = time.perf_counter()
    for _ in range(reps):
        out = prior.x0_pred(xg, 500)
        torch.autograd.grad(out.pow(2).sum(), xg)
    sync()
    return forward, (time.perf_counter() - start) / reps


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mode", choices=["full", "estimate"], default=None)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None)
    add_device_argument(parser)
    parser.add_argument(
        "--weights",
        choices=["auto", "hub", "random"],
        default="auto",
        help="the cached hub weights (hub), random ones (random), or the first that is there",
    )
    parser.add_argument("--out", default="results/timing_unet256/timing_unet256.json")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        device = pick_device(args.device)
    except ValueError as err:
        raise SystemExit(f"error: {err}") from None
    mode = args.mode or ("full" if device.type == "cuda" else "estimate")
    prior, weights = build_prior(device, args.weights)
    print(f"UNet 256²: {weights}, on {device}")
    params = sum(p.numel() for p in prior.unet.parameters())
    x_true = (
        torch.rand(1, *prior.shape, generator=torch.Generator().manual_seed(0), device="cpu").to(
            device
        )
        * 2
        - 1
    )
    op = mgps.OPERATORS["box"].obj(prior.shape)
    problem = measure(x_true, op, mgps.DEFAULT_SIGMA_Y, torch.Generator().manual_seed(1))
    report = {
        "model": "UNet2DModel with the google/ddpm-ema-celebahq-256 architecture",
        "weights": weights,
        "parameters": params,
        "device": torch.cuda.get_device_name(device)
        if device.type == "cuda"
        else (platform.processor() or platform.machine()),
        "torch_threads": torch.get_num_threads(),
        "mode": mode,
        "task": "box inpainting 256×256, one sample",
        "runs": {},
    }
    forward, with_vjp = unit_costs(prior, device, args.reps)
    report["seconds_per_forward"], report["seconds_per_forward_and_vjp"] = forward, with_vjp
    for label, (sampler, kwargs) in RUNS.items():
        stand_in = CountingStandIn(prior)
        mgps.sample(
            sampler, stand_in, problem, generator=torch.Generator().manual_seed(0), **kwargs
        )
        row = {
            "sampler": sampler,
            "params": kwargs,
            "forward_calls": stand_in.forward,
            "vjp_calls": stand_in.with_vjp,
        }
        row["estimated_seconds"] = stand_in.forward * forward + stand_in.with_vjp * with_vjp
        if mode == "full":
            if device.type == "cuda":
                torch.cuda.synchronize()
                torch.cuda.empty_cache()
                torch.cuda.reset_peak_memory_stats()
            start = time.perf_counter()
            mgps.sample(
                sampler,
                prior,
                problem,
                generator=torch.Generator(device="cpu").manual_seed(0),
                **kwargs,
            )
            if device.type == "cuda":
                torch.cuda.synchronize()
            row["measured_seconds"] = time.perf_counter() - start
            if device.type == "cuda":
                row["max_memory_mib"] = torch.cuda.max_memory_allocated() / 2**20
        report["runs"][label] = row
        print(json.dumps({label: row}))
    key = "measured_seconds" if mode == "full" else "estimated_seconds"
    report["ratio_dps1000_over_mgps50"] = (
        report["runs"]["DPS-1000"][key] / report["runs"]["MGPS-50"][key]
    )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1))
    print(json.dumps({k: v for k, v in report.items() if k != "runs"}, indent=1))


if __name__ == "__main__":
    main()
