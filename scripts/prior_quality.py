"""Measure an embedded image prior and write its model card.

1. Trains (or loads) a small digit / clothing classifier on the *training* split
   (``assets/classifiers/<data>/``; a few CNN epochs, seconds to a minute on a CPU), with an
   11th "junk" class for noise images and for training images spoilt by noise or fog.
2. Draws unconditional samples from the prior (DDIM, ``--steps``).
3. Reports the classifier's mean confidence and class histogram on the samples, and a Fréchet
   distance in the classifier's 64-d feature space between samples and held-out test images;
   the same for held-out real images against training images (the floor), for corrupted test
   images, for pure noise and for the exact mixture prior (``digits-exact``) as references.
4. Writes ``quality.json``, ``samples.png`` and ``README.md`` (the model card) in the prior folder.

    python scripts/prior_quality.py --prior digits --data digits
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import scipy.linalg
import torch
from torch import nn

from mgps.arguments import add_steps_argument, steps_for
from mgps.paper.classifier import CLASSIFIERS_DIR, JUNK, Classifier, load_classifier
from mgps.utils.assets import ASSETS_DIR
from mgps.utils.cards import card_header


def to_tensor(images: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(images.astype(np.float32) / 127.5 - 1.0)[:, None]


def junk_images(n: int, g: torch.Generator) -> torch.Tensor:
    """Noise images in [-1, 1]: white Gaussian noise of random strength and offset, and smooth
    noise blobs (bilinear upsampling of 7×7 noise)."""
    strength = 0.2 + 1.3 * torch.rand(n, 1, 1, 1, generator=g)
    offset = torch.rand(n, 1, 1, 1, generator=g)
    white = (torch.randn(n, 1, 28, 28, generator=g) * strength - offset).clamp(-1, 1)
    coarse = torch.randn(n, 1, 7, 7, generator=g) * 1.5 - 0.5
    smooth = nn.functional.interpolate(coarse, size=28, mode="bilinear", align_corners=False)
    pick = torch.rand(n, 1, 1, 1, generator=g) < 0.5
    return torch.where(pick, white, smooth.clamp(-1, 1))


def corrupted_images(clean: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """Training images spoilt in three of the ways MNIST-C spoils digits (Mu & Gilmer 2019), one
    kind each: additive Gaussian noise (std 0.1–0.5 in [-1, 1] units), impulse noise (3–15 %
    of the pixels replaced by uniform values) or fog (a smooth bright haze). They go to the junk
    class, so that confidence means "a clean digit of some class", not merely "digit-shaped".
    """
    n = len(clean)
    kind = torch.randint(0, 3, (n, 1, 1, 1), generator=g)
    sigma = 0.1 + 0.4 * torch.rand(n, 1, 1, 1, generator=g)
    gaussian = clean + sigma * torch.randn(clean.shape, generator=g)
    share = 0.03 + 0.12 * torch.rand(n, 1, 1, 1, generator=g)
    hit = torch.rand(clean.shape, generator=g) < share
    impulse = torch.where(hit, 2 * torch.rand(clean.shape, generator=g) - 1, clean)
    coarse = 0.5 * torch.randn(n, 1, 7, 7, generator=g)
    haze = nn.functional.interpolate(
        coarse, size=clean.shape[-1], mode="bilinear", align_corners=False
    )
    fog = clean + haze.abs()
    return torch.where(kind == 0, gaussian, torch.where(kind == 1, impulse, fog)).clamp(-1, 1)


def mixture_without_isotropic_noise(n: int, g: torch.Generator) -> torch.Tensor:
    """Samples μ_c + U_c diag(√λ_c) z of the digits-exact mixture of PPCA, without its σ_c² I
    term: what the classifier makes of the mixture's strokes once its pixel noise is gone."""
    import mgps

    exact = mgps.load_prior("digits-exact")
    noise_free = mgps.GaussianMixturePrior.low_rank(
        exact.weights,
        exact.means,
        exact.basis,
        exact.extra_var,
        torch.zeros_like(exact.iso_var),
        event_shape=exact.event_shape,
    )
    return noise_free.sample(n, g).float()


def train_or_load(data: str, epochs: int) -> tuple[Classifier, dict]:
    from safetensors.torch import save_file

    folder = CLASSIFIERS_DIR / data
    if (folder / "model.safetensors").exists():
        return load_classifier(data)
    model = Classifier()
    arrays = np.load(ASSETS_DIR / "data" / f"{data}.npz")
    x, y = (
        to_tensor(arrays["train_images"]),
        torch.from_numpy(arrays["train_labels"].astype(np.int64)),
    )
    g = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    start = time.perf_counter()
    for _ in range(epochs):
        order = torch.randperm(len(x), generator=g)
        for k in range(0, len(x), 128):
            idx = order[k : k + 128]
            spoilt = corrupted_images(x[torch.randint(0, len(x), (len(idx) // 5,), generator=g)], g)
            junk = torch.cat([junk_images(len(idx) // 10 + 1, g), spoilt])
            inputs = torch.cat([x[idx], junk])
            targets = torch.cat([y[idx], torch.full((len(junk),), JUNK)])
            loss = nn.functional.cross_entropy(model(inputs), targets)
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()
    with torch.no_grad():
        xt, yt = (
            to_tensor(arrays["test_images"]),
            torch.from_numpy(arrays["test_labels"].astype(np.int64)),
        )
        accuracy = float((model(xt)[:, :10].argmax(1) == yt).float().mean())
        held_out = torch.Generator().manual_seed(99)
        noise = junk_images(1000, held_out)
        junk_rate = float((model(noise).argmax(1) == JUNK).float().mean())
        spoilt = corrupted_images(xt, held_out)
        spoilt_rate = float((model(spoilt).argmax(1) == JUNK).float().mean())
    info = {
        "data": data,
        "epochs": epochs,
        "test_accuracy": accuracy,
        "held_out_noise_recognised_as_junk": junk_rate,
        "held_out_corrupted_test_images_recognised_as_junk": spoilt_rate,
        "junk_class": "noise images and corrupted training images (Gaussian noise, impulse noise, fog)",
        "seconds": round(time.perf_counter() - start, 1),
        "architecture": "conv16-pool-conv32-pool-fc64-fc11 (10 classes + junk)",
    }
    folder.mkdir(parents=True, exist_ok=True)
    save_file(model.state_dict(), folder / "model.safetensors")
    (folder / "classifier.json").write_text(json.dumps(info, indent=1))
    write_classifier_card(folder, info)
    return model, info


@torch.no_grad()
def stats(model: Classifier, images: torch.Tensor) -> dict:
    feats, probs = [], []
    for k in range(0, len(images), 256):
        f = model.features(images[k : k + 256].clamp(-1, 1))
        feats.append(f)
        probs.append(torch.softmax(model.head(f), 1))
    f, p = torch.cat(feats).double().numpy(), torch.cat(probs)
    return {
        "features": f,
        # the probability of the most likely of the 10 real classes (junk counts against it)
        "confidence": float(p[:, :10].max(1).values.mean()),
        "histogram": np.bincount(p.argmax(1).numpy(), minlength=11).tolist(),
    }


def frechet(a: np.ndarray, b: np.ndarray) -> float:
    ma, mb = a.mean(0), b.mean(0)
    ca, cb = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    cross = scipy.linalg.sqrtm(ca @ cb)
    if np.iscomplexobj(cross):
        cross = cross.real
    return float(np.sum((ma - mb) ** 2) + np.trace(ca + cb - 2 * cross))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--prior", default="digits")
    parser.add_argument("--data", default="digits", choices=["digits", "fashion"])
    parser.add_argument("--n-samples", type=int, default=1000, help="number of prior samples")
    add_steps_argument(parser, help="DDIM steps (default 100)")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    try:
        args.steps = steps_for(args.steps, "ddim", 100)
    except ValueError as exc:
        parser.error(str(exc))
    torch.set_num_threads(1)

    import mgps
    from mgps.prior_sampling import prior_samples
    from mgps.utils.images import save_image

    classifier, info = train_or_load(args.data, args.epochs)
    arrays = np.load(ASSETS_DIR / "data" / f"{args.data}.npz")
    test, train = (
        to_tensor(arrays["test_images"]),
        to_tensor(arrays["train_images"][: len(arrays["test_images"])]),
    )
    prior = mgps.load_prior(args.prior)
    start = time.perf_counter()
    samples = torch.cat(
        [
            prior_samples(
                prior,
                min(200, args.n_samples - k),
                num_steps=args.steps,
                generator=torch.Generator().manual_seed(args.seed + k),
            )
            for k in range(0, args.n_samples, 200)
        ]
    )
    sample_seconds = time.perf_counter() - start
    real = stats(classifier, test)
    rows = {
        "prior samples": stats(classifier, samples),
        "real training images (floor: real against held-out)": stats(classifier, train),
        "held-out test images, corrupted": stats(
            classifier, corrupted_images(test, torch.Generator().manual_seed(3))
        ),
        "pure noise": stats(
            classifier,
            torch.randn(
                args.n_samples, 1, 28, 28, generator=torch.Generator().manual_seed(1)
            ).clamp(-1, 1),
        ),
    }
    if args.data == "digits":
        exact = mgps.load_prior("digits-exact")
        rows["digits-exact mixture samples"] = stats(
            classifier, exact.sample(args.n_samples, torch.Generator().manual_seed(2)).float()
        )
        rows["digits-exact samples without their isotropic noise"] = stats(
            classifier,
            mixture_without_isotropic_noise(args.n_samples, torch.Generator().manual_seed(2)),
        )
    quality = {
        "classifier": info,
        "num_samples": args.n_samples,
        "sampler": f"DDIM, {args.steps} steps (eta 0)",
        "sampling_seconds": round(sample_seconds, 1),
        "rows": {
            name: {
                "confidence": r["confidence"],
                "class_histogram": r["histogram"],
                "frechet_to_test": frechet(r["features"], real["features"]),
            }
            for name, r in rows.items()
        },
        "test_images_confidence": real["confidence"],
    }
    folder = (
        Path(prior.name) if Path(str(prior.name)).exists() else ASSETS_DIR / "priors" / args.prior
    )
    training = (
        json.loads((folder / "training.json").read_text())
        if (folder / "training.json").exists()
        else {}
    )
    quality["training_steps"] = training.get("step") or training.get("steps")
    (folder / "quality.json").write_text(json.dumps(quality, indent=1))
    save_image(samples[:64], folder / "samples.png", nrow=8)
    write_card(folder, args, quality, training)
    print(json.dumps(quality, indent=1))


def schedule_text(training: dict) -> str:
    """The learning-rate schedule of ``training.json`` in words, one clause per resumed segment."""
    segments = training.get("lr_schedule") or (
        [
            {
                "from_step": 0,
                "lr": training["lr"],
                "warmup": training.get("lr_warmup", 0),
                "lr_decay": training.get("lr_decay", "none"),
                "target_steps": training.get("target_steps"),
            }
        ]
        if "lr" in training
        else []
    )
    words = []
    for s in segments:
        shape = (
            f"cosine decay towards {0.1 * s['lr']:.0e} at step {s['target_steps']:,}"
            if s["lr_decay"] == "cosine"
            else "constant"
        )
        words.append(
            f"from step {s['from_step']:,}: peak {s['lr']:.0e}, warm-up {s['warmup']}, {shape}"
        )
    return "; ".join(words) or "n/a"


def prior_card_header(data: str) -> str:
    """The Hugging Face metadata of a DDPM prior's card (a diffusers folder)."""
    return card_header(
        data,
        pipeline_tag="unconditional-image-generation",
        library_name="diffusers",
        tags=("ddpm", "diffusion", "mgps"),
    )


def write_classifier_card(folder: Path, info: dict) -> None:
    """``README.md`` of a classifier folder: what it is, how it was trained, how well it does."""
    data = info["data"]
    uses = (
        " and by `scripts/digits_mgps_sweep.py` (does a restoration show the right digit)"
        if data == "digits"
        else ""
    )
    (folder / "README.md").write_text(
        card_header(data, pipeline_tag="image-classification", tags=("mgps", "evaluation"))
        + f"""# `{data}` classifier: scores the embedded priors and restorations

A small CNN ({info["architecture"]}; `mgps/paper/classifier.py`) trained by
`scripts/prior_quality.py` for {info["epochs"]} epochs on the training split of
`assets/data/{data}.npz` (see `assets/data/README.md` for source and licence), with an 11th
"junk" class for {info["junk_class"]}, so that its confidence means "a clean image of some class".
Weights: `model.safetensors`; numbers: `classifier.json`.

| test accuracy (10 classes) | held-out noise called junk | corrupted test images called junk |
|---|---|---|
| {info["test_accuracy"]:.3f} | {info["held_out_noise_recognised_as_junk"]:.3f} | {info["held_out_corrupted_test_images_recognised_as_junk"]:.3f} |

Used for the model cards of the priors (confidence and Fréchet distance in its 64-d feature
space){uses}.
"""
    )


def write_card(folder: Path, args, quality: dict, training: dict) -> None:
    rows = quality["rows"]
    table = "\n".join(
        f"| {name} | {r['confidence']:.3f} | {r['frechet_to_test']:.2f} | {r['class_histogram']} |"
        for name, r in rows.items()
    )
    loss = training.get("eval_history", [])
    mixture_note = (
        " The exact mixture's samples are its class-average strokes plus per-pixel noise (the"
        " PPCA's σ² I term); the last row drops that noise, to show which of the two the"
        " confidence and the FD respond to."
        if "digits-exact mixture samples" in rows
        else ""
    )
    card = (
        prior_card_header(args.data)
        + f"""# `{args.prior}`: a small DDPM trained by this project

* **Data**: `assets/data/{args.data}.npz`, training split only (see `assets/data/README.md` for source and licence); images 28×28, one channel, scaled to [-1, 1].
* **Model**: diffusers `UNet2DModel` (`unet/config.json`), ε-prediction, DDPM linear β 1e-4 → 0.02, T = 1000 (`scheduler/`). Details of the run (architecture, parameters, steps, batch, learning rate, seconds, device) are in `training.json`; the loss curve in `training_log.csv`.
* **Trained by** `scripts/train_prior.py` (resumable; on the project's 2-core CPU at about 1 s a step). Training steps so far: {quality.get("training_steps")} (`training.json` says whether the run is complete).
* **Learning rate** (AdamW): {schedule_text(training)}.
* **Held-out ε-MSE of the EMA weights** at each export: {", ".join(f"{h['step']}: {h['ema_test_loss']:.4f}" for h in loss) or "n/a"}.

## Quality (`scripts/prior_quality.py`, numbers in `quality.json`)

A small CNN classifier trained on the same training split, with an 11th "junk" class for noise images and for training images spoilt by Gaussian noise, impulse noise or fog, so that its confidence means "a clean image of some class" (test accuracy {quality["classifier"]["test_accuracy"]:.3f}; held-out noise recognised as junk: {quality["classifier"]["held_out_noise_recognised_as_junk"]:.3f}; corrupted test images: {quality["classifier"]["held_out_corrupted_test_images_recognised_as_junk"]:.3f}), labels {quality["num_samples"]} unconditional samples ({quality["sampler"]}, {quality["sampling_seconds"]} s). Fréchet distance in its 64-d feature space to the held-out test images (lower is better):

| images | mean classifier confidence | Fréchet distance to test images | class histogram (10 classes, then "junk") |
|---|---|---|---|
{table}

The classifier's confidence on the test images themselves is {quality["test_images_confidence"]:.3f}. The corrupted test images are spoilt the way the junk class was trained (another draw of the same corruptions), so they show what the classifier does with a recognisable but noisy image.{mixture_note}

![samples](samples.png)
"""
    )
    (folder / "README.md").write_text(card)


if __name__ == "__main__":
    main()
