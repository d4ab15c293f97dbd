"""Cost of MGPS against its Jacobian-free variant (mgps_jf) at equal steps: network calls
(forward and vector-Jacobian products counted apart), seconds, seconds per step, and peak
memory, on the digits DDPM or on a random-weight UNet with the 256² CelebA-HQ architecture.

Each sampler runs in a fresh subprocess so that its peak memory is its own: on a CUDA device
``torch.cuda.max_memory_allocated``, on a CPU the growth of the process's peak resident set
(``ru_maxrss``) over what it held once the prior was loaded. The sampler's own presets
(``mgps.presets``) for the task apply, as in the images commands.

    python scripts/mgps_jf_cost.py --prior digits --operator sr4 --steps 50 --n-samples 4
    python scripts/mgps_jf_cost.py --prior unet256 --operator box --steps 3 --n-samples 1 \
        --param warm_start=false --param num_gradient_steps_initial=2
    python scripts/mgps_jf_cost.py --prior digits --operator box \
        --samplers mgps mgps_jf:jacobian=gaussian,midpoint=0.9
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import torch

import mgps
from mgps.arguments import (
    add_device_argument,
    add_param_argument,
    add_steps_argument,
    parse_params,
    sampler_overrides,
    steps_by_sampler,
)
from mgps.devices import pick_device
from mgps.operators.base import measure
from mgps.presets import task_defaults


class Counting:
    """Wraps a prior; counts denoiser calls made with a graph (each followed by one VJP in
    these samplers) apart from plain forward calls."""

    def __init__(self, prior) -> None:
        self._prior = prior
        self.forward = 0
        self.vjp = 0

    def __getattr__(self, name):
        return getattr(self._prior, name)

    def x0_pred(self, x_t, t):
        if torch.is_grad_enabled() and x_t.requires_grad:
            self.vjp += 1
        else:
            self.forward += 1
        return self._prior.x0_pred(x_t, t)


def load(prior_name: str, device: torch.device):
    if prior_name == "unet256":
        sys.path.insert(0, "scripts")
        from timing_unet256 import build_prior

        prior, _ = build_prior(device, "random")
        return prior
    from mgps.priors.loading import load_prior

    return load_prior(prior_name, device=device)


def one(args) -> dict:
    """Run one sampler once; print its record as JSON."""
    torch.set_num_threads(args.threads)
    device = pick_device(args.device)
    prior = Counting(load(args.prior, device))
    g = torch.Generator().manual_seed(0)
    truth = (torch.rand(args.n_samples, *prior.shape, generator=g) * 2 - 1).to(device)
    op = mgps.OPERATORS[args.operator].obj(prior.shape)
    problem = measure(truth, op, mgps.DEFAULT_SIGMA_Y, torch.Generator().manual_seed(1))
    # a run: SAMPLER, or SAMPLER:NAME=VALUE,... for a variant with its own settings
    name, _, own = args.sampler.partition(":")
    named, others = steps_by_sampler(args.steps)
    steps = named.get(name, 50 if others is None else others)
    params = {**task_defaults(name, args.operator), "num_steps": steps}
    try:
        params.update(sampler_overrides(args.param, [name]).get(name, {}))
        params.update(parse_params(mgps.SAMPLERS[name], [p for p in own.split(",") if p]))
    except ValueError as exc:
        raise SystemExit(f"error: {exc}") from None
    x_init = torch.randn(args.n_samples, *prior.shape, generator=torch.Generator().manual_seed(2))
    if device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start, cpu_start = time.perf_counter(), time.process_time()
    mgps.sample(name, prior, problem, x_init=x_init, generator=g, **params)
    if device.type == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    cpu_seconds = time.process_time() - cpu_start
    if device.type == "cuda":
        peak = (torch.cuda.max_memory_allocated() - base) / 2**20
    else:
        peak = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base_rss) / 1024
    return {
        "sampler": args.sampler,
        "params": params,
        "forward_calls": prior.forward,
        "vjp_calls": prior.vjp,
        "seconds": seconds,
        "seconds_per_step": seconds / steps,
        "cpu_seconds": cpu_seconds,  # the process's: other jobs on a shared machine do not inflate it
        "peak_memory_mib": peak,
        "memory_kind": "cuda max_memory_allocated" if device.type == "cuda" else "ru_maxrss growth",
    }


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--prior", default="digits", help="a registered prior, or unet256 (random weights)"
    )
    p.add_argument("--operator", default="sr4")
    add_steps_argument(p, help="diffusion steps (default 50)")
    p.add_argument("--n-samples", type=int, default=4, help="images restored at once")
    p.add_argument(
        "--samplers",
        nargs="+",
        default=["mgps", "mgps_jf"],
        help="the runs: SAMPLER, or SAMPLER:NAME=VALUE,... for a variant with its own settings "
        "(e.g. mgps_jf:jacobian=gaussian,midpoint=0.9); the first is the reference",
    )
    add_param_argument(p, help="a sampler setting, e.g. warm_start=false")
    add_device_argument(p, default="cpu")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--sampler", help=argparse.SUPPRESS)  # one run (the subprocess)
    p.add_argument("--out", default=None, help="JSON file for the records")
    args = p.parse_args()
    if args.sampler:
        print(json.dumps(one(args)))
        return
    rows = []
    for name in args.samplers:
        cmd = [sys.executable, __file__, *sys.argv[1:], "--sampler", name]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        rows.append(json.loads(out.strip().splitlines()[-1]))
        print(json.dumps(rows[-1]), flush=True)
    ref = rows[0]
    for row in rows[1:]:
        print(
            f"{row['sampler']} / {ref['sampler']}: seconds {row['seconds'] / ref['seconds']:.2f}x, "
            f"CPU seconds {row['cpu_seconds'] / ref['cpu_seconds']:.2f}x, "
            f"peak memory {row['peak_memory_mib'] / max(ref['peak_memory_mib'], 1e-9):.2f}x"
        )
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"command": " ".join(sys.argv), "runs": rows}, f, indent=1)


if __name__ == "__main__":
    main()
