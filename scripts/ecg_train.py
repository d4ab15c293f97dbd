#!/usr/bin/env python
"""Train the ECG diffusion prior (``mgps.ecg``) on the synthetic 12-lead windows.

Model: :class:`mgps.ecg.model.UNet1d`, DDPM with linear β 1e-4 → 0.02, T = 1000 (docs/algorithms.md
§9), v-prediction by default (``--prediction epsilon`` for the paper's ε-prediction, which
diverged here: see :mod:`mgps.ecg.prior`). Data: the train records of ``assets/ecg/ecg_windows.npz``
(``scripts/ecg_make_data.py``); every batch takes random 2.56-s crops (256 samples) anywhere in
the continuous train records (the stored windows of a record are contiguous), so the model
sees every phase of the heart cycle. Loss: E‖target − f_θ(√ᾱ_j x_0 + √(1 − ᾱ_j) ε, j)‖², j
uniform in 0..T−1, target v = √ᾱ_j ε − √(1 − ᾱ_j) x_0 (or ε).

Features
--------
* AdamW, linear warm-up then cosine decay to 10 % of ``--lr`` at ``--train-steps``; gradient
  clipping at 1; EMA of the weights (decay ``min(--ema-decay, (1+s)/(10+s))``), which is what
  gets exported.
* Resumable: ``--workdir`` holds ``checkpoint.pt`` (model, EMA, optimiser, step, RNG states,
  elapsed seconds, arguments), written atomically every ``--ckpt-every`` steps, at every
  export, on SIGINT/SIGTERM and at the end. Running the same command again continues; a
  larger ``--train-steps`` trains longer.
* ``loss.csv`` in the workdir: ``step,loss,lr,seconds`` (loss averaged over ``--log-every``
  steps; seconds = cumulative training time over all runs).
* Every ``--export-every`` steps and at the end, the EMA model is exported to ``--out``
  (``assets/priors/ecg``): ``config.json`` + ``model.safetensors`` (loadable with
  ``mgps.ecg.load_ecg_prior``), ``quality.json`` (held-out loss and sample statistics, see
  :mod:`mgps.ecg.quality`), ``samples.png`` and a model card ``README.md``. The export is
  built in a temporary folder and swapped in atomically.
* ``--max-hours`` stops (and exports) after that much training time in this run. Training
  time is wall time per step, except that a step longer than 60 s (the process was suspended
  with SIGSTOP, e.g. to free the CPU for a benchmark) counts only its CPU time.

Examples
--------
::

    # the shipped model: one thread, detached
    OMP_NUM_THREADS=1 setsid nohup .venv/bin/python scripts/ecg_train.py --train-steps 12000 \\
        --workdir runs/ecg --max-hours 2 > runs/ecg.log 2>&1 &

    # speed check of the architecture (no state written)
    python scripts/ecg_train.py --bench 10

    # tiny end-to-end run
    python scripts/ecg_train.py --train-steps 30 --export-every 20 --workdir runs/ecg_tiny \\
        --out runs/ecg_tiny_out --channels 8,16,16 --eval-samples 4 --eval-steps 10
"""

from __future__ import annotations

import argparse
import copy
import csv
import json
import math
import os
import platform
import random
import signal
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from mgps.ecg.data import DATA_PATH, load_ecg_data, record_segments  # noqa: E402
from mgps.ecg.model import UNet1d, UNet1dConfig, count_parameters  # noqa: E402
from mgps.ecg.prior import ECG_PRIOR_DIR, EcgPrior, diffusion_alphas_cumprod  # noqa: E402
from mgps.ecg.quality import plot_windows_png, quality_report, unconditional_samples  # noqa: E402
from mgps.utils.cards import card_header  # noqa: E402
from mgps.utils.files import atomic_torch_save, swap_dirs  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
CKPT = "checkpoint.pt"
LOSS_LOG = "loss.csv"


def log(msg: str) -> None:
    print(f"[ecg_train {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", default=str(DATA_PATH))
    p.add_argument("--out", default=str(ECG_PRIOR_DIR), help="export folder")
    p.add_argument(
        "--workdir",
        default=str(REPO / "runs" / "ecg"),
        help="checkpoints and loss log (default runs/ecg)",
    )
    p.add_argument("--train-steps", dest="steps", type=int, default=12000)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--warmup", type=int, default=200)
    p.add_argument("--weight-decay", type=float, default=0.0)
    p.add_argument("--ema-decay", type=float, default=0.999)
    p.add_argument("--channels", default="32,64,96")
    p.add_argument("--num-res-blocks", type=int, default=1)
    p.add_argument("--stem-stride", type=int, default=2)
    p.add_argument("--no-attention", action="store_true")
    p.add_argument("--prediction", default="v_prediction", choices=["v_prediction", "epsilon"])
    p.add_argument("--groups", type=int, default=8)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--dropout", type=float, default=0.0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--log-every", type=int, default=50)
    p.add_argument("--ckpt-every", type=int, default=250)
    p.add_argument("--export-every", type=int, default=1000)
    p.add_argument("--eval-samples", type=int, default=32, help="unconditional samples per export")
    p.add_argument("--eval-steps", type=int, default=100, help="DDPM steps of those samples")
    p.add_argument("--max-hours", type=float, default=None, help="stop after this long (this run)")
    p.add_argument("--bench", type=int, default=0, help="time N steps and exit (no state written)")
    return p.parse_args(argv)


def model_config(args: argparse.Namespace, length: int) -> UNet1dConfig:
    return UNet1dConfig(
        in_channels=9,
        length=length,
        channels=tuple(int(c) for c in args.channels.split(",")),
        num_res_blocks=args.num_res_blocks,
        attention=not args.no_attention,
        heads=args.heads,
        groups=args.groups,
        kernel_size=3,
        dropout=args.dropout,
        stem_stride=args.stem_stride,
    )


def lr_at(step: int, args: argparse.Namespace) -> float:
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    progress = min(1.0, (step - args.warmup) / max(1, args.steps - args.warmup))
    return args.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


@torch.no_grad()
def ema_update(ema: torch.nn.Module, model: torch.nn.Module, step: int, decay: float) -> None:
    d = min(decay, (1 + step) / (10 + step))
    for pe, pm in zip(ema.parameters(), model.parameters()):
        pe.lerp_(pm.detach(), 1.0 - d)
    for be, bm in zip(ema.buffers(), model.buffers()):
        be.copy_(bm)


def rng_state() -> dict:
    return {
        "torch": torch.get_rng_state(),
        "numpy": np.random.get_state(),
        "python": random.getstate(),
    }


def set_rng_state(s: dict) -> None:
    torch.set_rng_state(s["torch"])
    np.random.set_state(s["numpy"])
    random.setstate(s["python"])


def read_loss_log(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with open(path, newline="") as f:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(f)]


class Crops:
    """Random 256-sample crops from the continuous train records."""

    def __init__(self, segments: list[np.ndarray], length: int) -> None:
        self.segments = [torch.from_numpy(s) for s in segments if s.shape[-1] >= length]
        if not self.segments:
            raise SystemExit("no train record is long enough for one window")
        self.length = length
        weights = torch.tensor(
            [s.shape[-1] - length + 1 for s in self.segments], dtype=torch.float64
        )
        self.weights = weights / weights.sum()

    def batch(self, n: int, g: torch.Generator) -> torch.Tensor:
        rec = torch.multinomial(self.weights, n, replacement=True, generator=g)
        out = torch.empty(n, self.segments[0].shape[0], self.length)
        for i, r in enumerate(rec.tolist()):
            seg = self.segments[r]
            s = int(torch.randint(seg.shape[-1] - self.length + 1, (1,), generator=g))
            out[i] = seg[:, s : s + self.length]
        return out


def diffusion_loss(
    net: torch.nn.Module,
    x0: torch.Tensor,
    acp: torch.Tensor,
    g: torch.Generator | None,
    t: torch.Tensor | None = None,
    eps: torch.Tensor | None = None,
    prediction: str = "v_prediction",
) -> torch.Tensor:
    """Mean squared error of the network's ε or v prediction at random (or given) times."""
    n = x0.shape[0]
    if t is None:
        t = torch.randint(0, acp.numel(), (n,), generator=g)
    if eps is None:
        eps = torch.randn(x0.shape, generator=g)
    a = acp[t].float()[:, None, None]
    x_t = a.sqrt() * x0 + (1 - a).sqrt() * eps
    target = eps if prediction == "epsilon" else a.sqrt() * eps - (1 - a).sqrt() * x0
    return (net(x_t, t) - target).pow(2).mean()


@torch.no_grad()
def held_out_loss(
    net: torch.nn.Module, test: torch.Tensor, acp: torch.Tensor, prediction: str, n: int = 256
) -> float:
    """Loss on fixed test windows, timesteps and noise (comparable across exports)."""
    g = torch.Generator().manual_seed(1234)
    x0 = test[:n]
    t = torch.randint(0, acp.numel(), (len(x0),), generator=g)
    eps = torch.randn(x0.shape, generator=g)
    return float(diffusion_loss(net, x0, acp, None, t, eps, prediction))


def model_card(info: dict, quality: dict, loss_rows: list[dict]) -> str:
    s, r = quality["samples"], quality["reference"]
    tr = info["training"]
    curve = []
    if loss_rows:
        picks = sorted({0, *np.linspace(0, len(loss_rows) - 1, 9).astype(int).tolist()})
        curve = [
            f"| {int(loss_rows[i]['step'])} | {loss_rows[i]['loss']:.4f} | {loss_rows[i]['seconds'] / 60:.1f} |"
            for i in picks
        ]
    lead_std = ", ".join(f"{a:.2f}/{b:.2f}" for a, b in zip(s["lead_std"], r["lead_std"]))
    lines = [
        '# ECG diffusion prior (`PRIORS["ecg"]`) — model card',
        "",
        "A small unconditional DDPM on 9-lead ECG windows (I, II, III, V1–V6; 2.56 s at 100 Hz, shape 9×256),",
        "the offline stand-in for the paper's SSSD-SA prior on PTB-XL (Appendix D.5; `docs/algorithms.md` §9). Load it with",
        '`mgps.load_prior("ecg")` (after `import mgps.ecg`) or `mgps.ecg.load_ecg_prior()`.',
        "",
        "## Data",
        "",
        f"Synthetic ECGs from neurokit2's multi-lead ECGSYN simulator (`assets/ecg/`, see its README): "
        f"{info['data']['train_windows']} train windows from {info['data']['train_records']} records "
        f"(random 2.56-s crops of the continuous records during training); {info['data']['test_windows']} test "
        f"windows from {info['data']['test_records']} other records. **Not PTB-XL**: realism is low to moderate. "
        'Units are neurokit\'s (about 1.6 peak-to-peak per lead, "mV-like"); no standardisation, lead III = II − I.',
        "",
        "## Model",
        "",
        f"- 1-D UNet (`mgps/ecg/model.py`): channels {list(info['model']['channels'])}, "
        f"{info['model']['num_res_blocks']} residual block(s) per level (GroupNorm, SiLU, time scale/shift), "
        f"stem stride {info['model']['stem_stride']}, self-attention at the lowest resolution: {info['model']['attention']}; "
        f"**{tr['parameters']:,} parameters**.",
        f"- {info['diffusion']['prediction_type']} parameterisation (ε̂ and x̂0 follow exactly; see `mgps/ecg/prior.py` for why not ε); "
        "DDPM linear β 1e-4 → 0.02, T = 1000; padded time t calls the network at t − 1.",
        f"- AdamW lr {tr['lr']} (warm-up {tr['warmup']}, cosine to 10 %), batch {tr['batch_size']}, EMA {tr['ema_decay']}, "
        f"grad-clip 1; **{tr['step']} steps** in {tr['seconds'] / 3600:.2f} h on {tr['device']} "
        f"({tr['threads']} thread(s), {tr['seconds_per_step']:.2f} s/step wall on a shared machine).",
        f"- Held-out loss (EMA weights, fixed test batch/noise): **{tr['held_out_loss']:.4f}**.",
        "",
        "Loss curve (training loss averaged over the logging interval):",
        "",
        "| step | loss | minutes |",
        "|---|---|---|",
        *curve,
        "",
        "## Sample quality",
        "",
        f"{s['n']} unconditional samples ({info['quality_sampler']}) against {r['n']} test windows "
        "(statistics defined in `mgps/ecg/quality.py`):",
        "",
        "| statistic | samples | test windows |",
        "|---|---|---|",
        f"| Einthoven MAE, mean abs(III − (II − I)) | {s['einthoven_mae']:.4f} | {r['einthoven_mae']:.4f} |",
        f"| heart rate, bpm (mean ± std) | {s['heart_rate_mean']:.1f} ± {s['heart_rate_std']:.1f} | {r['heart_rate_mean']:.1f} ± {r['heart_rate_std']:.1f} |",
        f"| windows with a detected heart rate | {s['heart_rate_found']:.0%} | {r['heart_rate_found']:.0%} |",
        f"| mean peak-to-peak amplitude | {s['peak_to_peak']:.3f} | {r['peak_to_peak']:.3f} |",
        f"| nearest-train-window RMS distance | {quality.get('nn_rms_samples_to_train', float('nan')):.3f} | {quality.get('nn_rms_reference_to_train', float('nan')):.3f} |",
        "",
        f"Mean log-spectral distance (0.4–50 Hz, mean abs(log10 P_samples − log10 P_test)): **{quality['log_spectral_distance']:.3f}** decades.",
        f"Per-lead std, samples/test ({', '.join(quality['leads'])}): {lead_std}.",
        "",
        "![samples](samples.png)",
        "",
        "`samples.png`: the first three columns are test windows (blue), the last three unconditional samples (red), same scale.",
        "",
        "## Files and licence",
        "",
        "`config.json` (architecture, schedule, this summary), `model.safetensors` (EMA weights, float32),",
        "`quality.json`, `samples.png`. Weights trained by this project (`scripts/ecg_train.py`) on data",
        "generated with neurokit2 (MIT). Intended for demos and tests of the samplers, not for clinical use.",
        "",
    ]
    header = card_header(
        "ecg", pipeline_tag="time-series-forecasting", tags=("ecg", "ddpm", "mgps")
    )
    return header + "\n".join(lines)


def export(
    args,
    ema: torch.nn.Module,
    state: dict,
    data_info: dict,
    test: torch.Tensor,
    train_np: np.ndarray,
    acp: torch.Tensor,
    n_params: int,
) -> None:
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.export-", dir=out.parent))
    tmp.chmod(0o755)
    step = state["step"]
    net = copy.deepcopy(ema).eval()
    held = held_out_loss(net, test, acp, args.prediction)
    seconds = state["seconds"]
    info = {
        "data": data_info,
        "training": {
            "step": step,
            "seconds": round(seconds, 1),
            "seconds_per_step": seconds / max(step, 1),
            "parameters": n_params,
            "batch_size": args.batch_size,
            "lr": args.lr,
            "warmup": args.warmup,
            "ema_decay": args.ema_decay,
            "held_out_loss": held,
            "threads": torch.get_num_threads(),
            "device": platform.processor() or platform.machine(),
            "script": "scripts/ecg_train.py",
        },
        "quality_sampler": f"DDPM ancestral, {args.eval_steps} steps",
    }
    prior = EcgPrior(net, {"prediction_type": args.prediction}, name="ecg", info=info)
    prior.save(tmp)
    g = torch.Generator().manual_seed(0)
    samples = unconditional_samples(prior, args.eval_samples, args.eval_steps, g).numpy()
    reference = test.numpy()
    quality = quality_report(samples, reference, train_np)
    quality["step"] = step
    (tmp / "quality.json").write_text(json.dumps(quality, indent=1))
    cols = [(f"test {k}", reference[k * 7 % len(reference)]) for k in range(3)]
    cols += [(f"sample {k}", samples[k]) for k in range(min(3, len(samples)))]
    plot_windows_png(tmp / "samples.png", cols)
    (tmp / "README.md").write_text(
        model_card(
            {**info, "model": prior.net.config.to_dict(), "diffusion": prior.diffusion},
            quality,
            read_loss_log(Path(args.workdir) / LOSS_LOG),
        )
    )
    swap_dirs(tmp, out)
    s = quality["samples"]
    log(
        f"exported step {step} to {out}: held-out loss {held:.4f}, Einthoven MAE {s['einthoven_mae']:.4f}, "
        f"HR {s['heart_rate_mean']:.1f}±{s['heart_rate_std']:.1f} (test {quality['reference']['heart_rate_mean']:.1f}±"
        f"{quality['reference']['heart_rate_std']:.1f}), log-spectral distance {quality['log_spectral_distance']:.3f}"
    )


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    data = load_ecg_data(args.data)
    length = data.windows.shape[-1]
    train_np = data.split("train")
    test = torch.from_numpy(data.split("test"))
    crops = Crops(record_segments(data, "train"), length)
    data_info = {
        "file": os.path.relpath(Path(args.data).resolve(), REPO)
        if Path(args.data).resolve().is_relative_to(REPO)
        else str(args.data),
        "train_windows": int(len(train_np)),
        "test_windows": int(len(test)),
        "train_records": int(len(np.unique(data.record[~data.is_test]))),
        "test_records": int(len(np.unique(data.record[data.is_test]))),
        "sampling_rate": data.sampling_rate,
        "generator": str(data.meta.get("generator", "")),
    }
    acp = diffusion_alphas_cumprod().float()
    cfg = model_config(args, length)
    torch.manual_seed(args.seed)
    model = UNet1d(cfg)
    n_params = count_parameters(model)

    if args.bench:
        opt = torch.optim.AdamW(model.parameters(), lr=args.lr)
        g = torch.Generator().manual_seed(0)
        walls, cpus = [], []
        for _ in range(args.bench + 1):
            w, c = time.perf_counter(), time.process_time()
            loss = diffusion_loss(
                model, crops.batch(args.batch_size, g), acp, g, prediction=args.prediction
            )
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            walls.append(time.perf_counter() - w)
            cpus.append(time.process_time() - c)
        print(
            f"{n_params:,} parameters; batch {args.batch_size}: median {np.median(walls[1:]):.3f} s wall, "
            f"{np.median(cpus[1:]):.3f} s CPU per step ({torch.get_num_threads()} thread)"
        )
        return

    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    ema = copy.deepcopy(model).requires_grad_(False)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    g = torch.Generator().manual_seed(args.seed + 1)
    state = {"step": 0, "seconds": 0.0}
    ckpt_path = work / CKPT
    if ckpt_path.exists():
        ck = torch.load(ckpt_path, map_location="cpu", weights_only=False)
        if ck["model_config"] != cfg.to_dict() or ck["args"].get("prediction") != args.prediction:
            raise SystemExit(
                f"{ckpt_path} was trained with {ck['model_config']}, not {cfg.to_dict()}; "
                "use another --workdir or the same architecture flags"
            )
        model.load_state_dict(ck["model"])
        ema.load_state_dict(ck["ema"])
        opt.load_state_dict(ck["opt"])
        g.set_state(ck["generator"])
        set_rng_state(ck["rng"])
        state = {"step": ck["step"], "seconds": ck["seconds"]}
        log(
            f"resumed from {ckpt_path} at step {state['step']} ({state['seconds'] / 60:.1f} min trained)"
        )
    else:
        log(
            f"new run in {work}: {n_params:,} parameters, {len(train_np)} train windows, {cfg.to_dict()}"
        )

    def save_ckpt() -> None:
        atomic_torch_save(
            {
                "model": model.state_dict(),
                "ema": ema.state_dict(),
                "opt": opt.state_dict(),
                "generator": g.get_state(),
                "rng": rng_state(),
                "step": state["step"],
                "seconds": state["seconds"],
                "model_config": cfg.to_dict(),
                "args": vars(args),
            },
            ckpt_path,
        )

    stop = {"flag": False}

    def on_signal(signum, _frame):
        log(f"signal {signum}: stopping after this step")
        stop["flag"] = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    loss_path = work / LOSS_LOG
    if not loss_path.exists():
        loss_path.write_text("step,loss,lr,seconds\n")
    else:  # drop rows logged after the checkpoint we resumed from
        rows = [r for r in read_loss_log(loss_path) if r["step"] <= state["step"]]
        loss_path.write_text(
            "step,loss,lr,seconds\n"
            + "".join(
                f"{int(r['step'])},{r['loss']:.6f},{r['lr']:.6g},{r['seconds']:.1f}\n" for r in rows
            )
        )
    window: list[float] = []
    model.train()
    last_export = None
    run_seconds0 = state["seconds"]
    while state["step"] < args.steps and not stop["flag"]:
        t0, c0 = time.perf_counter(), time.process_time()
        step = state["step"]
        lr = lr_at(step, args)
        for group in opt.param_groups:
            group["lr"] = lr
        loss = diffusion_loss(
            model, crops.batch(args.batch_size, g), acp, g, prediction=args.prediction
        )
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        ema_update(ema, model, step, args.ema_decay)
        loss_value = float(loss.detach())
        if not math.isfinite(loss_value):
            raise SystemExit(f"loss became {loss_value} at step {step}; lower --lr")
        window.append(loss_value)
        state["step"] = step + 1
        dt = time.perf_counter() - t0
        if dt > 60.0:  # the process was suspended (SIGSTOP) during this step: count its CPU time
            dt = time.process_time() - c0
        state["seconds"] += dt
        if state["step"] % args.log_every == 0:
            with open(loss_path, "a") as f:
                f.write(f"{state['step']},{np.mean(window):.6f},{lr:.6g},{state['seconds']:.1f}\n")
            log(
                f"step {state['step']}/{args.steps} loss {np.mean(window):.4f} lr {lr:.2e} "
                f"({state['seconds'] / state['step']:.2f} s/step)"
            )
            window = []
        if args.max_hours is not None and state["seconds"] - run_seconds0 > args.max_hours * 3600:
            log(f"--max-hours {args.max_hours} reached")
            stop["flag"] = True
        if state["step"] % args.ckpt_every == 0:
            save_ckpt()
        if state["step"] % args.export_every == 0:
            save_ckpt()
            export(args, ema, state, data_info, test, train_np, acp, n_params)
            last_export = state["step"]
    save_ckpt()
    if last_export != state["step"] and state["step"] > 0:
        export(args, ema, state, data_info, test, train_np, acp, n_params)
    log(f"done at step {state['step']} ({state['seconds'] / 60:.1f} min of training)")


if __name__ == "__main__":
    main()
