import numpy as np
import pytest
import torch

from mgps.metrics import random_directions, sliced_wasserstein


def test_sliced_wasserstein_basics():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(500, 3, generator=g, dtype=torch.float64)
    assert sliced_wasserstein(x, x) == 0.0
    shifted = x + torch.tensor([2.0, 0.0, 0.0], dtype=torch.float64)
    d = random_directions(3, 100, seed=0)
    expected = float(np.mean(np.abs(d[:, 0]) * 2.0))  # a shift moves every projection by <θ, shift>
    assert abs(sliced_wasserstein(x, shifted, directions=d) - expected) < 1e-9
    assert sliced_wasserstein(x, shifted, seed=1) == sliced_wasserstein(x, shifted, seed=1)


def test_sliced_wasserstein_errors():
    with pytest.raises(ValueError, match="dimensions differ"):
        sliced_wasserstein(np.zeros((3, 2)), np.zeros((3, 4)))
    with pytest.raises(ValueError, match="NaN"):
        sliced_wasserstein(np.full((3, 2), np.nan), np.zeros((3, 2)))
