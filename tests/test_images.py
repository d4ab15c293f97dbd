"""Image conversions (mgps.utils.images) and the image metrics (PSNR, SSIM)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from PIL import Image

from mgps import metrics
from mgps.utils import images as im
from mgps.utils.images import (
    ImageLoadError,
    from_uint8_array,
    image_grid,
    load_image,
    load_mask,
    save_image,
    to_pil,
    to_uint8_array,
)

W, H = 37, 23  # odd, non-square


def _gradient_rgb(w: int = W, h: int = H) -> Image.Image:
    xs = np.linspace(0, 255, w, dtype=np.float64)[None, :, None]
    ys = np.linspace(0, 255, h, dtype=np.float64)[:, None, None]
    arr = np.concatenate([xs + 0 * ys, ys + 0 * xs, 255 - xs + 0 * ys], axis=2)
    return Image.fromarray(arr.round().astype(np.uint8))


def _mode_image(mode: str) -> Image.Image:
    rgb = _gradient_rgb()
    if mode in ("RGB", "L", "CMYK", "YCbCr", "HSV", "LA", "RGBA", "1"):
        return rgb.convert(mode)
    if mode == "P":
        return rgb.convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    if mode == "PA":
        return rgb.convert("RGBA").convert("PA")
    if mode == "I;16":
        arr = (np.asarray(rgb.convert("L"), dtype=np.uint16) * 257).astype(np.uint16)
        return Image.fromarray(arr)  # 16-bit grayscale
    if mode == "I":
        return Image.fromarray(np.asarray(rgb.convert("L"), dtype=np.int32) * 200)
    if mode == "F":
        return Image.fromarray(np.asarray(rgb.convert("L"), dtype=np.float32) / 255.0)
    if mode == "LAB":
        return Image.new("LAB", (W, H), (128, 128, 128))
    raise AssertionError(mode)


MODES = ["1", "L", "LA", "P", "PA", "RGB", "RGBA", "I;16", "I", "F", "CMYK", "YCbCr", "HSV", "LAB"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("channels", [1, 3])
def test_every_pil_mode_loads(mode, channels):
    img = _mode_image(mode)
    assert img.mode == mode
    x, notes = load_image(img, size=(16, 16), channels=channels)
    assert x.shape == (1, channels, 16, 16) and x.dtype == torch.float32
    assert x.min() >= -1 and x.max() <= 1 and torch.isfinite(x).all()
    assert any("cropped 37×23 to 23×23" in n for n in notes), notes
    assert any("resized 23×23 to 16×16" in n for n in notes), notes


@pytest.mark.parametrize("mode", ["1", "L", "LA", "P", "RGB", "RGBA", "I;16", "I"])
def test_png_files_of_each_mode(tmp_path, mode):
    path = tmp_path / f"img_{mode.replace(';', '_')}.png"
    _mode_image(mode).save(path)
    x, _ = load_image(path, channels=3)
    assert x.shape == (1, 3, H, W)


def test_values_of_conversions():
    white = Image.new("L", (5, 4), 255)
    x, notes = load_image(white, channels=1)
    assert torch.all(x == 1.0) and notes == []
    x, notes = load_image(white, channels=3)
    assert x.shape == (1, 3, 4, 5) and torch.all(x == 1.0) and notes == ["converted L → RGB"]
    red = Image.new("RGB", (4, 4), (255, 0, 0))
    x, _ = load_image(red)
    assert torch.equal(x[0, :, 0, 0], torch.tensor([1.0, -1.0, -1.0]))
    x, notes = load_image(red, channels=1)
    assert x[0, 0, 0, 0] == pytest.approx(76 / 127.5 - 1)  # ITU-R 601 luma of red
    # transparency is composited on white
    clear = Image.new("RGBA", (4, 4), (0, 0, 0, 0))
    x, notes = load_image(clear)
    assert torch.all(x == 1.0) and any("on white" in n for n in notes)
    half = Image.new("RGBA", (4, 4), (0, 0, 0, 128))
    x, _ = load_image(half, channels=1)
    assert x[0, 0, 0, 0] == pytest.approx(127 / 127.5 - 1, abs=2 / 255)
    opaque = Image.new("RGBA", (4, 4), (0, 0, 0, 255))
    x, notes = load_image(opaque)
    assert torch.all(x == -1.0) and not any("white" in n for n in notes)
    # 16-bit and 1-bit
    x, _ = load_image(Image.fromarray(np.full((3, 3), 65535, np.uint16)), channels=1)
    assert torch.all(x == 1.0)
    x, notes = load_image(Image.new("1", (3, 3), 1), channels=1)
    assert torch.all(x == 1.0) and any("1-bit" in n for n in notes)


def test_centre_crop_keeps_the_middle():
    arr = np.zeros((200, 300), np.uint8)
    arr[:, 50:250] = 255  # white centre square, black side bands
    x, notes = load_image(arr, size=(28, 28), channels=1)
    assert notes == ["centre-cropped 300×200 to 200×200", "resized 200×200 to 28×28"]
    assert torch.allclose(x, torch.ones_like(x), atol=1e-6)
    tall = np.zeros((300, 100), np.uint8)
    tall[100:200] = 255
    x, notes = load_image(tall, size=14, channels=1)
    assert notes[0] == "centre-cropped 100×300 to 100×100" and torch.all(x > 0.99)
    x, notes = load_image(arr, size=(10, 30), channels=1)  # wide target: crop height
    assert x.shape == (1, 1, 10, 30) and notes[0] == "centre-cropped 300×200 to 300×100"


def test_enlarging_and_no_resize():
    x, notes = load_image(np.zeros((5, 7), np.uint8), size=(20, 28), channels=1)
    assert x.shape == (1, 1, 20, 28) and notes == ["resized 7×5 to 28×20"]
    x, notes = load_image(np.zeros((5, 7), np.uint8), size=(5, 7), channels=1)
    assert notes == []


def test_numpy_inputs():
    assert load_image(np.zeros((4, 6, 3), np.uint8)).image.shape == (1, 3, 4, 6)
    assert load_image(np.zeros((4, 6, 4), np.uint8)).image.shape == (1, 3, 4, 6)
    assert load_image(np.zeros((4, 6, 1), np.uint8), channels=1).image.shape == (1, 1, 4, 6)
    x, _ = load_image(np.ones((4, 6), bool), channels=1)
    assert torch.all(x == 1)
    x, _ = load_image(np.full((4, 6), 0.5, np.float32), channels=1)
    assert torch.allclose(x, torch.full_like(x, 128 / 127.5 - 1), atol=1e-6)
    x, notes = load_image(np.full((2, 2), 65535, np.uint16), channels=1)
    assert torch.all(x == 1) and any("16-bit" in n for n in notes)
    with pytest.raises(ImageLoadError, match=r"in \[0, 1\]"):
        load_image(np.full((4, 4), 255.0))
    with pytest.raises(ImageLoadError, match="NaN"):
        load_image(np.full((4, 4), np.nan))
    with pytest.raises(ImageLoadError, match="shape"):
        load_image(np.zeros((4, 4, 5), np.uint8))
    with pytest.raises(ImageLoadError, match="dtype"):
        load_image(np.full((4, 4), -3, np.int64))


def test_tensor_round_trip(tmp_path):
    g = torch.Generator().manual_seed(0)
    arr = torch.randint(0, 256, (9, 13, 3), generator=g, dtype=torch.uint8).numpy()
    x = from_uint8_array(arr)
    assert x.shape == (1, 3, 9, 13) and x.min() >= -1 and x.max() <= 1
    assert np.array_equal(to_uint8_array(x), arr)
    path = save_image(x, tmp_path / "sub" / "x.png")
    back, notes = load_image(path)
    assert torch.equal(back, x) and notes == []  # PNG is lossless
    assert torch.equal(load_image(x[0]).image, x)  # tensors are accepted too
    assert torch.equal(load_image(to_pil(x)).image, x)


def test_to_uint8_array_and_to_pil():
    x = torch.tensor([-2.0, -1.0, 0.0, 1.0, 3.0]).reshape(1, 1, 1, 5)
    assert to_uint8_array(x).tolist() == [[0, 0, 128, 255, 255]]  # clamped
    assert to_pil(x).mode == "L" and to_pil(torch.zeros(3, 2, 2)).mode == "RGB"
    assert to_uint8_array(torch.zeros(2, 3, 4, 5)).shape == (2, 4, 5, 3)
    with pytest.raises(ValueError, match="batch of 2"):
        to_pil(torch.zeros(2, 3, 4, 4))
    with pytest.raises(ValueError, match="C = 1 or 3"):
        to_pil(torch.zeros(2, 4, 4))
    with pytest.raises(ValueError, match="NaN"):
        to_uint8_array(torch.full((1, 2, 2), float("nan")))


def test_save_image_checks_and_grids(tmp_path):
    with pytest.raises(ValueError, match=r"\.png"):
        save_image(torch.zeros(1, 4, 4), tmp_path / "x.jpg")
    path = save_image(torch.zeros(5, 1, 4, 4), tmp_path / "grid.png")
    with Image.open(path) as img:
        assert img.format == "PNG" and img.size == (3 * 6 + 2, 2 * 6 + 2)  # 3 per row


def test_image_grid():
    imgs = torch.zeros(5, 3, 8, 10)
    grid = image_grid(imgs, nrow=3, padding=2)
    assert grid.shape == (1, 3, 2 * 10 + 2, 3 * 12 + 2)
    assert grid[0, :, 0, 0].tolist() == [1.0, 1.0, 1.0] and grid[0, 0, 2, 2] == 0
    assert grid[0, 0, -3, -3] == 1.0  # the empty sixth cell is padding
    mixed = image_grid([torch.zeros(1, 4, 4), -torch.ones(1, 3, 4, 4)], nrow=2, padding=0)
    assert mixed.shape == (1, 3, 4, 8)
    with pytest.raises(ValueError, match="one size"):
        image_grid([torch.zeros(1, 4, 4), torch.zeros(1, 5, 4)])
    with pytest.raises(ValueError, match="at least one"):
        image_grid([])


def test_file_errors(tmp_path, monkeypatch):
    with pytest.raises(ImageLoadError, match="no such file"):
        load_image(tmp_path / "missing.png")
    with pytest.raises(ImageLoadError, match="folder"):
        load_image(tmp_path)
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(ImageLoadError, match="empty file"):
        load_image(tmp_path / "empty.png")
    (tmp_path / "notes.txt").write_text("not an image")
    with pytest.raises(ImageLoadError, match="not an image"):
        load_image(tmp_path / "notes.txt")
    _gradient_rgb(64, 64).save(tmp_path / "full.png")
    data = (tmp_path / "full.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageLoadError, match="decode|read"):
        load_image(tmp_path / "cut.png")
    with pytest.raises(ImageLoadError, match="empty"):
        load_image(Image.new("L", (0, 3)))
    with pytest.raises(ImageLoadError, match="empty"):
        load_image(np.zeros((0, 4), np.uint8))
    with pytest.raises(ImageLoadError, match="megapixels"):
        load_image(Image.new("1", (10_000, 5_001)))
    monkeypatch.setattr(im, "MAX_PIXELS", 100)
    with pytest.raises(ImageLoadError, match="megapixels; the limit"):
        load_image(tmp_path / "full.png")
    with pytest.raises(ImageLoadError, match="expected a file path"):
        load_image(12)
    assert issubclass(ImageLoadError, ValueError)


def test_bad_arguments():
    img = Image.new("L", (4, 4))
    with pytest.raises(ValueError, match="channels must be 1 or 3"):
        load_image(img, channels=2)
    with pytest.raises(ValueError, match="positive"):
        load_image(img, size=0)
    with pytest.raises(ValueError, match=r"\(H, W\)"):
        load_image(img, size="big")


def test_exif_orientation_and_frames(tmp_path):
    img = _gradient_rgb(30, 20)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    img.save(tmp_path / "rot.jpg", exif=exif.tobytes())
    x, notes = load_image(tmp_path / "rot.jpg")
    assert x.shape == (1, 3, 30, 20) and any("EXIF" in n for n in notes)
    frames = [Image.new("L", (6, 6), 0), Image.new("L", (6, 6), 255)]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:])
    x, notes = load_image(tmp_path / "anim.gif", channels=1)
    assert torch.all(x == -1) and any("first of 2 frames" in n for n in notes)
    Image.new("CMYK", (6, 4), (0, 0, 0, 0)).save(tmp_path / "c.jpg")
    x, notes = load_image(tmp_path / "c.jpg")
    assert x.shape == (1, 3, 4, 6) and x.min() > 0.9 and any("CMYK" in n for n in notes)


# ---------------------------------------------------------------------------- masks
def test_mask_from_brush_layer(tmp_path):
    layer = np.zeros((20, 30, 4), np.uint8)  # transparent layer, like Gradio's ImageEditor
    layer[5:10, 10:20] = (0, 0, 0, 255)  # a black stroke (its colour does not matter)
    Image.fromarray(layer).save(tmp_path / "layer.png")
    mask, notes = load_mask(tmp_path / "layer.png", drawn_means="missing")
    assert mask.dtype == torch.bool and mask.shape == (20, 30)
    assert not mask[5:10, 10:20].any() and mask.sum() == 600 - 50  # strokes are missing
    assert any("transparency" in n for n in notes)
    observed, _ = load_mask(tmp_path / "layer.png")  # default: opaque = observed
    assert torch.equal(observed, ~mask)


def test_mask_from_black_and_white(tmp_path):
    arr = np.zeros((40, 40), np.uint8)
    arr[:, 20:] = 255  # white right half
    Image.fromarray(arr).convert("RGB").save(tmp_path / "m.png")
    mask, notes = load_mask(tmp_path / "m.png", size=(8, 8))  # white = observed
    assert mask[:, 4:].all() and not mask[:, :4].any()
    assert notes == ["resized 40×40 to 8×8"]
    holes, _ = load_mask(tmp_path / "m.png", size=(8, 8), drawn_means="missing")
    assert torch.equal(holes, ~mask)
    mask, _ = load_mask(arr > 0)
    assert mask[:, 20:].all() and not mask[:, :20].any()
    opaque = np.dstack([arr, arr, arr, np.full_like(arr, 255)])  # fully opaque: use the luma
    assert torch.equal(load_mask(opaque).mask, load_mask(arr).mask)
    _, notes = load_mask(np.ones((4, 4), bool))
    assert notes == ["the mask marks no pixel as missing"]
    _, notes = load_mask(np.zeros((4, 4), np.uint8))
    assert notes == ["the mask marks every pixel as missing"]


def test_mask_aligns_with_image_crop():
    arr = np.zeros((20, 60), np.uint8)
    arr[:, 30:] = 255  # right half white; the centre crop keeps columns 20..39
    mask, notes = load_mask(arr, size=(10, 10))
    assert notes[0] == "centre-cropped 60×20 to 20×20"
    assert mask[:, 5:].all() and not mask[:, :5].any()


def test_mask_errors(tmp_path):
    with pytest.raises(ValueError, match="drawn_means"):
        load_mask(np.zeros((4, 4), np.uint8), drawn_means="white")
    with pytest.raises(ImageLoadError, match="no such file"):
        load_mask(tmp_path / "nope.png")
    (tmp_path / "bad.png").write_text("x")
    with pytest.raises(ImageLoadError, match="not an image"):
        load_mask(tmp_path / "bad.png")


# ---------------------------------------------------------------------------- metrics
def test_psnr_values():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(3, 3, 8, 8, generator=g) * 2 - 1
    assert torch.isinf(metrics.psnr(x, x)).all()
    y = x + 0.1  # MSE 0.01 on [-1, 1] == 0.0025 on [0, 1]
    expected = 10 * math.log10(4 / 0.01)
    assert metrics.psnr(y, x).shape == (3,)
    torch.testing.assert_close(metrics.psnr(y, x), torch.full((3,), expected, dtype=torch.float64))
    on01 = metrics.psnr((y + 1) / 2, (x + 1) / 2, data_range=1.0)
    torch.testing.assert_close(on01, metrics.psnr(y, x))
    assert metrics.psnr(y[0], x[0]).shape == (1,)
    assert metrics.psnr(y, x[:1]).shape == (3,)  # the reference broadcasts
    with pytest.raises(ValueError, match="shapes differ"):
        metrics.psnr(x, x[:, :1])


def test_ssim_values():
    g = torch.Generator().manual_seed(1)
    x = torch.rand(2, 3, 20, 24, generator=g) * 2 - 1
    torch.testing.assert_close(metrics.ssim(x, x), torch.ones(2, dtype=torch.float64))
    # constant images: SSIM = (2ab + C1) / (a² + b² + C1) on [0, 1]
    a, b = 0.2, 0.7
    s = metrics.ssim(torch.full((1, 1, 16, 16), 2 * a - 1), torch.full((1, 1, 16, 16), 2 * b - 1))
    assert s.item() == pytest.approx((2 * a * b + 1e-4) / (a * a + b * b + 1e-4), rel=1e-6)
    noisy = (x + 0.3 * torch.randn(x.shape, generator=g)).clamp(-1, 1)
    s = metrics.ssim(noisy, x)
    assert s.shape == (2,) and (s < 0.9).all() and (s > 0).all()
    small = torch.rand(1, 1, 5, 7, generator=g)  # smaller than the 11×11 window
    assert metrics.ssim(small, small).item() == pytest.approx(1.0)
    assert torch.isfinite(metrics.ssim(small, small.flip(-1))).all()
    tiny = torch.rand(1, 3, 1, 1, generator=g)
    assert metrics.ssim(tiny, tiny).item() == pytest.approx(1.0)


def test_ssim_and_psnr_match_skimage():
    skm = pytest.importorskip("skimage.metrics")
    g = torch.Generator().manual_seed(2)
    ref = torch.rand(1, 3, 32, 29, generator=g) * 2 - 1
    x = (ref + 0.2 * torch.randn(ref.shape, generator=g)).clamp(-1, 1)
    a, b = ((t[0].double().numpy() + 1) / 2 for t in (x, ref))
    expected = skm.structural_similarity(
        a, b, data_range=1.0, channel_axis=0, gaussian_weights=True, sigma=1.5,
        use_sample_covariance=False,
    )  # fmt: skip
    assert metrics.ssim(x, ref).item() == pytest.approx(expected, abs=1e-6)
    assert metrics.psnr(x, ref).item() == pytest.approx(
        skm.peak_signal_noise_ratio(b, a, data_range=1.0), abs=1e-6
    )
