"""Cost of MGPS against its Jacobian-free variant (mgps_jf) at equal steps: network calls
(forward and vector-Jacobian products counted apart), seconds, seconds per step, and peak
memory, on the digits DDPM or on a random-weight UNet with the 256² CelebA-HQ architecture.

Each sampler runs in a fresh subprocess so that its peak memory is its own: on a CUDA device
``torch.cuda.max_memory_allocated``, on a CPU the growth of the process's peak resident set
(``ru_maxrss``) over what it held once the prior was loaded. The sampler's own presets
(``mgps.presets``) for the task apply, as in the images commands.

    python scripts/mgps_jf_cost.py --prior digits --operator sr4 --steps 50 --samples 4
    python scripts/mgps_jf_cost.py --prior unet256 --operator box --steps 3 --samples 1 \
        --set warm_start=false num_gradient_steps_initial=2
    python scripts/mgps_jf_cost.py --prior digits --operator box \
        --samplers mgps mgps_jf:jacobian=forward_difference
"""

from __future__ import annotations

import argparse
import inspect
import json
import resource
import subprocess
import sys
import time

import torch

import mgps
from mgps.operators.base import measure
from mgps.presets import task_defaults
from mgps.registry import parse_value


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
    device = torch.device(args.device)
    prior = Counting(load(args.prior, device))
    g = torch.Generator().manual_seed(0)
    truth = (torch.rand(args.samples, *prior.shape, generator=g) * 2 - 1).to(device)
    op = mgps.OPERATORS[args.operator].obj(prior.shape)
    problem = measure(truth, op, 0.05, torch.Generator().manual_seed(1))
    name, _, own = args.sampler.partition(":")
    params = {**task_defaults(name, args.operator), "num_steps": args.steps}
    signature = inspect.signature(mgps.SAMPLERS[name].obj).parameters
    for pair in [*(args.set or []), *filter(None, own.split(","))]:
        key, _, text = pair.partition("=")
        if key not in signature:
            raise SystemExit(f"error: {name} has no setting {key!r}")
        params[key] = parse_value(text, type(signature[key].default))
    x_init = torch.randn(args.samples, *prior.shape, generator=torch.Generator().manual_seed(2))
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
        "seconds_per_step": seconds / args.steps,
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
    p.add_argument("--steps", type=int, default=50)
    p.add_argument("--samples", type=int, default=4)
    p.add_argument(
        "--samplers",
        nargs="+",
        default=["mgps", "mgps_jf"],
        help="samplers, each optionally with its own settings: mgps_jf:jacobian=forward_difference",
    )
    p.add_argument(
        "--set", nargs="*", help="KEY=VALUE settings for every sampler (e.g. warm_start=false)"
    )
    p.add_argument("--device", default="cpu")
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
