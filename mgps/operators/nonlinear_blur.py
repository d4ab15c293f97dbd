"""Nonlinear (learned) blur (``nonlinear_blur``): the KernelWizard forward model of bkse.

Tran et al., *Explore Image Deblurring via Encoded Blur Kernel Space*, CVPR 2021
(github.com/VinAIResearch/blur-kernel-space-exploring, "bkse") learn a blur model
``F(x, k)``: a network that blurs a sharp image ``x`` according to a latent kernel code ``k``.
DPS and the paper (``docs/algorithms.md`` §5) use its ``adaptKernel`` with the GOPRO_wVAE weights:

    H(x) = clamp(2 · F((x + 1)/2, k) − 1, −1, 1),   k = 1.2 · ε,  ε ~ N(0, I) of shape
    (1, 512, H/128, W/128)   (1 × 512 × 2 × 2 at 256 × 256).

**The kernel is drawn once**, from ``seed``, when the operator is built, so ``H`` is a fixed
deterministic function. The reference code (DPS's ``NonlinearBlurOperator``, reused by MGPS)
draws a fresh ``k`` at every call, including inside every likelihood evaluation, which makes
its likelihood stochastic (``docs/algorithms.md`` §5).

The network (``KernelWizard`` with the GOPRO_wVAE options: input_nc 3, nf 64, front_RBs 10,
back_RBs 20, kernel_dim 512, use_vae, norm "none") is re-implemented below from the bkse
source, with the same parameter names so that its ``state_dict`` loads as is:

* ``feature_extractor``: conv 3→64, LeakyReLU(0.1), two stride-2 convs (→ H/4), 10 residual
  blocks (conv-ReLU-conv + identity, no normalisation);
* ``adapter`` (the function G of the paper): a 5-level U-Net (pix2pix ``UnetSkipConnection
  Block``; down: LeakyReLU(0.2) + 4×4 stride-2 conv; up: ReLU + 4×4 stride-2 transposed conv,
  tanh at the top) whose bottleneck (H/128) is concatenated with the kernel code ``k``. As in
  the original, the LeakyReLU of each inner level acts in place, so the skip connection
  carries the activated features;
* ``recon_trunk``: 20 residual blocks, two (conv ×4 channels, PixelShuffle 2, LeakyReLU)
  upsamplings, conv, LeakyReLU, conv 64→3; plus the input image (global residual).

The kernel *extractor* (the encoder that estimates ``k`` from a sharp/blurry pair) is not
needed for the forward model and is not built; its entries in the weights file are skipped.
The image size must be a multiple of 128 (the U-Net halves the H/4 features five times).

**Weights are required**: the trained ``GOPRO_wVAE.pth`` from the bkse project (its README
links the pretrained models; DPS's README links the same file). Nothing here substitutes
another model. Without weights the factory raises a ``ValueError`` that says so; the registry
tags the operator ``needs-weights``. ``A_pinv`` is the identity (the blurred image is the best
available guess of the sharp one).
"""

from __future__ import annotations

import copy
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..registry import OPERATORS, Param
from .image_base import ImageOperator, describe_shape, image_shape

__all__ = ["KernelWizard", "NonlinearBlur", "nonlinear_blur", "load_kernel_wizard"]

WEIGHTS_HELP = (
    "the KernelWizard weights GOPRO_wVAE.pth from the bkse project "
    "(github.com/VinAIResearch/blur-kernel-space-exploring, 'pretrained models' in its README; "
    "DPS's README links the same file) are needed: download it, put it for example at "
    "assets/weights/GOPRO_wVAE.pth, and pass weights='assets/weights/GOPRO_wVAE.pth' "
    "(or weights='hf://<repo_id>/<file>' for a copy on the Hugging Face Hub)"
)
KERNEL_CHANNELS = 512
SIZE_MULTIPLE = 128


class _ResidualBlock(nn.Module):
    """conv 3×3 → ReLU → conv 3×3, plus the input (bkse ``ResidualBlock_noBN``)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, 1, 1, bias=True)
        self.conv2 = nn.Conv2d(channels, channels, 3, 1, 1, bias=True)

    def forward(self, x: Tensor) -> Tensor:
        return x + self.conv2(F.relu(self.conv1(x)))


class _UNetLevel(nn.Module):
    """One level of the adapter U-Net (pix2pix ``UnetSkipConnectionBlock``, norm "none").

    ``down`` and ``up`` keep the original ``nn.Sequential`` layout so parameter names match
    (``down.0``/``down.1`` conv, ``up.1`` transposed conv).
    """

    def __init__(
        self,
        outer_channels: int,
        inner_channels: int,
        input_channels: int | None = None,
        submodule: _UNetLevel | None = None,
        *,
        outermost: bool = False,
        innermost: bool = False,
    ) -> None:
        super().__init__()
        self.outermost, self.innermost = outermost, innermost
        input_channels = input_channels or outer_channels
        down_conv = nn.Conv2d(input_channels, inner_channels, 4, 2, 1, bias=False)
        if outermost:
            self.down = nn.Sequential(down_conv)
            up_conv = nn.ConvTranspose2d(inner_channels * 2, outer_channels, 4, 2, 1)
            self.up = nn.Sequential(nn.ReLU(), up_conv, nn.Tanh())
        else:
            self.down = nn.Sequential(nn.LeakyReLU(0.2), down_conv)
            up_conv = nn.ConvTranspose2d(inner_channels * 2, outer_channels, 4, 2, 1, bias=False)
            self.up = nn.Sequential(nn.ReLU(), up_conv)
        if not innermost:
            self.submodule = submodule

    def forward(self, x: Tensor, kernel: Tensor) -> Tensor:
        if self.outermost:
            return self.up(self.submodule(self.down(x), kernel))
        x = self.down[0](x)  # in place in the original, so the skip below sees it too
        inner = self.down[1](x)
        if self.innermost:
            inner = torch.cat([inner, kernel], 1)
        else:
            inner = self.submodule(inner, kernel)
        return torch.cat([self.up(inner), x], 1)


class _KernelAdapter(nn.Module):
    """The function G of bkse: a U-Net with the kernel code injected at the bottleneck."""

    def __init__(self, nf: int) -> None:
        super().__init__()
        level = _UNetLevel(nf * 8, nf * 8, innermost=True)
        level = _UNetLevel(nf * 4, nf * 8, submodule=level)
        level = _UNetLevel(nf * 2, nf * 4, submodule=level)
        level = _UNetLevel(nf, nf * 2, submodule=level)
        self.model = _UNetLevel(nf, nf, input_channels=nf, submodule=level, outermost=True)

    def forward(self, features: Tensor, kernel: Tensor) -> Tensor:
        return self.model(features, kernel)


class KernelWizard(nn.Module):
    """The blur model ``F(x, k)`` of bkse (``KernelWizard.adaptKernel``), without the encoder.

    Args:
        image_channels: ``input_nc`` (3).
        nf: feature channels (64); the kernel code has ``8·nf`` channels.
        front_blocks: residual blocks of the feature extractor (10).
        back_blocks: residual blocks of the reconstruction trunk (20).
    """

    def __init__(
        self, image_channels: int = 3, nf: int = 64, front_blocks: int = 10, back_blocks: int = 20
    ) -> None:
        super().__init__()
        self.kernel_channels = nf * 8
        self.feature_extractor = nn.Sequential(
            nn.Conv2d(image_channels, nf, 3, 1, 1, bias=True),
            nn.LeakyReLU(0.1),
            nn.Conv2d(nf, nf, 3, 2, 1, bias=True),
            nn.LeakyReLU(0.1),
            nn.Conv2d(nf, nf, 3, 2, 1, bias=True),
            nn.LeakyReLU(0.1),
            *[_ResidualBlock(nf) for _ in range(front_blocks)],
        )
        self.adapter = _KernelAdapter(nf)
        self.recon_trunk = nn.Sequential(
            *[_ResidualBlock(nf) for _ in range(back_blocks)],
            nn.Conv2d(nf, nf * 4, 3, 1, 1, bias=True),
            nn.PixelShuffle(2),
            nn.LeakyReLU(0.1),
            nn.Conv2d(nf, 64 * 4, 3, 1, 1, bias=True),
            nn.PixelShuffle(2),
            nn.LeakyReLU(0.1),
            nn.Conv2d(64, 64, 3, 1, 1, bias=True),
            nn.LeakyReLU(0.1),
            nn.Conv2d(64, image_channels, 3, 1, 1, bias=True),
        )

    def adapt_kernel(self, sharp: Tensor, kernel: Tensor) -> Tensor:
        """Blur ``sharp`` (``(B, C, H, W)`` in [0, 1]) with the kernel code ``kernel``."""
        features = self.feature_extractor(sharp)
        return self.recon_trunk(self.adapter(features, kernel)) + sharp

    forward = adapt_kernel


def _read_state_dict(weights: str) -> dict[str, Tensor]:
    """Load a state dict from a local path or ``hf://<repo_id>/<filename>``."""
    text = str(weights).strip()
    if text.startswith("hf://"):
        repo_and_file = text[len("hf://") :]
        parts = repo_and_file.split("/")
        if len(parts) < 3:
            raise ValueError(
                f"nonlinear_blur: expected weights='hf://<owner>/<repo>/<file>', got {text!r}"
            )
        try:
            from huggingface_hub import hf_hub_download

            path = Path(hf_hub_download("/".join(parts[:2]), "/".join(parts[2:])))
        except Exception as error:  # noqa: BLE001 (offline, missing repo, ...: say which)
            raise ValueError(
                f"nonlinear_blur: could not fetch {text!r} from the Hugging Face Hub ({error}); "
                + WEIGHTS_HELP
            ) from None
    else:
        path = Path(text).expanduser()
    if not path.is_file():
        raise ValueError(f"nonlinear_blur: weights file {str(path)!r} not found; " + WEIGHTS_HELP)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 (pickle/zip errors of many kinds)
        raise ValueError(
            f"nonlinear_blur: could not read {str(path)!r} as a PyTorch state dict ({error}); "
            + WEIGHTS_HELP
        ) from None
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise ValueError(
            f"nonlinear_blur: {str(path)!r} does not hold a state dict; " + WEIGHTS_HELP
        )
    return {k.removeprefix("module."): v for k, v in state.items()}


def load_kernel_wizard(weights: str) -> KernelWizard:
    """Build the GOPRO_wVAE ``KernelWizard`` and load ``weights`` (the encoder's are skipped)."""
    state = _read_state_dict(weights)
    state = {k: v for k, v in state.items() if not k.startswith("kernel_extractor.")}
    model = KernelWizard()
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise ValueError(
            f"nonlinear_blur: {weights!r} does not match the KernelWizard (GOPRO_wVAE) "
            f"architecture: {len(missing)} missing entries (e.g. {missing[:3]}), "
            f"{len(unexpected)} unexpected (e.g. {unexpected[:3]}); " + WEIGHTS_HELP
        )
    model.eval().requires_grad_(False)
    return model


class NonlinearBlur(ImageOperator):
    """``clamp(2·F((x + 1)/2, k) − 1, −1, 1)`` with a fixed kernel code ``k``.

    Args:
        x_shape: ``(3, H, W)`` with ``H`` and ``W`` multiples of 128.
        model: a loaded :class:`KernelWizard`.
        kernel: code ``(1, 8·nf, H/128, W/128)``; shared by every image of a batch.
        name: the registry key, used in messages.
    """

    linear = False

    def __init__(
        self,
        x_shape: tuple[int, int, int],
        model: KernelWizard,
        kernel: Tensor,
        name: str = "nonlinear_blur",
    ) -> None:
        ImageOperator.__init__(self, name, x_shape)
        self.model = model
        self.kernel = kernel.detach().cpu()
        parameter = next(model.parameters())
        self._models: dict[tuple, KernelWizard] = {(parameter.dtype, parameter.device): model}

    def _model_for(self, like: Tensor) -> KernelWizard:
        """The network in the dtype and on the device of ``like`` (a cached copy)."""
        key = (like.dtype, like.device)
        model = self._models.get(key)
        if model is None:
            model = copy.deepcopy(self.model).to(dtype=like.dtype, device=like.device)
            self._models[key] = model
        return model

    def A(self, x: Tensor) -> Tensor:
        """Blur with the learned model, ``(B, 3, H, W)`` in and out, clamped to [-1, 1]."""
        x = self.check_input(x)
        model = self._model_for(x)
        kernel = self.constant("kernel", self.kernel, x).expand(x.shape[0], -1, -1, -1)
        blurred = model.adapt_kernel((x + 1.0) / 2.0, kernel)
        return (2.0 * blurred - 1.0).clamp(-1.0, 1.0)

    def A_pinv(self, y: Tensor) -> Tensor:
        """The identity: the blurred image is the best available guess of the sharp one."""
        return y.reshape(y.shape[0], *self.x_shape).clone()


@OPERATORS.register(
    "nonlinear_blur",
    label="Nonlinear blur (KernelWizard)",
    params=(
        Param("weights", help="path to GOPRO_wVAE.pth (bkse KernelWizard weights), required"),
        Param("seed", low=0, high=2**31 - 1, step=1, help="seed of the kernel code k (drawn once)"),
    ),
    tags={"image", "needs-weights"},
    reference="Moufad et al. 2025, §5; Tran et al. 2021 (bkse) KernelWizard, GOPRO_wVAE, as in DPS",
)
def nonlinear_blur(
    shape: tuple[int, int, int], *, weights: str = "", seed: int = 0
) -> NonlinearBlur:
    """Learned blur of bkse with a kernel code drawn once from ``seed``; needs ``weights``."""
    c, h, w = image_shape("nonlinear_blur", shape)
    if c != 3:
        raise ValueError(
            f"nonlinear_blur: the KernelWizard works on RGB images (3 channels), got {c} channels"
        )
    if h % SIZE_MULTIPLE or w % SIZE_MULTIPLE:
        raise ValueError(
            f"nonlinear_blur: image size {describe_shape((h, w))} is not supported; the "
            f"KernelWizard needs a height and width that are multiples of {SIZE_MULTIPLE} "
            "(e.g. 128×128 or 256×256)"
        )
    if weights is None or not str(weights).strip():
        raise ValueError("nonlinear_blur: no weights given; " + WEIGHTS_HELP)
    model = load_kernel_wizard(str(weights))
    generator = torch.Generator().manual_seed(int(seed))
    code_shape = (1, model.kernel_channels, h // SIZE_MULTIPLE, w // SIZE_MULTIPLE)
    kernel = 1.2 * torch.randn(code_shape, generator=generator)
    return NonlinearBlur((c, h, w), model, kernel, name="nonlinear_blur")


nonlinear_blur.test_shapes = ((3, 128, 128),)  # type: ignore[attr-defined]
