"""Load diffusion priors by registered name, Hugging Face hub id or local diffusers folder.

``load_prior(spec)`` is the one entry point (the app and the CLI use it), cached so a model
is loaded once per ``(spec, device, dtype)``. ``spec`` is

* a **registered name** (``PRIORS.names()``): the embedded priors trained by this project
  (``digits``, ``fashion``; folders under ``assets/priors/``, work offline) and a few known
  hub models (``cifar10-32``, ``celebahq-256``, ``church-256``, ``ldm-celebahq-256``), listed
  in :mod:`mgps.priors.sources`;
* a **local diffusers folder**: a UNet config + weights and a scheduler config, either at the
  folder's root (``config.json``, ``scheduler_config.json``) or in ``unet/`` and
  ``scheduler/`` subfolders (a pipeline folder). A ``vqvae/`` or ``vae/`` subfolder makes it a
  latent prior (:class:`DiffusersLatentPrior`); ``model_index.json``, when present, names the
  subfolders;
* a **hub id** ``owner/name`` (optionally ``owner/name@revision``), with the same layouts.

Hub models are read from the local Hugging Face cache when ``HF_HUB_OFFLINE`` is set (and as
a fallback when the hub is unreachable); a model that is not cached then raises
:class:`PriorUnavailableError` at once, naming the model and the embedded priors that work
offline. Nothing here waits on the network when offline.

Every ``PRIORS`` entry's ``obj`` is a loader: calling it returns a fresh prior; it receives
the ``device=`` and ``dtype=`` keywords it declares (``PriorSource`` for the built-in
ones takes both; a loader that takes neither returns its prior as is). Register more with
``PRIORS.register(name, label=..., tags=...)(loader)``.
"""

from __future__ import annotations

import inspect
import json
import logging
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ..registry import PRIORS
from .diffusers_latent import DiffusersLatentPrior
from .diffusers_pixel import DiffusersPixelPrior
from .network import NetworkPrior

__all__ = [
    "load_prior",
    "load_from_folder",
    "load_from_hub",
    "clear_prior_cache",
    "hub_offline",
    "hub_cached",
    "is_diffusers_folder",
    "PriorUnavailableError",
]

log = logging.getLogger(__name__)

_HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+")


class PriorUnavailableError(ValueError):
    """A prior cannot be loaded: unknown name, missing folder, not trained yet, or a hub model
    that is not cached while offline. The message says what to do. (A ``ValueError`` so that
    user interfaces report it like other bad input.)"""


# ---------------------------------------------------------------------------- folder layouts
@dataclass(frozen=True)
class _Layout:
    unet: str | None  # subfolder, None = root
    scheduler_file: str  # path relative to the root
    vae: str | None  # subfolder of the autoencoder, None = pixel prior
    vae_class: str | None


def _read_json(path: Path) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, json.JSONDecodeError) as err:
        raise PriorUnavailableError(f"could not read {path}: {err}") from err
    if not isinstance(data, dict):
        raise PriorUnavailableError(f"{path} is not a JSON object")
    return data


def is_diffusers_folder(folder: Path) -> bool:
    """Whether ``folder`` holds a prior this module can load (a UNet and a scheduler)."""
    try:
        _find_layout(folder)
    except PriorUnavailableError:
        return False
    return True


def _find_layout(folder: Path) -> _Layout:
    """Where the UNet, scheduler and (optional) autoencoder live in a diffusers folder."""
    folder = Path(folder)
    if not folder.is_dir():
        raise PriorUnavailableError(f"{folder} is not a folder")
    subs: dict[str, str] = {}  # role -> subfolder named by model_index.json
    index = folder / "model_index.json"
    if index.is_file():
        for key, value in _read_json(index).items():
            if key.startswith("_") or not isinstance(value, list) or len(value) != 2:
                continue
            cls = str(value[1])
            if cls.startswith("UNet"):
                subs.setdefault("unet", key)
            elif cls.endswith("Scheduler"):
                subs.setdefault("scheduler", key)
            elif cls.startswith(("VQModel", "AutoencoderKL")):
                subs.setdefault("vae", key)
    # UNet
    unet: str | None
    candidates = [subs.get("unet"), "unet"]
    unet_sub = next((c for c in candidates if c and (folder / c / "config.json").is_file()), None)
    if unet_sub is not None:
        unet, unet_cfg = unet_sub, _read_json(folder / unet_sub / "config.json")
    elif (folder / "config.json").is_file():
        unet, unet_cfg = None, _read_json(folder / "config.json")
    else:
        raise PriorUnavailableError(
            f"{folder} holds no diffusers UNet: expected unet/config.json or config.json "
            "(with the weights next to it)"
        )
    cls = unet_cfg.get("_class_name", "UNet2DModel")
    if cls != "UNet2DModel":
        raise PriorUnavailableError(
            f"{folder}: the model is a {cls}; mgps supports unconditional UNet2DModel priors"
        )
    # scheduler
    sched_candidates = [
        f"{subs['scheduler']}/scheduler_config.json" if "scheduler" in subs else None,
        "scheduler/scheduler_config.json",
        "scheduler_config.json",
    ]
    sched = next((c for c in sched_candidates if c and (folder / c).is_file()), None)
    if sched is None:
        raise PriorUnavailableError(
            f"{folder} has no scheduler config (scheduler/scheduler_config.json or "
            "scheduler_config.json): the noise schedule cannot be known without it"
        )
    # autoencoder
    vae_candidates = [subs.get("vae"), "vqvae", "vae"]
    vae = next((c for c in vae_candidates if c and (folder / c / "config.json").is_file()), None)
    vae_class = None
    if vae is not None:
        vae_class = _read_json(folder / vae / "config.json").get("_class_name") or (
            "VQModel" if vae == "vqvae" else "AutoencoderKL"
        )
        if vae_class not in ("VQModel", "AutoencoderKL"):
            raise PriorUnavailableError(
                f"{folder / vae}: autoencoder class {vae_class} is not supported "
                "(VQModel or AutoencoderKL)"
            )
    return _Layout(unet=unet, scheduler_file=sched, vae=vae, vae_class=vae_class)


def _load_parts(
    root: Path,
    layout: _Layout,
    *,
    repo: str | None,
    revision: str | None,
    local_only: bool,
    device: torch.device,
    dtype: torch.dtype,
    name: str,
) -> DiffusersPixelPrior | DiffusersLatentPrior:
    """Build the prior from a layout; weights from ``repo`` (hub) or ``root`` (folder)."""
    import diffusers

    source = repo if repo is not None else str(root)
    hub_kwargs: dict[str, Any] = {"low_cpu_mem_usage": False}
    if repo is not None:
        hub_kwargs.update(revision=revision, local_files_only=local_only)

    def load(cls: Any, subfolder: str | None) -> torch.nn.Module:
        kwargs = dict(hub_kwargs)
        if subfolder:
            kwargs["subfolder"] = subfolder
        module = cls.from_pretrained(source, torch_dtype=dtype, **kwargs)
        return module.to(device=device)

    scheduler_config = _read_json(root / layout.scheduler_file)
    unet = load(diffusers.UNet2DModel, layout.unet)
    if layout.vae is None:
        return DiffusersPixelPrior(unet, scheduler_config, name=name)
    vae_cls = getattr(diffusers, layout.vae_class or "VQModel")
    vae = load(vae_cls, layout.vae)
    return DiffusersLatentPrior(unet, scheduler_config, vae, name=name)


def load_from_folder(
    folder: str | os.PathLike[str],
    *,
    device: torch.device | str | None = None,
    dtype: torch.dtype | None = None,
    name: str | None = None,
) -> DiffusersPixelPrior | DiffusersLatentPrior:
    """Load a prior from a local diffusers folder (uncached; see :func:`load_prior`).

    Raises:
        PriorUnavailableError: the folder does not exist or holds no UNet/scheduler.
    """
    root = Path(folder).expanduser()
    if not root.exists():
        raise PriorUnavailableError(
            f"no folder {str(root)!r}; registered priors: {', '.join(PRIORS.names())}"
        )
    layout = _find_layout(root)
    try:
        return _load_parts(
            root,
            layout,
            repo=None,
            revision=None,
            local_only=True,
            device=_device(device),
            dtype=dtype or torch.float32,
            name=name or root.name,
        )
    except OSError as err:
        raise PriorUnavailableError(f"could not load the model in {root}: {err}") from err


# ---------------------------------------------------------------------------- the hub
def hub_offline() -> bool:
    """Whether Hugging Face hub access is switched off (``HF_HUB_OFFLINE``)."""
    if os.environ.get("HF_HUB_OFFLINE", "").strip().upper() in {"1", "ON", "YES", "TRUE"}:
        return True
    try:
        from huggingface_hub import constants
    except ImportError:  # pragma: no cover - huggingface_hub comes with diffusers
        return True
    return bool(getattr(constants, "HF_HUB_OFFLINE", False))


def _snapshot_configs(repo: str, revision: str | None, *, local_only: bool) -> Path:
    """Local folder with the repository's JSON files (configs only; weights come later)."""
    from huggingface_hub import snapshot_download

    return Path(
        snapshot_download(
            repo, revision=revision, allow_patterns=["*.json"], local_files_only=local_only
        )
    )


def hub_cached(repo: str, revision: str | None) -> bool:
    """Whether the repository's configs are in the local Hugging Face cache (no network)."""
    try:
        _snapshot_configs(repo, revision, local_only=True)
    except Exception:  # noqa: BLE001 - any failure means "not cached"
        return False
    return True


def _short(err: BaseException) -> str:
    """First line of an exception message, at most 200 characters."""
    text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return text[:200]


def _not_cached_message(repo: str, reason: str, name: str | None) -> str:
    embedded = ", ".join(PRIORS.names(with_tag="embedded"))
    what = f"the prior {name!r} (hub model {repo!r})" if name else f"the hub model {repo!r}"
    local_hint = "" if name else f" (and there is no local folder {repo!r})"
    return (
        f"{what} is not in the local Hugging Face cache and needs a download, "
        f"but {reason}{local_hint}. Download it once with network access (e.g. "
        f"`hf download {repo}`), or pick an embedded prior that works offline: {embedded}."
    )


def load_from_hub(
    repo: str,
    *,
    revision: str | None = None,
    device: torch.device | str | None = None,
    dtype: torch.dtype | None = None,
    name: str | None = None,
) -> DiffusersPixelPrior | DiffusersLatentPrior:
    """Load a prior from a Hugging Face hub repository (uncached; see :func:`load_prior`).

    Offline (``HF_HUB_OFFLINE`` set) only the local cache is used. Online, a network failure
    falls back to the cache.

    Raises:
        PriorUnavailableError: the model is not cached and cannot be downloaded, or the
            repository does not hold a supported prior.
    """
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

    local_only = hub_offline()
    try:
        root = _snapshot_configs(repo, revision, local_only=local_only)
    except (LocalEntryNotFoundError, HfHubHTTPError, OSError, ValueError) as err:
        if local_only:
            raise PriorUnavailableError(
                _not_cached_message(repo, "the hub is switched off (HF_HUB_OFFLINE is set)", name)
            ) from err
        log.warning(
            "could not reach the hub for %s (%s); trying the local cache", repo, _short(err)
        )
        local_only = True
        try:
            root = _snapshot_configs(repo, revision, local_only=True)
        except Exception as err2:  # noqa: BLE001
            raise PriorUnavailableError(
                _not_cached_message(repo, f"the hub could not be reached ({_short(err)})", name)
            ) from err2
    layout = _find_layout(root)
    try:
        return _load_parts(
            root,
            layout,
            repo=repo,
            revision=revision,
            local_only=local_only,
            device=_device(device),
            dtype=dtype or torch.float32,
            name=name or repo,
        )
    except (LocalEntryNotFoundError, HfHubHTTPError, OSError) as err:
        reason = "the hub is switched off (HF_HUB_OFFLINE is set)" if local_only else _short(err)
        raise PriorUnavailableError(
            _not_cached_message(repo, reason, name)
            + f" (loading the weights failed: {_short(err)})"
        ) from err


# ---------------------------------------------------------------------------- entry point
_CACHE: dict[tuple[str, str, str, torch.dtype], Any] = {}
_LOCK = threading.Lock()


def _device(device: torch.device | str | None) -> torch.device:
    return torch.device(device) if device is not None else torch.device("cpu")


def _resolve(spec: str | os.PathLike[str]) -> tuple[str, str]:
    """``(kind, key)`` with kind ``registered``, ``folder`` or ``hub``."""
    if isinstance(spec, os.PathLike):
        path = Path(spec).expanduser()
        if not path.is_dir():
            raise PriorUnavailableError(
                f"no folder {str(path)!r}; registered priors: {', '.join(PRIORS.names())}"
            )
        return "folder", str(path.resolve())
    if not isinstance(spec, str) or not spec.strip():
        raise PriorUnavailableError(
            f"a prior is a registered name, a hub id or a folder; got {spec!r}. "
            f"Registered priors: {', '.join(PRIORS.names())}"
        )
    text = spec.strip()
    if text in PRIORS:
        return "registered", text
    path = Path(text).expanduser()
    if path.is_dir():
        return "folder", str(path.resolve())
    if path.exists():
        raise PriorUnavailableError(
            f"{text!r} is a file; a prior is a diffusers folder (unet/ and scheduler/), a "
            f"registered name or a hub id. Registered priors: {', '.join(PRIORS.names())}"
        )
    repo = text.split("@", 1)[0]
    if _HUB_ID.fullmatch(repo) and not text.startswith((".", "/", "~")):
        return "hub", text
    if text.startswith((".", "/", "~")) or os.sep in text:
        raise PriorUnavailableError(
            f"no folder {text!r}; registered priors: {', '.join(PRIORS.names())}"
        )
    raise PriorUnavailableError(
        f"unknown prior {text!r}: not a registered name, an existing folder or a hub id "
        f"(owner/name). Registered priors: {', '.join(PRIORS.names())}"
    )


def _call_loader(loader: Any, **kwargs: Any) -> Any:
    """Call a registered loader with the keywords (``device``, ``dtype``) it accepts."""
    try:
        params = inspect.signature(loader).parameters
    except (TypeError, ValueError):
        return loader(**kwargs)
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return loader(**kwargs)
    return loader(**{k: v for k, v in kwargs.items() if k in params})


def load_prior(
    spec: str | os.PathLike[str],
    *,
    device: torch.device | str | None = None,
    dtype: torch.dtype | None = None,
) -> Any:
    """Load a diffusion prior, once per ``(spec, device, dtype)`` (later calls return the
    same object).

    Args:
        spec: a registered name (``PRIORS.names()``), a local diffusers folder, or a hub id
            ``owner/name`` (``owner/name@revision`` pins a revision).
        device: where the networks live (default CPU).
        dtype: dtype of the networks (default float32).

    Returns:
        A :class:`DiffusersPixelPrior` or :class:`DiffusersLatentPrior` (or whatever a
        registered loader returns). Treat it as shared: use :meth:`to`, which copies, rather
        than moving its modules in place.

    Raises:
        PriorUnavailableError: (a ``ValueError``) unknown name, missing folder, embedded prior
            not trained yet, or a hub model not cached while offline.

    Example:
        >>> prior = load_prior("digits")  # doctest: +SKIP
        >>> prior.shape  # doctest: +SKIP
        (1, 28, 28)
    """
    kind, key = _resolve(spec)
    dev = _device(device)
    dt = dtype or torch.float32
    cache_key = (kind, key, str(dev), dt)
    with _LOCK:
        if cache_key in _CACHE:
            return _CACHE[cache_key]
        if kind == "registered":
            prior = _call_loader(PRIORS[key].obj, device=dev, dtype=dt)
            if dt in (torch.float16, torch.bfloat16) and not isinstance(prior, NetworkPrior):
                raise PriorUnavailableError(
                    f"dtype {str(dt).removeprefix('torch.')} is for network priors (their "
                    f"weights in half precision); {key!r} is not a network: use float32"
                )
        elif kind == "folder":
            prior = load_from_folder(key, device=dev, dtype=dt)
        else:
            repo, _, revision = key.partition("@")
            prior = load_from_hub(repo, revision=revision or None, device=dev, dtype=dt)
        _CACHE[cache_key] = prior
        log.info("loaded prior %s (%s) on %s in %s", key, kind, dev, dt)
        return prior


def clear_prior_cache() -> None:
    """Forget every cached prior (tests; freeing memory)."""
    with _LOCK:
        _CACHE.clear()
