"""Posterior samplers, one file each. Importing this package registers all of them."""

from . import ddnm, diffpir, dps, mgps, pgdm, psld, reddiff, resample  # noqa: F401  (registration)
from .common import require_operator, run, sample

__all__ = ["run", "sample", "require_operator"]
