"""A small 1-D convolutional UNet for ε-prediction on multi-lead ECG windows.

A readable stand-in for the paper's SSSD-SA / Sashimi prior (S4 layers, ~16 M parameters,
docs/algorithms.md §9), sized for CPU training: the DDPM UNet of Ho et al. (2020) with 1-D
convolutions.

* Input/output ``(B, C, L)`` (C = 9 leads, L = 256 samples at 100 Hz); the network predicts the
  noise ε of x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε (ε-prediction, "MSE loss" of the paper).
* ``len(channels)`` resolutions (L, L/2, L/4, ...): at each, ``num_res_blocks`` residual blocks
  on the way down and ``num_res_blocks + 1`` on the way up (with skip connections), a strided
  convolution to go down and nearest-neighbour upsampling + convolution to go up.
* Residual block: GroupNorm → SiLU → Conv1d → (scale, shift) from the time embedding →
  GroupNorm-modulated → SiLU → Conv1d (zero-initialised) + skip.
* Time: the integer network timestep j ∈ {0..T−1} → sinusoidal embedding (Vaswani et al.
  2017) → 2-layer MLP.
* Optionally one multi-head self-attention block in the middle (lowest resolution), so every
  output sample sees the whole window.

The diffusion itself (linear β 1e-4 → 0.02, T = 1000) lives in :mod:`mgps.ecg.prior`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["UNet1dConfig", "UNet1d", "timestep_embedding", "count_parameters"]


@dataclass(frozen=True)
class UNet1dConfig:
    """Architecture of :class:`UNet1d` (stored in ``config.json``).

    Attributes:
        in_channels: number of leads (input and output channels).
        length: window length the model was trained on (must be divisible by
            ``2 ** (len(channels) - 1)``; the network itself accepts any such length).
        channels: feature channels per resolution, e.g. ``(64, 128, 128)``.
        num_res_blocks: residual blocks per resolution on the way down.
        attention: one self-attention block at the lowest resolution.
        heads: attention heads.
        groups: GroupNorm groups (must divide every entry of ``channels``).
        kernel_size: odd convolution width.
        dropout: dropout inside the residual blocks.
    """

    in_channels: int = 9
    length: int = 256
    channels: tuple[int, ...] = field(default=(64, 128, 128))
    num_res_blocks: int = 1
    attention: bool = True
    heads: int = 4
    groups: int = 8
    kernel_size: int = 3
    dropout: float = 0.0
    stem_stride: int = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "channels", tuple(int(c) for c in self.channels))
        if self.in_channels < 1 or not self.channels or min(self.channels) < 1:
            raise ValueError(f"invalid channels: in={self.in_channels}, {self.channels}")
        if any(c % self.groups for c in self.channels):
            raise ValueError(
                f"groups={self.groups} must divide every channel count {self.channels}"
            )
        if self.attention and self.channels[-1] % self.heads:
            raise ValueError(f"heads={self.heads} must divide {self.channels[-1]}")
        if self.kernel_size < 1 or self.kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd, got {self.kernel_size}")
        if self.stem_stride not in (1, 2, 4):
            raise ValueError(f"stem_stride must be 1, 2 or 4, got {self.stem_stride}")
        factor = self.stem_stride * 2 ** (len(self.channels) - 1)
        if self.length % factor:
            raise ValueError(
                f"length {self.length} must be divisible by {factor} for {len(self.channels)} "
                "resolutions"
            )

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["channels"] = list(self.channels)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> UNet1dConfig:
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        unknown = sorted(set(d) - set(known))
        if unknown:
            raise ValueError(f"unknown UNet1d config keys: {', '.join(unknown)}")
        return cls(**known)


def timestep_embedding(t: Tensor, dim: int, max_period: float = 10_000.0) -> Tensor:
    """Sinusoidal embedding ``(B, dim)`` of integer (or real) timesteps ``t`` ``(B,)``:
    [cos(t ω_k), sin(t ω_k)] with ω_k = max_period^(−k/(dim/2))."""
    half = dim // 2
    freqs = torch.exp(
        -math.log(max_period) * torch.arange(half, dtype=torch.float32, device=t.device) / half
    )
    args = t.float()[:, None] * freqs[None]
    emb = torch.cat([torch.cos(args), torch.sin(args)], dim=1)
    if dim % 2:
        emb = F.pad(emb, (0, 1))
    return emb


def _zero(module: nn.Module) -> nn.Module:
    for p in module.parameters():
        nn.init.zeros_(p)
    return module


class ResBlock1d(nn.Module):
    """GroupNorm-SiLU-Conv, time-conditioned scale/shift, GroupNorm-SiLU-Conv, plus a skip."""

    def __init__(
        self, c_in: int, c_out: int, time_dim: int, groups: int, kernel_size: int, dropout: float
    ) -> None:
        super().__init__()
        pad = kernel_size // 2
        self.norm1 = nn.GroupNorm(groups, c_in)
        self.conv1 = nn.Conv1d(c_in, c_out, kernel_size, padding=pad)
        self.time = nn.Linear(time_dim, 2 * c_out)
        self.norm2 = nn.GroupNorm(groups, c_out)
        self.dropout = nn.Dropout(dropout)
        self.conv2 = _zero(nn.Conv1d(c_out, c_out, kernel_size, padding=pad))
        self.skip = nn.Conv1d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x: Tensor, temb: Tensor) -> Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        scale, shift = self.time(temb)[:, :, None].chunk(2, dim=1)
        h = self.norm2(h) * (1 + scale) + shift
        h = self.conv2(self.dropout(F.silu(h)))
        return self.skip(x) + h


class SelfAttention1d(nn.Module):
    """Pre-norm multi-head self-attention over the time axis, with a residual connection."""

    def __init__(self, channels: int, heads: int, groups: int) -> None:
        super().__init__()
        self.heads = heads
        self.norm = nn.GroupNorm(groups, channels)
        self.qkv = nn.Conv1d(channels, 3 * channels, 1)
        self.proj = _zero(nn.Conv1d(channels, channels, 1))

    def forward(self, x: Tensor) -> Tensor:
        b, c, n = x.shape
        q, k, v = self.qkv(self.norm(x)).reshape(b, 3, self.heads, c // self.heads, n).unbind(1)
        out = F.scaled_dot_product_attention(
            q.transpose(-1, -2), k.transpose(-1, -2), v.transpose(-1, -2)
        )  # (b, heads, n, c/heads)
        return x + self.proj(out.transpose(-1, -2).reshape(b, c, n))


class UNet1d(nn.Module):
    """ε-network ``(x_t (B, C, L), timestep (B,)) -> ε̂ (B, C, L)``.

    Args:
        config: the architecture.

    Example:
        >>> net = UNet1d(UNet1dConfig(channels=(16, 32), length=64, groups=4, heads=2))
        >>> tuple(net(torch.randn(2, 9, 64), torch.tensor([0, 999])).shape)
        (2, 9, 64)
    """

    def __init__(self, config: UNet1dConfig | None = None) -> None:
        super().__init__()
        self.config = cfg = config or UNet1dConfig()
        ch, k, g, drop = cfg.channels, cfg.kernel_size, cfg.groups, cfg.dropout
        self.time_dim = 4 * ch[0]
        self.time_mlp = nn.Sequential(
            nn.Linear(ch[0], self.time_dim), nn.SiLU(), nn.Linear(self.time_dim, self.time_dim)
        )
        s = cfg.stem_stride
        if s == 1:
            self.conv_in = nn.Conv1d(cfg.in_channels, ch[0], k, padding=k // 2)
        else:  # patchify: non-overlapping windows of s samples
            self.conv_in = nn.Conv1d(cfg.in_channels, ch[0], s, stride=s)

        self.down = nn.ModuleList()
        skip_channels = [ch[0]]
        c = ch[0]
        for level, c_level in enumerate(ch):
            for _ in range(cfg.num_res_blocks):
                self.down.append(ResBlock1d(c, c_level, self.time_dim, g, k, drop))
                c = c_level
                skip_channels.append(c)
            if level < len(ch) - 1:
                self.down.append(nn.Conv1d(c, c, 3, stride=2, padding=1))
                skip_channels.append(c)

        self.mid1 = ResBlock1d(c, c, self.time_dim, g, k, drop)
        self.mid_attn = SelfAttention1d(c, cfg.heads, g) if cfg.attention else nn.Identity()
        self.mid2 = ResBlock1d(c, c, self.time_dim, g, k, drop)

        self.up = nn.ModuleList()
        for level in reversed(range(len(ch))):
            for _ in range(cfg.num_res_blocks + 1):
                self.up.append(
                    ResBlock1d(c + skip_channels.pop(), ch[level], self.time_dim, g, k, drop)
                )
                c = ch[level]
            if level > 0:
                self.up.append(
                    nn.Sequential(
                        nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv1d(c, c, 3, padding=1)
                    )
                )
        self.norm_out = nn.GroupNorm(g, c)
        if s == 1:
            self.conv_out = _zero(nn.Conv1d(c, cfg.in_channels, k, padding=k // 2))
        else:  # each of the s output phases has its own weights
            self.conv_out = _zero(nn.ConvTranspose1d(c, cfg.in_channels, s, stride=s))

    def forward(self, x: Tensor, timesteps: Tensor) -> Tensor:
        """ε̂(x_t, j) for network timesteps ``j`` (``(B,)`` integers in 0..T−1)."""
        factor = self.config.stem_stride * 2 ** (len(self.config.channels) - 1)
        if x.ndim != 3 or x.shape[1] != self.config.in_channels or x.shape[2] % factor:
            raise ValueError(
                f"expected input (B, {self.config.in_channels}, L) with L divisible by {factor}, "
                f"got {tuple(x.shape)}"
            )
        temb = self.time_mlp(timestep_embedding(timesteps, self.config.channels[0]).to(x.dtype))
        temb = F.silu(temb)
        h = self.conv_in(x)
        skips = [h]
        for layer in self.down:
            h = layer(h, temb) if isinstance(layer, ResBlock1d) else layer(h)
            skips.append(h)
        h = self.mid2(self.mid_attn(self.mid1(h, temb)), temb)
        for layer in self.up:
            if isinstance(layer, ResBlock1d):
                h = layer(torch.cat([h, skips.pop()], dim=1), temb)
            else:
                h = layer(h)
        return self.conv_out(F.silu(self.norm_out(h)))


def count_parameters(module: nn.Module) -> int:
    """Number of parameters of ``module``."""
    return sum(p.numel() for p in module.parameters())
