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


def test_shipped_digit_classifier_labels_digits_and_rejects_noise_and_noisy_digits():
    from mgps.paper.classifier import (
        JUNK,
        digit_labels,
        load_classifier,
        predicted_labels,
        right_label,
    )
    from mgps.paper.exact_table import held_out_digit_labels, held_out_digits

    model, card = load_classifier("digits")
    digits, labels = held_out_digits(200, 300), held_out_digit_labels(200, 300)
    assert labels.shape == (200,) and set(labels.tolist()) == set(range(10))
    assert right_label(model, digits, labels).mean() > 0.93  # card: 96.8 % on the whole test split
    # a digit restored as another digit is scored wrong; noise is junk
    assert right_label(model, digits, (labels + 1) % 10).mean() < 0.05
    noise = torch.randn(50, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    assert (predicted_labels(model, noise) == JUNK).float().mean() > 0.9
    assert right_label(model, noise, labels[:50]).mean() < 0.3  # right only by chance (1 in 10)
    # a digit under visible pixel noise is junk (not a clean digit) yet still shows its digit;
    # under faint noise it is neither junk nor mislabelled
    noisy = digits + 0.2 * torch.randn(digits.shape, generator=torch.Generator().manual_seed(1))
    assert (predicted_labels(model, noisy) == JUNK).float().mean() > 0.8
    assert (digit_labels(model, noisy) == labels).float().mean() > 0.9
    assert right_label(model, noisy, labels).mean() > 0.9
    faint = digits + 0.03 * torch.randn(digits.shape, generator=torch.Generator().manual_seed(2))
    assert (predicted_labels(model, faint) == labels).float().mean() > 0.9
    assert (
        "corrupted" in card["junk_class"]
        and card["held_out_corrupted_test_images_recognised_as_junk"] > 0.9
    )
    with pytest.raises(FileNotFoundError, match="prior_quality.py --data nothing"):
        load_classifier("nothing")
