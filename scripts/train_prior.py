#!/usr/bin/env python
"""Train a small unconditional DDPM prior on 28x28 grayscale images (diffusers format).

The model is a diffusers ``UNet2DModel`` (1 -> 1 channels, 28 -> 14 -> 7 with two
downsamples, ``DownBlock2D``/``UpBlock2D`` blocks, a mid block with one self-attention
layer at 7x7) trained with epsilon prediction under a ``DDPMScheduler``
(T = 1000, linear betas 1e-4 -> 0.02). Data are scaled to [-1, 1].

Features
--------
* EMA of the weights (``--ema-decay``, warm-up ``min(decay, (1+s)/(10+s))``); the EMA
  weights are what gets exported.
* Resumable: the work directory holds ``checkpoint.pt`` (model, EMA, optimiser, step,
  RNG states, elapsed seconds, arguments), written atomically every ``--ckpt-every``
  steps, at every export, on SIGINT/SIGTERM and at the end. Re-running the same command
  with the same ``--workdir`` continues where it stopped (``--train-steps`` may be raised to
  train longer).
* Loss log ``loss.csv`` in the workdir: ``step,loss,ema_loss,seconds`` (loss = mean over
  the last ``--log-every`` steps, ema_loss = exponentially smoothed loss, seconds =
  cumulative training time over all runs).
* Every ``--export-every`` steps and at the end, the EMA weights are exported to
  ``--out`` as a diffusers ``DDPMPipeline`` folder: ``model_index.json``, ``unet/``
  (config.json + diffusion_pytorch_model.safetensors), ``scheduler/``
  (scheduler_config.json), plus ``training_log.csv`` (subsampled loss log) and
  ``training.json`` (data, architecture, parameter count, steps, batch, lr, seconds,
  device, held-out loss). The export is written to a temporary folder next to ``--out``
  and swapped in atomically.

Examples
--------
::

    # long CPU run, one thread, detached
    setsid nohup .venv/bin/python scripts/train_prior.py --data digits \\
        --out assets/priors/digits --workdir runs/digits \\
        --threads 1 --train-steps 60000 --export-every 2000 > runs/digits.log 2>&1 &

    # resume: run exactly the same command again (same --workdir)

    # speed check of candidate sizes (no training state is written)
    python scripts/train_prior.py --bench 10 --channels 16,32,32 --threads 1

Loading the result::

    from diffusers import UNet2DModel, DDPMScheduler
    unet = UNet2DModel.from_pretrained("assets/priors/digits", subfolder="unet")
    sched = DDPMScheduler.from_pretrained("assets/priors/digits", subfolder="scheduler")
"""

from __future__ import annotations

import argparse
import copy
import csv
import hashlib
import json
import math
import os
import platform
import random
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from mgps.arguments import add_device_argument
from mgps.utils.files import atomic_torch_save, swap_dirs

REPO = Path(__file__).resolve().parent.parent
DATASETS = {
    "digits": REPO / "assets" / "data" / "digits.npz",
    "fashion": REPO / "assets" / "data" / "fashion.npz",
}
CKPT_NAME = "checkpoint.pt"
LOG_NAME = "loss.csv"
LOG_HEADER = ["step", "loss", "ema_loss", "seconds"]
MAX_EXPORT_LOG_ROWS = 2000


def log(msg: str) -> None:
    print(f"[train_prior {time.strftime('%H:%M:%S')}] {msg}", flush=True)


# --------------------------------------------------------------------------- arguments
def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Train a small 28x28 DDPM prior (diffusers format).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument(
        "--data",
        default="digits",
        help="'digits', 'fashion', or a path to an npz with a 'train_images' uint8 (N,28,28) array",
    )
    p.add_argument("--out", type=Path, help="export folder, e.g. assets/priors/digits")
    p.add_argument("--workdir", type=Path, help="checkpoints + loss log, e.g. runs/digits")
    p.add_argument(
        "--train-steps",
        dest="steps",
        type=int,
        default=60000,
        help="total optimisation steps (over all resumes)",
    )
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=5e-4, help="peak learning rate (AdamW)")
    p.add_argument("--warmup", type=int, default=500, help="linear LR warm-up steps")
    p.add_argument(
        "--lr-decay",
        choices=["none", "cosine"],
        default="none",
        help="after warm-up: constant LR, or cosine decay to 10%% at --train-steps",
    )
    p.add_argument("--weight-decay", type=float, default=0.0)
    p.add_argument("--grad-clip", type=float, default=1.0)
    p.add_argument("--ema-decay", type=float, default=0.999)
    p.add_argument("--channels", default="32,64,64", help="block_out_channels, comma separated")
    p.add_argument("--layers-per-block", type=int, default=1)
    p.add_argument("--norm-groups", type=int, default=8)
    p.add_argument("--attention-head-dim", type=int, default=16)
    p.add_argument(
        "--no-mid-attention", action="store_true", help="drop the mid-block self-attention"
    )
    p.add_argument(
        "--hflip",
        action="store_true",
        help="random horizontal flips (fashion only; not for digits)",
    )
    p.add_argument("--threads", type=int, default=1, help="torch intra-op threads (CPU)")
    add_device_argument(p)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--log-every", type=int, default=50)
    p.add_argument("--ckpt-every", type=int, default=500)
    p.add_argument("--export-every", type=int, default=2000)
    p.add_argument(
        "--eval-size", type=int, default=512, help="held-out images for the test loss at export"
    )
    p.add_argument(
        "--init-from",
        type=Path,
        default=None,
        help="with no checkpoint in --workdir: start from an exported prior folder (its EMA "
        "weights for model and EMA, its step count and seconds from training.json; fresh "
        "optimiser). Lets a new machine continue a committed export.",
    )
    p.add_argument(
        "--bench",
        type=int,
        default=0,
        help="only time this many training steps (after 2 warm-up steps) and exit",
    )
    args = p.parse_args(argv)
    args.channels = tuple(int(c) for c in str(args.channels).split(",") if c.strip())
    if not args.bench and (args.out is None or args.workdir is None):
        p.error("--out and --workdir are required (unless --bench)")
    return args


# --------------------------------------------------------------------------- model / data
def build_unet(args):
    from diffusers import UNet2DModel

    n = len(args.channels)
    return UNet2DModel(
        sample_size=28,
        in_channels=1,
        out_channels=1,
        block_out_channels=args.channels,
        layers_per_block=args.layers_per_block,
        down_block_types=("DownBlock2D",) * n,
        up_block_types=("UpBlock2D",) * n,
        add_attention=not args.no_mid_attention,
        attention_head_dim=args.attention_head_dim,
        norm_num_groups=args.norm_groups,
    )


def build_scheduler():
    from diffusers import DDPMScheduler

    return DDPMScheduler(
        num_train_timesteps=1000,
        beta_start=1e-4,
        beta_end=0.02,
        beta_schedule="linear",
        prediction_type="epsilon",
        variance_type="fixed_small",
        clip_sample=True,
        clip_sample_range=1.0,
    )


def data_path(spec: str) -> Path:
    return DATASETS.get(spec, Path(spec))


def load_data(spec: str):
    path = data_path(spec)
    with np.load(path, allow_pickle=False) as d:
        train = d["train_images"]
        test = d["test_images"] if "test_images" in d.files else None
    assert train.dtype == np.uint8 and train.shape[1:] == (28, 28), (train.dtype, train.shape)

    def to_t(a):
        return torch.from_numpy(a.astype(np.float32) / 127.5 - 1.0).unsqueeze(1)

    return path, to_t(train), (to_t(test) if test is not None else None)


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# --------------------------------------------------------------------------- helpers
def lr_at(step: int, args) -> float:
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    if args.lr_decay == "cosine":
        frac = min(1.0, (step - args.warmup) / max(1, args.steps - args.warmup))
        return args.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))
    return args.lr


def schedule_segment(from_step: int, args: dict) -> dict:
    """The learning-rate settings in force from ``from_step`` on (a run resumed with new ones has several)."""
    return {
        "from_step": from_step,
        "lr": args["lr"],
        "warmup": args["warmup"],
        "lr_decay": args["lr_decay"],
        "target_steps": args["steps"],
    }


def same_schedule(a: dict, b: dict) -> bool:
    """Same LR curve: a constant LR does not depend on the target step count, a cosine one does."""

    def key(s):
        return (
            s["lr"],
            s["warmup"],
            s["lr_decay"],
            (s["target_steps"] if s["lr_decay"] == "cosine" else None),
        )

    return key(a) == key(b)


@torch.no_grad()
def ema_update(ema, model, step: int, decay: float) -> None:
    d = min(decay, (1 + step) / (10 + step))
    ema_p = [p for p in ema.parameters()]
    mod_p = [p.detach() for p in model.parameters()]
    torch._foreach_lerp_(ema_p, mod_p, 1.0 - d)
    for eb, mb in zip(ema.buffers(), model.buffers()):
        eb.copy_(mb)


def rng_state() -> dict:
    s = {
        "torch": torch.get_rng_state(),
        "numpy": np.random.get_state(),
        "python": random.getstate(),
    }
    if torch.cuda.is_available():
        s["cuda"] = torch.cuda.get_rng_state_all()
    return s


def set_rng_state(s: dict) -> None:
    torch.set_rng_state(s["torch"])
    np.random.set_state(s["numpy"])
    random.setstate(s["python"])
    if "cuda" in s and torch.cuda.is_available():
        try:
            torch.cuda.set_rng_state_all(s["cuda"])
        except Exception as e:  # different number of GPUs
            log(f"could not restore CUDA RNG state ({e}); continuing")


def read_log(path: Path) -> list[list[str]]:
    if not path.exists():
        return []
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return [r for r in rows[1:] if r and r[0] != "step"]


def count_params(m) -> int:
    return sum(p.numel() for p in m.parameters())


# --------------------------------------------------------------------------- export
@torch.no_grad()
def eval_loss(
    model, sched_ac: torch.Tensor, test: torch.Tensor | None, n: int, device
) -> float | None:
    """Held-out epsilon-MSE with fixed noise and fixed, evenly spread timesteps."""
    if test is None or n <= 0:
        return None
    g = torch.Generator().manual_seed(1234)
    x0 = test[:n]
    t = torch.linspace(0, 999, len(x0)).round().long()
    noise = torch.randn(x0.shape, generator=g)
    was_training = model.training
    model.eval()
    total = 0.0
    for i in range(0, len(x0), 256):
        xb, tb, nb = (
            x0[i : i + 256].to(device),
            t[i : i + 256].to(device),
            noise[i : i + 256].to(device),
        )
        ac = sched_ac.to(device)[tb].view(-1, 1, 1, 1)
        xt = ac.sqrt() * xb + (1 - ac).sqrt() * nb
        pred = model(xt, tb).sample
        total += F.mse_loss(pred, nb, reduction="sum").item()
    model.train(was_training)
    return total / x0.numel()


def export(args, ema, state: dict, data_file: Path, test, device, n_params: int) -> None:
    import diffusers
    from diffusers import DDPMPipeline, UNet2DModel

    out: Path = args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        unet = UNet2DModel.from_config(ema.config)
        unet.load_state_dict({k: v.detach().cpu() for k, v in ema.state_dict().items()})
        unet.eval()
        pipe = DDPMPipeline(unet=unet, scheduler=build_scheduler())
        pipe.save_pretrained(tmp, safe_serialization=True)

        test_loss = eval_loss(ema, pipe.scheduler.alphas_cumprod, test, args.eval_size, device)
        state.setdefault("eval", []).append({"step": state["step"], "ema_test_loss": test_loss})

        rows = read_log(args.workdir / LOG_NAME)
        if len(rows) > MAX_EXPORT_LOG_ROWS:
            k = math.ceil(len(rows) / MAX_EXPORT_LOG_ROWS)
            rows = rows[::k] + ([rows[-1]] if (len(rows) - 1) % k else [])
        with open(tmp / "training_log.csv", "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(LOG_HEADER)
            w.writerows(rows)

        info = {
            "description": "Unconditional DDPM prior on 28x28 grayscale images, EMA weights, "
            "trained by scripts/train_prior.py. Pixels in [-1, 1] (background -1).",
            "data": args.data,
            "data_file": str(data_file.relative_to(REPO))
            if data_file.is_relative_to(REPO)
            else str(data_file),
            "data_sha256": file_sha256(data_file),
            "n_train_images": state["n_train"],
            "architecture": {
                "class": "UNet2DModel",
                "block_out_channels": list(args.channels),
                "layers_per_block": args.layers_per_block,
                "down_block_types": list(unet.config.down_block_types),
                "up_block_types": list(unet.config.up_block_types),
                "mid_block_attention": not args.no_mid_attention,
                "attention_head_dim": args.attention_head_dim,
                "norm_num_groups": args.norm_groups,
            },
            "parameters": n_params,
            "prediction_type": "epsilon",
            "noise_schedule": "DDPM linear betas 1e-4 -> 0.02, T=1000",
            "steps": state["step"],
            "target_steps": args.steps,
            "complete": state["step"] >= args.steps,
            "batch_size": args.batch_size,
            "lr": args.lr,
            "lr_warmup": args.warmup,
            "lr_decay": args.lr_decay,
            "lr_schedule": state.get("lr_schedule", []),
            "weight_decay": args.weight_decay,
            "grad_clip": args.grad_clip,
            "ema_decay": args.ema_decay,
            "hflip": args.hflip,
            "seed": args.seed,
            "seconds": round(state["seconds"], 1),
            "device": state["device_desc"],
            "threads": args.threads if state["device"] == "cpu" else None,
            "last_loss": state.get("last_loss"),
            "last_ema_loss": state.get("ema_loss"),
            "ema_test_loss": test_loss,
            "eval_history": state["eval"],
            "torch": torch.__version__,
            "diffusers": diffusers.__version__,
            "exported_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        with open(tmp / "training.json", "w") as f:
            json.dump(info, f, indent=2)
            f.write("\n")
        for p in tmp.rglob("*"):
            os.chmod(p, 0o755 if p.is_dir() else 0o644)
        os.chmod(tmp, 0o755)
        swap_dirs(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    tl = f"{test_loss:.4f}" if test_loss is not None else "n/a"
    log(f"exported EMA weights at step {state['step']} -> {out} (held-out loss {tl})")


# --------------------------------------------------------------------------- main
def pick_device(choice: str) -> torch.device:
    if choice == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if choice == "cuda" and not torch.cuda.is_available():
        sys.exit("--device cuda requested but CUDA is not available")
    return torch.device(choice)


def use_device(device: torch.device, threads: int) -> str:
    """Set the CPU threads (on a CPU); the device in words, for the logs and training.json."""
    if device.type == "cpu":
        torch.set_num_threads(threads)
        try:
            torch.set_num_interop_threads(1)
        except RuntimeError:
            pass
    return (
        torch.cuda.get_device_name(device)
        if device.type == "cuda"
        else f"cpu ({platform.processor() or platform.machine()}, {threads} thread(s))"
    )


def seed_everything(seed: int) -> None:
    torch.manual_seed(seed)
    np.random.seed(seed)
    random.seed(seed)


def make_train_step(args, model, train: torch.Tensor, device) -> tuple[Callable[[int], float], Any]:
    """One optimisation step (AdamW, the LR of :func:`lr_at`) on a random batch of ``train``,
    and its optimiser (checkpointed with the model)."""
    sched = build_scheduler()
    alphas_cumprod = sched.alphas_cumprod.to(device)
    opt = torch.optim.AdamW(
        model.parameters(), lr=args.lr, weight_decay=args.weight_decay, betas=(0.9, 0.999)
    )

    def train_step(step: int) -> float:
        idx = torch.randint(0, len(train), (args.batch_size,), device=device)
        x0 = train[idx]
        if args.hflip:
            flip = torch.rand(len(x0), device=device) < 0.5
            x0 = torch.where(flip.view(-1, 1, 1, 1), x0.flip(-1), x0)
        t = torch.randint(0, 1000, (len(x0),), device=device)
        noise = torch.randn_like(x0)
        ac = alphas_cumprod[t].view(-1, 1, 1, 1)
        xt = ac.sqrt() * x0 + (1 - ac).sqrt() * noise
        pred = model(xt, t).sample
        loss = F.mse_loss(pred, noise)
        for g in opt.param_groups:
            g["lr"] = lr_at(step, args)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if args.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), args.grad_clip)
        opt.step()
        return loss.item()

    return train_step, opt


def bench(args, train_step, n_params: int, device, device_desc: str) -> None:
    """Time ``args.bench`` training steps (after 2 warm-up steps); print the speed as JSON."""
    log(
        f"bench: channels={args.channels} layers_per_block={args.layers_per_block} "
        f"params={n_params:,} batch={args.batch_size} device={device_desc}"
    )
    for s in range(2):
        train_step(s)
    if device.type == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    for s in range(args.bench):
        train_step(s + 2)
    if device.type == "cuda":
        torch.cuda.synchronize()
    dt = (time.perf_counter() - t0) / args.bench
    log(f"bench result: {dt:.3f} s/step = {1 / dt:.2f} steps/s = {3600 / dt:,.0f} steps/h")
    print(
        json.dumps(
            {
                "channels": list(args.channels),
                "layers_per_block": args.layers_per_block,
                "params": n_params,
                "batch": args.batch_size,
                "threads": args.threads,
                "device": device_desc,
                "s_per_step": round(dt, 4),
            }
        )
    )


def resume(args, ckpt_path: Path, log_path: Path, model, ema, opt, state: dict) -> None:
    """Continue from the checkpoint in the workdir (same architecture and data, or exit)."""
    ck = torch.load(ckpt_path, map_location="cpu", weights_only=False)
    saved = ck["args"]
    if (
        tuple(saved["channels"]) != args.channels
        or saved["layers_per_block"] != args.layers_per_block
        or saved["norm_groups"] != args.norm_groups
        or saved["no_mid_attention"] != args.no_mid_attention
        or saved["attention_head_dim"] != args.attention_head_dim
    ):
        sys.exit(
            f"{ckpt_path} was trained with a different architecture "
            f"({saved['channels']}, layers {saved['layers_per_block']}); use another --workdir"
        )
    if saved["data"] != args.data:
        sys.exit(f"{ckpt_path} was trained on --data {saved['data']}; use another --workdir")
    model.load_state_dict(ck["model"])
    ema.load_state_dict(ck["ema"])
    opt.load_state_dict(ck["optimizer"])
    set_rng_state(ck["rng"])
    state.update({k: ck["state"][k] for k in ("step", "seconds", "ema_loss", "last_loss", "eval")})
    # a checkpoint without a schedule history ran one schedule, its saved one, from step 0
    state["lr_schedule"] = list(ck["state"].get("lr_schedule") or [schedule_segment(0, saved)])
    state["window"] = list(ck["state"].get("window", []))
    log(
        f"resumed from {ckpt_path} at step {state['step']} ({state['seconds'] / 3600:.2f} h trained so far)"
    )
    # drop log rows written after the checkpoint (they will be redone)
    rows = [r for r in read_log(log_path) if int(r[0]) <= state["step"]]
    with open(log_path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(LOG_HEADER)
        w.writerows(rows)


def init_from_export(args, log_path: Path, model, ema, state: dict) -> None:
    """Start from an exported prior folder: its EMA weights, step count, seconds and logs."""
    from diffusers import UNet2DModel

    exported = UNet2DModel.from_pretrained(args.init_from, subfolder="unet")
    if tuple(exported.config.block_out_channels) != args.channels:
        sys.exit(
            f"{args.init_from} has channels {exported.config.block_out_channels}, not {args.channels}"
        )
    model.load_state_dict(exported.state_dict())
    ema.load_state_dict(exported.state_dict())
    info = json.loads((Path(args.init_from) / "training.json").read_text())
    state["step"] = int(info.get("steps", 0))
    state["seconds"] = float(info.get("seconds", 0.0))
    state["eval"] = list(info.get("eval_history", []))
    state["lr_schedule"] = list(info.get("lr_schedule", []))
    with open(log_path, "w", newline="") as f:
        csv.writer(f).writerow(LOG_HEADER)
        prior_log = Path(args.init_from) / "training_log.csv"
        if prior_log.exists():
            csv.writer(f).writerows(
                r for r in read_log(prior_log) if r and int(r[0]) <= state["step"]
            )
    log(f"initialised from the export {args.init_from} at step {state['step']} (fresh optimiser)")


def record_schedule(state: dict, args) -> None:
    """The LR settings of this run: the last segment extended, or a new one from here."""
    segment = schedule_segment(state["step"], vars(args))
    if state["lr_schedule"] and same_schedule(state["lr_schedule"][-1], segment):
        state["lr_schedule"][-1]["target_steps"] = args.steps
    else:
        state["lr_schedule"].append(segment)  # a resume with other LR settings starts a new segment


def save_checkpoint(ckpt_path: Path, args, model, ema, opt, state: dict) -> None:
    atomic_torch_save(
        {
            "model": model.state_dict(),
            "ema": ema.state_dict(),
            "optimizer": opt.state_dict(),
            "rng": rng_state(),
            "state": {
                k: state[k]
                for k in (
                    "step",
                    "seconds",
                    "ema_loss",
                    "last_loss",
                    "eval",
                    "window",
                    "lr_schedule",
                )
            },
            "args": {
                k: (list(v) if isinstance(v, tuple) else (str(v) if isinstance(v, Path) else v))
                for k, v in vars(args).items()
            },
            "unet_config": dict(model.config),
        },
        ckpt_path,
    )


def train_loop(
    args,
    state: dict,
    model,
    ema,
    train_step: Callable[[int], float],
    save_ckpt: Callable[[], None],
    export_now: Callable[[], None],
    log_path: Path,
) -> int | None:
    """Train up to ``args.steps``: log, checkpoint and export on their schedules. Returns the
    signal (SIGINT, SIGTERM) that stopped it early, or None."""
    stop = {"signal": None}

    def on_signal(signum, _frame):
        stop["signal"] = signum
        log(f"got signal {signum}; will checkpoint and stop after this step")

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    model.train()
    log_f = open(log_path, "a", newline="")
    log_w = csv.writer(log_f)
    window = state["window"]  # losses since the last log row (kept in the checkpoint)
    t_last = time.perf_counter()
    while state["step"] < args.steps and stop["signal"] is None:
        step = state["step"]
        loss = train_step(step)
        if not math.isfinite(loss):
            log(f"non-finite loss {loss} at step {step}; stopping without checkpointing")
            sys.exit(2)
        ema_update(ema, model, step, args.ema_decay)
        state["step"] = step = step + 1
        now = time.perf_counter()
        state["seconds"] += now - t_last
        t_last = now
        window.append(loss)
        state["last_loss"] = loss
        state["ema_loss"] = (
            loss if state["ema_loss"] is None else 0.99 * state["ema_loss"] + 0.01 * loss
        )

        if step % args.log_every == 0 or step == args.steps:
            mean = sum(window) / len(window)
            log_w.writerow(
                [step, f"{mean:.5f}", f"{state['ema_loss']:.5f}", f"{state['seconds']:.1f}"]
            )
            log_f.flush()
            log(
                f"step {step}/{args.steps} loss {mean:.4f} ema_loss {state['ema_loss']:.4f} "
                f"lr {lr_at(step - 1, args):.2e} {state['seconds'] / step:.3f} s/step"
            )
            window.clear()
        if step % args.export_every == 0 or step == args.steps:
            save_ckpt()
            export_now()
            save_ckpt()  # keep the eval history of this export
            t_last = time.perf_counter()  # export time is not training time
        elif step % args.ckpt_every == 0:
            save_ckpt()
            t_last = time.perf_counter()
    log_f.close()
    return stop["signal"]


def main(argv=None) -> None:
    args = parse_args(argv)
    device = pick_device(args.device)
    device_desc = use_device(device, args.threads)
    seed_everything(args.seed)

    data_file, train, test = load_data(args.data)
    train = train.to(device)
    model = build_unet(args).to(device)
    n_params = count_params(model)
    train_step, opt = make_train_step(args, model, train, device)
    if args.bench:
        bench(args, train_step, n_params, device, device_desc)
        return

    ema = copy.deepcopy(model).requires_grad_(False)
    ema.eval()

    workdir: Path = args.workdir
    workdir.mkdir(parents=True, exist_ok=True)
    for stale in (
        args.out.parent.glob(f".{args.out.name}.tmp-*") if args.out.parent.exists() else []
    ):
        shutil.rmtree(stale, ignore_errors=True)
    ckpt_path = workdir / CKPT_NAME
    log_path = workdir / LOG_NAME

    state = {
        "step": 0,
        "seconds": 0.0,
        "ema_loss": None,
        "last_loss": None,
        "eval": [],
        "window": [],
        "lr_schedule": [],
        "n_train": len(train),
        "device": device.type,
        "device_desc": device_desc,
    }
    if ckpt_path.exists():
        resume(args, ckpt_path, log_path, model, ema, opt, state)
    elif args.init_from is not None:
        init_from_export(args, log_path, model, ema, state)
    else:
        with open(log_path, "w", newline="") as f:
            csv.writer(f).writerow(LOG_HEADER)
        log("starting from scratch")
    record_schedule(state, args)
    log(
        f"data={args.data} ({len(train)} images from {data_file.name}) channels={args.channels} "
        f"layers_per_block={args.layers_per_block} params={n_params:,} batch={args.batch_size} "
        f"lr={args.lr} device={device_desc} target steps={args.steps}"
    )

    def save_ckpt() -> None:
        save_checkpoint(ckpt_path, args, model, ema, opt, state)

    def export_now() -> None:
        export(args, ema, state, data_file, test, device, n_params)

    stopped_by = train_loop(args, state, model, ema, train_step, save_ckpt, export_now, log_path)
    if stopped_by is not None:
        save_ckpt()
        log(f"stopped by signal at step {state['step']}; checkpoint saved to {ckpt_path}")
        sys.exit(128 + stopped_by)
    if state["step"] >= args.steps and not (args.out / "unet" / "config.json").exists():
        export_now()
    log(f"done: {state['step']} steps, {state['seconds'] / 3600:.2f} h; prior in {args.out}")


if __name__ == "__main__":
    main()
