"""Where the embedded assets are (priors, classifiers, data, examples).

In a checkout they are the repository's ``assets/`` folder, beside the ``mgps`` package; an
installed wheel carries the same folder as ``mgps/assets`` (``pyproject.toml`` maps it).
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["ASSETS_DIR", "assets_dir"]

_PACKAGE = Path(__file__).resolve().parents[1]


def assets_dir() -> Path:
    """``mgps/assets`` in an installed wheel, else ``assets/`` of the checkout around ``mgps``."""
    installed = _PACKAGE / "assets"
    return installed if installed.is_dir() else _PACKAGE.parent / "assets"


ASSETS_DIR = assets_dir()
