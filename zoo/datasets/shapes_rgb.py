"""Shapes in colour: the `shapes` grid (zoo/datasets/shapes.py) with an object colour and a background colour, 64×64×3.

Two more factors on dSprites' five: the object's colour (4 hues) and the background's (3 dark
ones), 737,280 × 12 = 8,847,360 combinations. A pixel is the background's colour blended with the
object's by the shape's coverage of that pixel (the grey dataset's value), channel by channel:
`background + coverage · (object − background)`, so every image is in [0, 1] per channel and the
zoo's Bernoulli likelihood applies to each channel as it does to grey pixels.

Image i is the row-major index over (shape, scale, orientation, x, y, colour, background); the
splits are a seeded permutation's first `TEST_SIZE` (test) and next `TRAIN_SIZE` (train) indices.
The shapes' coverage comes from the grey renderer (cached with its splits' own files), the colours
are applied on load. The label is the shape.
"""

from __future__ import annotations

import math
import os
import threading
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from . import Dataset, Framing, register_dataset
from . import shapes as grey
from ._idx import cache_dir

# (name, RGB in [0, 1]): bright object hues on dark backgrounds, every pair far apart in every channel sum
OBJECT_COLOURS = (("red", (0.95, 0.25, 0.20)), ("yellow", (0.95, 0.85, 0.25)), ("green", (0.30, 0.85, 0.35)),
                  ("blue", (0.35, 0.60, 1.00)))
BACKGROUND_COLOURS = (("black", (0.0, 0.0, 0.0)), ("navy", (0.08, 0.10, 0.35)), ("plum", (0.30, 0.08, 0.25)))
FACTOR_NAMES = (*grey.FACTOR_NAMES, "colour", "background")
FACTOR_SIZES = (*grey.FACTOR_SIZES, len(OBJECT_COLOURS), len(BACKGROUND_COLOURS))
GRID_SIZE = math.prod(FACTOR_SIZES)  # 8,847,360
TEST_SIZE = 10_000
TRAIN_SIZE = 30_000  # colour images take three times the memory of grey ones
SPLIT_SEED = 0


def factors_of(index) -> Tensor:
    """(N,) grid indices -> (N, 7) int64 factors, row-major over FACTOR_NAMES."""
    index = torch.as_tensor(np.asarray(index), dtype=torch.int64)
    out = []
    for size in reversed(FACTOR_SIZES):
        out.append(index % size)
        index = index // size
    return torch.stack(out[::-1], dim=1)


def paint(coverage: Tensor, colour: Tensor, background: Tensor) -> Tensor:
    """(N, H, W) coverage in [0, 1], (N,) colour and background ids -> (N, 3, H, W) float32 in [0, 1]."""
    obj = torch.tensor([c for _, c in OBJECT_COLOURS])[colour][:, :, None, None]  # (N, 3, 1, 1)
    bg = torch.tensor([c for _, c in BACKGROUND_COLOURS])[background][:, :, None, None]
    return (coverage[:, None] * (obj - bg)).add_(bg)  # in place: a training split is 1.5 GB


def render(factors: Tensor) -> Tensor:
    """(N, 7) int64 factors -> (N, 3, 64, 64) float32 images in [0, 1]."""
    factors = torch.as_tensor(factors, dtype=torch.int64)
    grey.check_factors(factors, FACTOR_SIZES)
    counts = grey.coverage(factors[:, :5]).float().div_(grey.SUPERSAMPLE ** 2)
    return paint(counts, factors[:, 5], factors[:, 6])


def split_indices(split: str) -> np.ndarray:
    order = np.random.default_rng(SPLIT_SEED).permutation(GRID_SIZE)
    return order[:TEST_SIZE] if split == "test" else order[TEST_SIZE:TEST_SIZE + TRAIN_SIZE]


def split_factors(split: str) -> Tensor:
    return factors_of(split_indices(split))


_lock = threading.RLock()
_splits: dict[str, np.ndarray] = {}


def split_coverage(split: str, rebuild: bool = False) -> np.ndarray:
    """(N, 64, 64) uint8 sample counts of `split`'s shapes, rendered once into the cache (again with `rebuild`)."""
    path = cache_dir() / "shapes" / f"rgb-coverage-{split}-v{grey.BUILD_VERSION}.npy"
    with _lock:
        if rebuild or str(path) not in _splits:
            if rebuild or not path.is_file():
                counts = grey.coverage(split_factors(split)[:, :5]).numpy()
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(f".{os.getpid()}.tmp.npy")
                np.save(tmp, counts)
                os.replace(tmp, path)
            _splits[str(path)] = np.load(path, mmap_mode="r")
        return _splits[str(path)]


def build() -> Path:
    for split in ("train", "test"):
        split_coverage(split, rebuild=True)
    return cache_dir() / "shapes"


def load(split: str) -> tuple[Tensor, Tensor]:
    """(images (N, 3, 64, 64) float32 in [0, 1], labels (N,) int64 = the shape)."""
    factors = split_factors(split)
    counts = torch.from_numpy(np.array(split_coverage(split))).float().div_(grey.SUPERSAMPLE ** 2)
    return paint(counts, factors[:, 5], factors[:, 6]), factors[:, 0].clone()


def source(split: str) -> str:
    n = TEST_SIZE if split == "test" else TRAIN_SIZE
    return (f"{n:,} images of the 8,847,360-image shapes_rgb grid (dSprites' factors × {len(OBJECT_COLOURS)} object × "
            f"{len(BACKGROUND_COLOURS)} background colours; {split} split: a permutation with seed {SPLIT_SEED}, "
            f"{'its first' if split == 'test' else 'after the test split, the next'} {n:,} indices), the zoo's "
            f"re-render (version {grey.BUILD_VERSION}, 4×4 supersampled)")


register_dataset(Dataset(
    name="shapes_rgb",
    input_shape=(3, grey.IMAGE_SIDE, grey.IMAGE_SIDE),
    label_names=grey.SHAPES,
    description=("The shapes grid in colour, 64×64×3: dSprites' factors plus an object colour "
                 f"({', '.join(n for n, _ in OBJECT_COLOURS)}) and a background colour ({', '.join(n for n, _ in BACKGROUND_COLOURS)}). "
                 f"The label is the shape. Splits: a seeded {TEST_SIZE:,} test and {TRAIN_SIZE:,} training images of the grid."),
    framing=Framing(box=2 * int(grey.HALF_SIZE), centring="box"),
    loader=load,
    source_of=source,
    factor_names=FACTOR_NAMES,
    factor_loader=split_factors,
    render=render,
    label_factor="shape",
    build=build,
))
