"""Shared fixtures. Tests run offline, on a CPU, with one torch thread."""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pytest  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(1)


@pytest.fixture
def rng() -> torch.Generator:
    return torch.Generator().manual_seed(0)


@pytest.fixture(scope="session")
def small_gmm_instance():
    """A 10-dimensional 25-component mixture observed through 3 random projections."""
    from mgps.benchmarks.gmm import make_instance

    return make_instance(dim=10, obs_dim=3, sigma_y=0.5, seed=0)
