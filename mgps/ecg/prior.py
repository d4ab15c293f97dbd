"""The ECG diffusion prior: a :class:`~mgps.ecg.model.UNet1d` ε-network as an mgps ``Prior``.

DDPM with the paper's ECG schedule (Table 13; docs/algorithms.md §9): β_j = linspace(1e-4, 0.02, T),
T = 1000, ᾱ_j = ∏_{i≤j}(1 − β_i). On the padded grid of :mod:`mgps.types`,
``alphas_cumprod[0] = 1`` (clean) and ``alphas_cumprod[t] = ᾱ_{t−1}``; the network is called
at timestep ``t − 1`` for padded time ``t`` (so the noise level of the formulas and the one it
was trained on agree, docs/algorithms.md §1.2). Two parameterisations of the network output are supported
(``diffusion["prediction_type"]``), both giving the Tweedie denoiser exactly (docs/algorithms.md §1.3):

* ``"epsilon"``: the network predicts ε; x̂_0 = (x_t − √(1 − a_t) ε̂) / √a_t;
* ``"v_prediction"`` (Salimans & Ho 2022): it predicts v = √a_t ε − √(1 − a_t) x_0;
  x̂_0 = √a_t x_t − √(1 − a_t) v̂ and ε̂ = √(1 − a_t) x_t + √a_t v̂.

The shipped prior uses v-prediction. With ε-prediction, an error δ in ε̂ becomes an error
√((1 − a)/a) δ in x̂_0 — a factor 158 at t = T — and the ECG data are small (std 0.26): a first
ε-prediction run of this model (1000 steps, ε-MSE 0.007 at t = T) gave x̂_0 errors of 13 at
t = T and unconditional samples that blew up (std 5 instead of 0.26). With v-prediction the
x̂_0 error is √(1 − a) |δ| at every t.

The weights are frozen and :meth:`EcgPrior.x0_pred` never disables autograd, so samplers can
differentiate through it with respect to ``x_t``.

Files (``save``/``load``, the layout of ``assets/priors/ecg/``): ``config.json`` (format tag,
architecture, diffusion schedule, data description, training summary) and
``model.safetensors`` (the EMA weights). The registered loader ``PRIORS["ecg"]`` reads that
folder and raises :class:`~mgps.priors.loading.PriorUnavailableError` when it is missing.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from ..priors.network import NetworkPrior
from ..registry import PRIORS
from ..schedules import linear_betas, padded_alphas_cumprod
from ..utils.assets import ASSETS_DIR
from .leads import LEADS_9
from .model import UNet1d, UNet1dConfig

__all__ = [
    "EcgPrior",
    "ECG_PRIOR_DIR",
    "FORMAT",
    "load_ecg_prior",
    "ecg_prior",
    "diffusion_alphas_cumprod",
]

ECG_PRIOR_DIR = ASSETS_DIR / "priors" / "ecg"
FORMAT = "mgps-ecg-unet1d/1"
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
DEFAULT_DIFFUSION: dict[str, Any] = {
    "num_train_timesteps": 1000,
    "beta_schedule": "linear",
    "beta_start": 1e-4,
    "beta_end": 0.02,
    "prediction_type": "v_prediction",
}
PREDICTION_TYPES = ("epsilon", "v_prediction")


def diffusion_alphas_cumprod(diffusion: dict[str, Any] | None = None) -> Tensor:
    """The unpadded ``(T,)`` float64 ᾱ of a diffusion config (linear β only)."""
    d = {**DEFAULT_DIFFUSION, **(diffusion or {})}
    if d["beta_schedule"] != "linear" or d["prediction_type"] not in PREDICTION_TYPES:
        raise ValueError(
            f"only the linear β schedule with prediction_type in {PREDICTION_TYPES} is "
            f"supported, got {d['beta_schedule']!r} / {d['prediction_type']!r}"
        )
    betas = linear_betas(
        int(d["num_train_timesteps"]), float(d["beta_start"]), float(d["beta_end"])
    )
    return torch.cumprod(1.0 - betas, dim=0)


class EcgPrior(NetworkPrior):
    """A 1-D UNet diffusion prior (ε- or v-prediction) on ``(leads, length)`` ECG windows.

    Args:
        net: the ε-network (frozen and put in eval mode here).
        diffusion: the schedule and parameterisation (defaults: linear β 1e-4 → 0.02,
            T = 1000, ``prediction_type="v_prediction"``).
        name: label used in messages.
        info: free-form metadata (data, training summary), saved in ``config.json``.

    Attributes:
        alphas_cumprod: ``(T + 1,)`` float64 padded ᾱ, ``[0] == 1``.
        shape: ``(leads, length)`` of one sample (``(9, 256)`` for the shipped prior).
        leads: lead names of the channels.
        network_calls: number of network evaluations (one per batch) so far.

    Example:
        >>> prior = EcgPrior(UNet1d(UNet1dConfig(channels=(8, 16), length=64, groups=4, heads=2)))
        >>> prior.shape, prior.alphas_cumprod.shape
        ((9, 64), torch.Size([1001]))
    """

    def __init__(
        self,
        net: UNet1d,
        diffusion: dict[str, Any] | None = None,
        *,
        name: str = "ecg",
        info: dict[str, Any] | None = None,
    ) -> None:
        if not isinstance(net, UNet1d):
            raise TypeError(f"net must be a UNet1d, got {type(net).__name__}")
        self.diffusion = {**DEFAULT_DIFFUSION, **(diffusion or {})}
        cfg = net.config
        super().__init__(
            net,
            padded_alphas_cumprod(diffusion_alphas_cumprod(self.diffusion)),
            prediction_type=self.diffusion["prediction_type"],
            shape=(cfg.in_channels, cfg.length),
            name=name,
        )
        self.leads: tuple[str, ...] = LEADS_9 if cfg.in_channels == len(LEADS_9) else ()
        self.info: dict[str, Any] = dict(info or {})

    def to(
        self, device: torch.device | str | None = None, dtype: torch.dtype | None = None
    ) -> EcgPrior:
        return super().to(device, dtype)  # type: ignore[return-value]

    # ------------------------------------------------------------------ files
    def config_dict(self) -> dict[str, Any]:
        """What ``config.json`` holds."""
        return {
            "format": FORMAT,
            "model": self.net.config.to_dict(),
            "diffusion": dict(self.diffusion),
            "leads": list(self.leads),
            **self.info,
        }

    def save(self, folder: str | os.PathLike[str]) -> Path:
        """Write ``config.json`` and ``model.safetensors`` in ``folder`` (created), each file
        atomically (temporary file + rename)."""
        from safetensors.torch import save_file

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        state = {
            k: v.detach().to("cpu", torch.float32).contiguous()
            for k, v in self.net.state_dict().items()
        }
        with tempfile.NamedTemporaryFile(dir=folder, suffix=".tmp", delete=False) as f:
            tmp = Path(f.name)
        save_file(state, str(tmp), metadata={"format": FORMAT})
        tmp.chmod(0o644)
        os.replace(tmp, folder / WEIGHTS_FILE)
        tmp = folder / (CONFIG_FILE + ".tmp")
        tmp.write_text(json.dumps(self.config_dict(), indent=1, default=float))
        os.replace(tmp, folder / CONFIG_FILE)
        return folder

    @classmethod
    def load(
        cls,
        folder: str | os.PathLike[str],
        *,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
        name: str = "ecg",
    ) -> EcgPrior:
        """Load a prior written by :meth:`save`.

        Raises:
            PriorUnavailableError: the folder, the config or the weights are missing or unreadable.
        """
        from safetensors.torch import load_file

        from ..priors.loading import PriorUnavailableError

        folder = Path(folder)
        config_path, weights_path = folder / CONFIG_FILE, folder / WEIGHTS_FILE
        if not config_path.is_file() or not weights_path.is_file():
            raise PriorUnavailableError(
                f"the ECG prior is not available: {folder} must hold {CONFIG_FILE} and "
                f"{WEIGHTS_FILE}. They are written by scripts/ecg_train.py (training may still "
                "be in progress); the data come from scripts/ecg_make_data.py."
            )
        try:
            config = json.loads(config_path.read_text())
        except (OSError, json.JSONDecodeError) as err:
            raise PriorUnavailableError(f"could not read {config_path}: {err}") from err
        if config.get("format") != FORMAT:
            raise PriorUnavailableError(
                f"{config_path} has format {config.get('format')!r}; expected {FORMAT!r}"
            )
        net = UNet1d(UNet1dConfig.from_dict(config["model"]))
        try:
            state = load_file(str(weights_path))
            net.load_state_dict(state)
        except Exception as err:  # noqa: BLE001 - corrupt or mismatched weights
            raise PriorUnavailableError(f"could not load {weights_path}: {err}") from err
        info = {
            k: v for k, v in config.items() if k not in ("format", "model", "diffusion", "leads")
        }
        prior = cls(net, config.get("diffusion"), name=name, info=info)
        return prior.to(device=device, dtype=dtype)

    def __repr__(self) -> str:
        return (
            f"EcgPrior(name={self.name!r}, shape={self.shape}, T={self.num_train_timesteps}, "
            f"channels={self.net.config.channels}, dtype={self.network_dtype}, device={self.device})"
        )


def load_ecg_prior(
    folder: str | os.PathLike[str] | None = None,
    *,
    device: torch.device | str | None = None,
    dtype: torch.dtype | None = None,
) -> EcgPrior:
    """Load the ECG prior from ``folder`` (default ``assets/priors/ecg``)."""
    return EcgPrior.load(folder or ECG_PRIOR_DIR, device=device, dtype=dtype)


@PRIORS.register(
    "ecg",
    label="12-lead ECG 9×256 (embedded, synthetic)",
    tags={"embedded", "ecg", "pixel"},
    reference="scripts/ecg_train.py on assets/ecg/ecg_windows.npz (neurokit2 synthetic ECGs)",
    description=(
        "Small 1-D UNet DDPM trained by this project on synthetic neurokit2 12-lead ECGs "
        "(leads I, II, III, V1–V6; 2.56 s at 100 Hz); runs offline on a CPU."
    ),
)
def ecg_prior(
    device: torch.device | str | None = None, dtype: torch.dtype | None = None
) -> EcgPrior:
    """The shipped ECG prior (``assets/priors/ecg``); shape ``(9, 256)``."""
    return load_ecg_prior(device=device, dtype=dtype)


ecg_prior.available = lambda: (
    (ECG_PRIOR_DIR / CONFIG_FILE).is_file()
    and (  # type: ignore[attr-defined]
        ECG_PRIOR_DIR / WEIGHTS_FILE
    ).is_file()
)
