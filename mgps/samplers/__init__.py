"""Posterior samplers, one file each. Importing this package registers all of them."""

from . import (  # noqa: F401  (registration)
    daps,
    dcps,
    ddnm,
    diffpir,
    dps,
    mgps,
    mgps_jf,
    pgdm,
    pnpdm,
    psld,
    reddiff,
    resample,
)
from .common import initial_noise, require_operator, run, sample

__all__ = ["run", "sample", "require_operator", "initial_noise"]
