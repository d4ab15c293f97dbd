#!/usr/bin/env python
"""Draw unconditional samples from an exported 28x28 prior and save them as a PNG grid.

Usage::

    python scripts/sample_grid.py assets/priors/digits --n-samples 64 --out runs/digits_grid.png
    python scripts/sample_grid.py assets/priors/digits --sampler ddpm            # 1000 ancestral steps
    python scripts/sample_grid.py assets/priors/digits --sampler ddim --steps 100  # default

The folder must hold ``unet/`` and ``scheduler/`` as written by ``scripts/train_prior.py``.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np
import torch

from mgps.arguments import add_device_argument, add_steps_argument, steps_for
from mgps.devices import pick_device


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    p.add_argument("prior", type=Path, help="exported prior folder (with unet/ and scheduler/)")
    p.add_argument("--n-samples", type=int, default=64, help="number of samples")
    p.add_argument(
        "--out", type=Path, default=None, help="PNG path (default: runs/<prior>_samples.png)"
    )
    p.add_argument("--sampler", choices=["ddim", "ddpm"], default="ddim")
    add_steps_argument(p, help="DDIM steps (default 100; DDPM always uses all 1000)")
    p.add_argument("--eta", type=float, default=0.0, help="DDIM eta")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--scale", type=int, default=2, help="pixel upscaling of the grid")
    add_device_argument(p)
    args = p.parse_args(argv)
    try:
        args.steps = steps_for(args.steps, args.sampler, 100)
        device = pick_device(args.device)
    except ValueError as exc:
        p.error(str(exc))

    from diffusers import DDIMScheduler, DDPMScheduler, UNet2DModel
    from PIL import Image

    if device.type == "cpu":
        torch.set_num_threads(args.threads)

    unet = UNet2DModel.from_pretrained(args.prior, subfolder="unet").to(device).eval()
    ddpm = DDPMScheduler.from_pretrained(args.prior, subfolder="scheduler")
    if args.sampler == "ddim":
        sched = DDIMScheduler.from_config(ddpm.config)
        sched.set_timesteps(args.steps)
        kw = {"eta": args.eta}
    else:
        sched = ddpm
        sched.set_timesteps(ddpm.config.num_train_timesteps)
        kw = {}

    g = torch.Generator(device="cpu").manual_seed(args.seed)
    size = unet.config.sample_size
    x = torch.randn((args.n_samples, unet.config.in_channels, size, size), generator=g).to(device)
    t0 = time.perf_counter()
    with torch.no_grad():
        for t in sched.timesteps:
            eps = unet(x, t.to(device)).sample
            x = sched.step(eps, t, x, generator=g, **kw).prev_sample
    dt = time.perf_counter() - t0

    imgs = ((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).cpu().numpy()[:, 0]
    cols = int(math.ceil(math.sqrt(args.n_samples)))
    rows = int(math.ceil(args.n_samples / cols))
    pad = 2
    grid = np.full((rows * (size + pad) + pad, cols * (size + pad) + pad), 128, np.uint8)
    for i, im in enumerate(imgs):
        r, c = divmod(i, cols)
        grid[
            pad + r * (size + pad) : pad + r * (size + pad) + size,
            pad + c * (size + pad) : pad + c * (size + pad) + size,
        ] = im
    out = (
        args.out
        or Path(__file__).resolve().parents[1] / "runs" / f"{args.prior.resolve().name}_samples.png"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    img = Image.fromarray(grid, mode="L")
    if args.scale > 1:
        img = img.resize((img.width * args.scale, img.height * args.scale), Image.NEAREST)
    img.save(out)
    print(
        f"{args.n_samples} samples ({args.sampler}, {len(sched.timesteps)} steps) in {dt:.1f} s -> {out}"
    )


if __name__ == "__main__":
    main()
