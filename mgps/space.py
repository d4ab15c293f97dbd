"""``mgps space deploy --repo OWNER/NAME [--dry-run]``: push the app to a Hugging Face Space.

The Space gets exactly the files it needs, declared below (:data:`SPACE_FILES`): the app, the
library modules it imports, the embedded priors it serves, the examples and the ECG windows,
with the Space's card (``README.md``, whose front matter configures it), its requirements and
the licences. No tests, no results, no training data. ``tests/test_space.py`` checks this list
against the files a launched app opens when every tab is used.

The upload goes through ``huggingface_hub.HfApi.upload_folder``, which stores binary files
through Xet/LFS (the Hub refuses plain binary blobs); files on the Space that are no longer
in the list are deleted in the same commit. This works from a checkout of the repository
(the app is not part of the installed package).
"""

from __future__ import annotations

import argparse
import fnmatch
import sys
from pathlib import Path

__all__ = ["SPACE_FILES", "DOCUMENTS", "space_files", "deploy", "add_command"]

ROOT = Path(__file__).resolve().parents[1]  # the checkout around mgps/

# Glob patterns relative to the checkout ("**" any folders); "!pattern" removes matches.
SPACE_FILES: tuple[str, ...] = (
    "README.md",  # the Space's card: its front matter configures the Space
    "requirements.txt",  # what the Space installs
    "LICENSE",
    "app.py",
    "app/**/*.py",
    "app/*.js",  # scripts the page loads (upload checks, the original upload file)
    "results/tradeoff_teaching/teaching.json",  # the trade-off tab's committed η sweep (its SW chart)
    "mgps/**/*.py",
    "!mgps/paper/*.py",  # the paper's reproduction commands (the app imports none)
    "!mgps/cli.py",  # the command line (this file too) is not the app
    "!mgps/__main__.py",
    "!mgps/arguments.py",
    "!mgps/space.py",
    "!mgps/progress.py",
    "!mgps/utils/cards.py",
    "!mgps/utils/files.py",
    "!mgps/prior_sampling.py",
    "!mgps/ecg/quality.py",
    # the embedded priors the app serves (their training logs and sample sheets stay here)
    "assets/priors/digits/model_index.json",
    "assets/priors/digits/scheduler/scheduler_config.json",
    "assets/priors/digits/unet/config.json",
    "assets/priors/digits/unet/diffusion_pytorch_model.safetensors",
    "assets/priors/fashion/model_index.json",
    "assets/priors/fashion/scheduler/scheduler_config.json",
    "assets/priors/fashion/unet/config.json",
    "assets/priors/fashion/unet/diffusion_pytorch_model.safetensors",
    "assets/priors/digits-exact/prior.json",
    "assets/priors/digits-exact/mixture.npz",
    "assets/priors/ecg/config.json",
    "assets/priors/ecg/model.safetensors",
    "assets/priors/*/README.md",  # model cards: where the weights come from, their licence
    "assets/examples/*.png",
    "assets/examples/photos/*.png",
    "assets/examples/photos/SOURCES.md",  # the photographs' sources and licences
    "assets/ecg/ecg_windows.npz",
)
# Files the Space needs that the running app never opens: the card, the requirements, the
# licences and model cards.
DOCUMENTS: tuple[str, ...] = (
    "README.md",
    "requirements.txt",
    "LICENSE",
    "assets/priors/*/README.md",
    "assets/examples/photos/SOURCES.md",
)


def _matches(path: str, pattern: str) -> bool:
    if "**/" in pattern:  # "a/**/*.py": any depth below a/, a/ itself included
        head, tail = pattern.split("**/", 1)
        return path.startswith(head) and (
            fnmatch.fnmatchcase(path[len(head) :], tail)
            or fnmatch.fnmatchcase(path[len(head) :], "*/" + tail)
        )
    return fnmatch.fnmatchcase(path, pattern) and path.count("/") == pattern.count("/")


def space_files(root: Path = ROOT) -> list[str]:
    """The files of :data:`SPACE_FILES` under ``root``, relative, sorted (later patterns
    win: ``!p`` removes, ``p`` adds back)."""
    every = sorted(
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file()
        and "__pycache__" not in p.parts
        and not any(part.startswith(".") for part in p.relative_to(root).parts)
    )
    chosen: set[str] = set()
    for pattern in SPACE_FILES:
        drop = pattern.startswith("!")
        hits = {f for f in every if _matches(f, pattern.lstrip("!"))}
        chosen = chosen - hits if drop else chosen | hits
    return sorted(chosen)


def _size(n: int) -> str:
    return f"{n / 2**20:.1f} MB" if n >= 2**20 else f"{n / 2**10:.1f} kB"


class DeployError(RuntimeError):
    """Deploying failed for a reason the user can fix (not logged in, offline, ...)."""


def deploy(repo: str, *, root: Path = ROOT, dry_run: bool = False, private: bool = False):
    """Upload :func:`space_files` to the Space ``repo`` (created if missing); with
    ``dry_run`` only print the list and the total size. Returns the list."""
    if not (root / "app.py").is_file():
        raise DeployError(f"{root} is not a checkout of the repository (no app.py): run this there")
    files = space_files(root)
    missing = [
        p for p in SPACE_FILES if not p.startswith("!") and not any(_matches(f, p) for f in files)
    ]
    if missing:
        raise DeployError("files the Space needs are missing: " + ", ".join(missing))
    total = 0
    for f in files:
        size = (root / f).stat().st_size
        total += size
        print(f"{size:>12,d}  {f}")
    print(f"{len(files)} files, {_size(total)} in all")
    if dry_run:
        return files
    if "/" not in repo:
        raise DeployError(f"--repo must be OWNER/NAME, got {repo!r}")
    from huggingface_hub import HfApi, constants
    from huggingface_hub.errors import HfHubHTTPError, LocalTokenNotFoundError, OfflineModeIsEnabled

    if constants.HF_HUB_OFFLINE:
        raise DeployError(_why(OfflineModeIsEnabled("offline")))
    api = HfApi()
    try:
        user = api.whoami()
    except (LocalTokenNotFoundError, OfflineModeIsEnabled) as err:
        raise DeployError(_why(err)) from None
    except HfHubHTTPError as err:
        raise DeployError(f"the Hub refused the token ({err}); run `hf auth login` again") from None
    except OSError as err:  # no network
        raise DeployError(f"cannot reach the Hugging Face Hub: {err}") from None
    print(f"logged in as {user.get('name', '?')}; uploading to spaces/{repo}")
    api.create_repo(repo, repo_type="space", space_sdk="gradio", exist_ok=True, private=private)
    info = api.upload_folder(
        repo_id=repo,
        repo_type="space",
        folder_path=root,
        allow_patterns=files,
        delete_patterns=["*"],  # what is no longer listed goes (never .gitattributes)
        commit_message="Deploy with `mgps space deploy`",
    )
    print(f"done: https://huggingface.co/spaces/{repo} ({getattr(info, 'commit_url', info)})")
    return files


def _why(err: Exception) -> str:
    from huggingface_hub.errors import OfflineModeIsEnabled

    if isinstance(err, OfflineModeIsEnabled):
        return "HF_HUB_OFFLINE is set: unset it to deploy (the upload needs the network)"
    return "not logged in to the Hugging Face Hub: run `hf auth login` (or set HF_TOKEN) first"


def cmd_space(args: argparse.Namespace) -> int:
    try:
        deploy(args.repo, dry_run=args.dry_run, private=args.private)
    except DeployError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


def add_command(sub: argparse._SubParsersAction) -> None:
    """``mgps space deploy``."""
    space = sub.add_parser("space", help="the Hugging Face Space: deploy the app")
    actions = space.add_subparsers(dest="action", required=True)
    p = actions.add_parser(
        "deploy",
        help="upload the files the Space needs (--dry-run: list them)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--repo", required=True, help="the Space, OWNER/NAME")
    p.add_argument("--dry-run", action="store_true", help="print the files and their size only")
    p.add_argument("--private", action="store_true", help="create the Space private")
    p.set_defaults(func=cmd_space)
