"""The priors mgps knows by name: the embedded ones trained by this project (folders under
``assets/priors/``, offline) and a few hub models, each a :class:`PriorSource` registered in
``mgps.PRIORS`` when :mod:`mgps.priors` is imported.

Adding a known prior is one entry in :data:`_HUB_PRIORS` or :data:`_EMBEDDED_PRIORS`; how a
prior is found and loaded (folder layouts, the hub, the cache) is :mod:`mgps.priors.loading`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from ..registry import PRIORS
from ..utils.assets import ASSETS_DIR
from .diffusers_latent import DiffusersLatentPrior
from .diffusers_pixel import DiffusersPixelPrior
from .loading import (
    PriorUnavailableError,
    hub_cached,
    hub_offline,
    is_diffusers_folder,
    load_from_folder,
    load_from_hub,
)

__all__ = ["PriorSource", "EMBEDDED_PRIORS_DIR"]

EMBEDDED_PRIORS_DIR = ASSETS_DIR / "priors"


@dataclass(frozen=True)
class PriorSource:
    """A known prior and how to load it; the ``obj`` of its ``PRIORS`` entry.

    Attributes:
        name: registry key.
        label: human-readable name.
        kind: ``"pixel"`` or ``"latent"``.
        image_size: ``(H, W)`` of the images the prior generates.
        channels: image channels (1 grayscale, 3 RGB).
        licence: licence of the weights.
        hub_id: Hugging Face repository, for hub priors.
        revision: the hub revision it is loaded at: the commit sha it was checked against,
            or ``"main"`` (the default branch) while none has been (see :data:`_HUB_PRIORS`).
        files: for a pinned revision, the files a Space preloads (README front matter,
            ``preload_from_hub: repo file1,file2 sha``).
        path: local diffusers folder, for embedded priors.
        description: one line for the UI.
    """

    name: str
    label: str
    kind: str
    image_size: tuple[int, int]
    channels: int
    licence: str
    hub_id: str | None = None
    revision: str | None = None
    files: tuple[str, ...] = ()
    path: Path | None = None
    description: str = ""

    def __call__(
        self, *, device: torch.device | str | None = None, dtype: torch.dtype | None = None
    ) -> DiffusersPixelPrior | DiffusersLatentPrior:
        """Load a fresh (uncached) instance; prefer :func:`~mgps.priors.loading.load_prior`, which
        caches."""
        if self.path is not None:
            if not is_diffusers_folder(self.path):
                raise PriorUnavailableError(
                    f"the embedded prior {self.name!r} is not available yet: {self.path} "
                    "does not hold an exported diffusers model (unet/ and scheduler/). It is "
                    "written by scripts/train_prior.py; training may still be in progress. "
                    f"Registered priors: {', '.join(PRIORS.names())}."
                )
            return load_from_folder(self.path, device=device, dtype=dtype, name=self.name)
        if self.hub_id is None:
            raise PriorUnavailableError(f"prior {self.name!r} has neither a folder nor a hub id")
        return load_from_hub(
            self.hub_id, revision=self.revision, device=device, dtype=dtype, name=self.name
        )

    def available(self) -> bool:
        """Quick check, without loading weights: the embedded folder exists, or the hub can
        be reached, or (offline) the model's configs are in the local cache."""
        if self.path is not None:
            return is_diffusers_folder(self.path)
        if self.hub_id is None:
            return False
        return not hub_offline() or hub_cached(self.hub_id, self.revision)


def _register(source: PriorSource, tags: set[str], reference: str = "") -> None:
    PRIORS.register(
        source.name,
        label=source.label,
        tags=tags | {source.kind},
        reference=reference,
        description=source.description,
    )(source)


# Each hub prior names the revision it is loaded at, and README.md's preload_from_hub names the
# same (tests/test_package.py checks both agree). None is pinned yet: the project was built
# where the hub cannot be reached, so no commit has been loaded and checked, and "main" (the
# default branch) stands in. To pin one, load the prior, put its commit sha (``hf download
# REPO`` prints the snapshot folder, named by it) in ``revision`` and the files the loader read
# in ``files``; the front matter then reads ``REPO file1,file2 SHA``.
_HUB_PRIORS = (
    PriorSource(
        name="cifar10-32",
        label="CIFAR-10 32×32 (DDPM)",
        kind="pixel",
        image_size=(32, 32),
        channels=3,
        licence="apache-2.0",
        hub_id="google/ddpm-cifar10-32",
        revision="main",
        description="Ho et al.'s DDPM on CIFAR-10 (ε-prediction, linear β, T = 1000); small, CPU-friendly.",
    ),
    PriorSource(
        name="celebahq-256",
        label="CelebA-HQ faces 256×256 (DDPM, EMA)",
        kind="pixel",
        image_size=(256, 256),
        channels=3,
        licence="apache-2.0",
        hub_id="google/ddpm-ema-celebahq-256",
        revision="main",
        description="Ho et al.'s DDPM on CelebA-HQ faces, EMA weights (ε-prediction, T = 1000).",
    ),
    PriorSource(
        name="church-256",
        label="LSUN churches 256×256 (DDPM)",
        kind="pixel",
        image_size=(256, 256),
        channels=3,
        licence="apache-2.0",
        hub_id="google/ddpm-church-256",
        revision="main",
        description="Ho et al.'s DDPM on LSUN church outdoor (ε-prediction, T = 1000).",
    ),
    PriorSource(
        name="ldm-celebahq-256",
        label="CelebA-HQ faces 256×256 (latent diffusion, VQ-f4)",
        kind="latent",
        image_size=(256, 256),
        channels=3,
        licence="apache-2.0",
        hub_id="CompVis/ldm-celebahq-256",
        revision="main",
        description="Rombach et al.'s LDM on CelebA-HQ: UNet on 3×64×64 VQ-f4 latents + VQModel decoder.",
    ),
)

_EMBEDDED_PRIORS = (
    PriorSource(
        name="digits",
        label="MNIST digits 28×28 (embedded)",
        kind="pixel",
        image_size=(28, 28),
        channels=1,
        licence="weights trained by this project on MNIST (data: CC BY-SA 3.0)",
        path=EMBEDDED_PRIORS_DIR / "digits",
        description="Small DDPM trained by this project on 9,000 MNIST digits; runs offline on a CPU.",
    ),
    PriorSource(
        name="fashion",
        label="Fashion-MNIST 28×28 (embedded)",
        kind="pixel",
        image_size=(28, 28),
        channels=1,
        licence="weights trained by this project on Fashion-MNIST (data: MIT)",
        path=EMBEDDED_PRIORS_DIR / "fashion",
        description="Small DDPM trained by this project on Fashion-MNIST; runs offline on a CPU.",
    ),
)

for _src in _HUB_PRIORS:
    _register(_src, {"hub"}, reference=f"https://huggingface.co/{_src.hub_id}")
for _src in _EMBEDDED_PRIORS:
    _register(_src, {"embedded"}, reference="scripts/train_prior.py")
