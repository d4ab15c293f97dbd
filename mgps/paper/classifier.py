"""The small digit / clothing classifier the project trained (``assets/classifiers/<data>/``).

``scripts/prior_quality.py`` trains it on the training split and uses its confidence and
64-d features to measure the embedded priors (is a sample a clean image of some class:
``predicted_labels`` is not ``JUNK``); the digits benchmarks use it to ask whether a restored
image shows the right digit (``right_label``), a question PSNR of a single posterior sample
answers poorly when the observation leaves the digit ambiguous.
"""

from __future__ import annotations

import json

import torch
from torch import nn

from ..utils.assets import ASSETS_DIR

__all__ = [
    "CLASSIFIERS_DIR",
    "JUNK",
    "Classifier",
    "load_classifier",
    "predicted_labels",
    "digit_labels",
    "right_label",
]

CLASSIFIERS_DIR = ASSETS_DIR / "classifiers"
JUNK = (
    10  # the 11th class: noise, and images spoilt by noise or fog (not a clean image of any class)
)


class Classifier(nn.Module):
    """Two conv blocks and a 64-d feature layer: features(x) → logits over the 10 classes and
    an 11th "junk" class trained on noise images and on training images corrupted by Gaussian
    noise, impulse noise or fog (``scripts/prior_quality.py``)."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(32 * 7 * 7, 64),
            nn.ReLU(),
        )
        self.head = nn.Linear(64, 11)  # 10 classes + junk

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def load_classifier(data: str = "digits") -> tuple[Classifier, dict]:
    """The shipped classifier for ``data`` ("digits" or "fashion"), in eval mode, and its card."""
    from safetensors.torch import load_file

    folder = CLASSIFIERS_DIR / data
    if not (folder / "model.safetensors").is_file():
        raise FileNotFoundError(
            f"no classifier in {folder}; train it with `python scripts/prior_quality.py --data {data}`"
        )
    model = Classifier()
    model.load_state_dict(load_file(folder / "model.safetensors"))
    return model.eval(), json.loads((folder / "classifier.json").read_text())


@torch.no_grad()
def predicted_labels(model: Classifier, images: torch.Tensor) -> torch.Tensor:
    """The class (0–9, or ``JUNK``) the classifier gives each of ``(N, 1, 28, 28)`` images in [-1, 1]."""
    return model(images.clamp(-1, 1).float()).argmax(1)


@torch.no_grad()
def digit_labels(model: Classifier, images: torch.Tensor) -> torch.Tensor:
    """The most likely of the 10 real classes for each image, whether or not it is junk: which
    digit an image shows, also under noise (96.5 % right on test digits with noise of std 0.14)."""
    return model(images.clamp(-1, 1).float())[:, :JUNK].argmax(1)


def right_label(model: Classifier, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """1.0 where the image shows its true label (:func:`digit_labels`), else 0.0. Junk is not
    wrong by itself: a restored digit under noise counts, and noise is right only by chance."""
    return (digit_labels(model, images) == labels).float()
