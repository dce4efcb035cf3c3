"""fashion.py — loads Fashion-MNIST from Debian's dataset-fashion-mnist
package (gzipped IDX files under /usr/share/datasets/fashion-mnist): 60k
train and 10k test 28x28 greyscale images, 10 classes. It only reads those
files; it never downloads and never caches elsewhere.

API: load(split) -> (images uint8 (N,28,28), labels int64 (N,)) for split
"train" or "test"; available() says whether the package is installed.
"""

import gzip
import os

import numpy as np

DIRS = ["/usr/share/datasets/fashion-mnist", "/usr/share/fashion-mnist"]
CLASSES = ["t-shirt/top", "trouser", "pullover", "dress", "coat", "sandal",
           "shirt", "sneaker", "bag", "ankle boot"]
_FILES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
          "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}


def _find(base):
    for d in DIRS:
        for suffix in (".gz", ""):
            p = os.path.join(d, base + suffix)
            if os.path.exists(p):
                return p
    return None


def available():
    return all(_find(b) for pair in _FILES.values() for b in pair)


def _read_idx(path, ndim):
    """Parses an IDX file (big-endian magic 0x00000800 | ndim, dims, uint8)."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 + 4 * ndim:
        raise ValueError("%s: truncated IDX header" % path)
    magic = int.from_bytes(raw[:4], "big")
    if magic != 0x800 | ndim:
        raise ValueError("%s: IDX magic %#x, expected %#x" % (path, magic, 0x800 | ndim))
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    n = int(np.prod(dims))
    off = 4 + 4 * ndim
    if len(raw) != off + n:
        raise ValueError("%s: %d data bytes, header says %d" % (path, len(raw) - off, n))
    return np.frombuffer(raw, np.uint8, count=n, offset=off).reshape(dims)


def load(split):
    """(images uint8 (N,28,28), labels int64 (N,)) of split "train" or "test";
    FileNotFoundError when dataset-fashion-mnist is not installed."""
    if split not in _FILES:
        raise ValueError("split must be 'train' or 'test', not %r" % split)
    img_p, lab_p = (_find(b) for b in _FILES[split])
    if not img_p or not lab_p:
        raise FileNotFoundError("Fashion-MNIST not found in %s (apt install "
                                "dataset-fashion-mnist)" % ", ".join(DIRS))
    images = _read_idx(img_p, 3)
    labels = _read_idx(lab_p, 1).astype(np.int64)
    if images.shape[0] != labels.shape[0]:
        raise ValueError("%s: %d images but %d labels" % (split, images.shape[0],
                                                          labels.shape[0]))
    return images.copy(), labels
