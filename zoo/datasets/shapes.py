"""Shapes: dSprites' factor grid, re-rendered on demand, 64×64 grey, light on dark.

dSprites (Matthey, Higgins, Hassabis & Lerchner 2017, https://github.com/deepmind/dsprites-dataset)
is every combination of five generative factors:

    shape        3 values: square, ellipse, heart            (the label)
    scale        6 values, 0.5 to 1
    orientation 40 values, 0 to 2π (both ends included, as dSprites' linspace)
    x, y        32 values each, 0 to 1 (x runs left to right, y top to bottom)

737,280 images, image i being the grid's row-major index over (shape, scale, orientation, x, y),
as in dSprites' own file. Its renderer was never released, so these pixels are an **approximate
re-render**, not dSprites' own: the same grid drawn by `render` below (a square, a 2:1 ellipse and
a heart of half-size 10·scale pixels, centred between pixels 14 and 50), anti-aliased by 4×4
supersampling (each pixel is the fraction of its 16 sample points inside the shape, so a value is a
multiple of 1/16) where dSprites' pixels are binary. Deterministic: the same factors give the same
pixels on every machine (exact arithmetic on the sample grid; see `render`).

When the original `dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz` lies in `ZOO_DATA_DIR` and its MD5
is dSprites' (`DSPRITES_MD5`), its pixels are used instead (all of it is read into memory, 3 GB).

The splits are a seeded subset of the grid the CPU can afford: a permutation (seed `SPLIT_SEED`) of
the 737,280 indices, whose first `TEST_SIZE` are the test split and next `TRAIN_SIZE` the training
split (disjoint). They are rendered on first use into `cache_dir()/shapes/` (`python -m zoo
build-dataset shapes`). The factors of every image come with it (`Dataset.factors`), and
`Dataset.render` draws any factors, e.g. a test image's under another shape (the true label swap).
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import threading
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from . import Dataset, Framing, register_dataset
from ._idx import cache_dir

log = logging.getLogger(__name__)

IMAGE_SIDE = 64
SHAPES = ("square", "ellipse", "heart")
FACTOR_NAMES = ("shape", "scale", "orientation", "x", "y")
FACTOR_SIZES = (3, 6, 40, 32, 32)
GRID_SIZE = math.prod(FACTOR_SIZES)  # 737,280
SCALES = np.linspace(0.5, 1.0, 6)
ORIENTATIONS = np.linspace(0.0, 2 * np.pi, 40)  # dSprites' values: 0 and 2π are both in the grid
POSITIONS = np.linspace(0.0, 1.0, 32)

HALF_SIZE = 10.0  # pixels: the shapes' half-size at scale 1 (a square of side 20)
CENTRE_RANGE = (14.0, 50.0)  # pixels: where x = 0 and x = 1 put the shape's centre (the same for y)
SUPERSAMPLE = 4  # sample points per pixel side: values are multiples of 1/16
WINDOW = 32  # pixels: every shape at every orientation fits in the WINDOW × WINDOW square around its centre (±14.2)

TEST_SIZE = 10_000  # MIG takes 10,000 samples, as disentanglement_lib's
TRAIN_SIZE = 50_000
SPLIT_SEED = 0
BUILD_VERSION = 1  # bump when the rendering changes: a cache built by another version is rebuilt

DSPRITES_FILE = "dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz"
DSPRITES_MD5 = "7da33b31b13a06f4b04a70402ce90c2e"


# ---------------------------------------------------------------------------------------------
# Factors and indices


def factors_of(index: np.ndarray | Tensor) -> Tensor:
    """(N,) grid indices -> (N, 5) int64 factors (shape, scale, orientation, x, y), row-major as dSprites."""
    index = torch.as_tensor(np.asarray(index), dtype=torch.int64)
    out = []
    for size in reversed(FACTOR_SIZES):
        out.append(index % size)
        index = index // size
    return torch.stack(out[::-1], dim=1)


def index_of(factors: Tensor) -> Tensor:
    """(N, 5) factors -> (N,) grid indices (the inverse of `factors_of`)."""
    factors = torch.as_tensor(factors, dtype=torch.int64)
    check_factors(factors, FACTOR_SIZES)
    index = torch.zeros(len(factors), dtype=torch.int64)
    for k, size in enumerate(FACTOR_SIZES):
        index = index * size + factors[:, k]
    return index


def check_factors(factors: Tensor, sizes: tuple[int, ...]) -> None:
    if factors.ndim != 2 or factors.shape[1] != len(sizes):
        raise ValueError(f"factors must be (N, {len(sizes)}) int64, got {tuple(factors.shape)}")
    if len(factors) and ((factors < 0).any() or (factors >= torch.tensor(sizes)).any()):
        raise ValueError(f"factors out of range: each column k must lie in [0, {list(sizes)}[k])")


def sample_factors(n: int, generator: np.random.Generator, sizes: tuple[int, ...] = FACTOR_SIZES) -> Tensor:
    """(n, len(sizes)) int64 factors drawn uniformly from the grid."""
    return torch.from_numpy(np.stack([generator.integers(0, s, n) for s in sizes], axis=1)).long()


# ---------------------------------------------------------------------------------------------
# Rendering


def _sample_offsets() -> Tensor:
    """(WINDOW·S, ) sample coordinates inside the window, in pixels from its top-left corner."""
    return (torch.arange(WINDOW * SUPERSAMPLE, dtype=torch.float32) + 0.5) / SUPERSAMPLE


def coverage(factors: Tensor, batch: int = 512) -> Tensor:
    """(N, 5) factors -> (N, 64, 64) uint8: how many of each pixel's 16 sample points lie inside the shape.

    The shape's centre is snapped to the sample grid (a multiple of 1/4 pixel) and its rotation's
    cosine and sine are computed once per orientation by numpy, so every sample's test is the same few
    IEEE float32 operations on every machine (one torch kernel each, nothing fused): the counts are
    reproducible, not merely close. Only a WINDOW × WINDOW square around each centre is sampled."""
    factors = torch.as_tensor(factors, dtype=torch.int64)
    check_factors(factors, FACTOR_SIZES)
    out = torch.zeros(len(factors), IMAGE_SIDE, IMAGE_SIDE, dtype=torch.uint8)
    cos = torch.tensor(np.cos(ORIENTATIONS), dtype=torch.float32)
    sin = torch.tensor(np.sin(ORIENTATIONS), dtype=torch.float32)
    low, high = CENTRE_RANGE
    centres = torch.tensor(np.round((low + POSITIONS * (high - low)) * SUPERSAMPLE) / SUPERSAMPLE, dtype=torch.float32)
    offsets = _sample_offsets()
    s = WINDOW * SUPERSAMPLE
    pad = WINDOW  # the canvas is padded so a window near the edge never leaves it
    for start in range(0, len(factors), batch):
        f = factors[start:start + batch]
        b = len(f)
        cx, cy = centres[f[:, 3]], centres[f[:, 4]]  # (B,) pixels
        left, top = torch.floor(cx) - WINDOW // 2, torch.floor(cy) - WINDOW // 2  # the window's corner, whole pixels
        dx = (left[:, None] + offsets[None, :] - cx[:, None])[:, None, :]  # (B, 1, S) from the centre, right
        dy = (top[:, None] + offsets[None, :] - cy[:, None])[:, :, None]  # (B, S, 1) from the centre, down
        radius = (HALF_SIZE * torch.tensor(SCALES, dtype=torch.float32)[f[:, 1]])[:, None, None]  # (B, 1, 1)
        c, sn = cos[f[:, 2]][:, None, None], sin[f[:, 2]][:, None, None]
        # Rotate the sample points by −θ (the shape by +θ, counter-clockwise on screen) into the shape's frame.
        u = (c * dx - sn * dy) / radius  # (B, S, S), right
        v = (sn * dx + c * dy) / radius  # (B, S, S), down
        inside = torch.zeros(b, s, s, dtype=torch.bool)
        shape = f[:, 0]
        for k, test in enumerate((_square, _ellipse, _heart)):
            rows = torch.nonzero(shape == k).flatten()
            if len(rows):
                inside[rows] = test(u[rows], v[rows])
        counts = inside.view(b, WINDOW, SUPERSAMPLE, WINDOW, SUPERSAMPLE).sum(dim=(2, 4), dtype=torch.int32)  # (B, W, W)
        canvas = torch.zeros(b, IMAGE_SIDE + 2 * pad, IMAGE_SIDE + 2 * pad, dtype=torch.uint8)
        rows = (top.long() + pad)[:, None] + torch.arange(WINDOW)[None, :]  # (B, W)
        cols = (left.long() + pad)[:, None] + torch.arange(WINDOW)[None, :]
        canvas[torch.arange(b)[:, None, None], rows[:, :, None], cols[:, None, :]] = counts.to(torch.uint8)
        out[start:start + b] = canvas[:, pad:pad + IMAGE_SIDE, pad:pad + IMAGE_SIDE]
    return out


def _square(u: Tensor, v: Tensor) -> Tensor:
    return (u.abs() <= 1) & (v.abs() <= 1)


def _ellipse(u: Tensor, v: Tensor) -> Tensor:
    return u * u + 4 * v * v <= 1  # semi-axes 1 and 1/2


def _heart(u: Tensor, v: Tensor) -> Tensor:
    # The quartic heart (x² + y² − 1)³ − x²y³ ≤ 0 (y up), spanning x in ±1.14 and y from −1 to 1.25:
    # scaled by 1.2 and shifted so it spans about ±0.95 around the centre, point down.
    x, y = 1.2 * u, -1.2 * v + 0.12
    r = x * x + y * y - 1
    return r * r * r - x * x * y * y * y <= 0


def render(factors: Tensor) -> Tensor:
    """(N, 5) int64 factors -> (N, 1, 64, 64) float32 images in [0, 1] (dSprites' own pixels when supplied)."""
    original = _dsprites_images()
    if original is not None:
        return torch.from_numpy(original[index_of(factors).numpy()]).float()[:, None]
    return coverage(factors).float().div_(SUPERSAMPLE * SUPERSAMPLE)[:, None]


# ---------------------------------------------------------------------------------------------
# dSprites' own file, when supplied


def _md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


_lock = threading.RLock()
_original: dict[str, np.ndarray | None] = {}


def dsprites_path() -> Path | None:
    """`ZOO_DATA_DIR`'s dSprites file, when it is there and its MD5 is dSprites'; else None (logged)."""
    folder = os.environ.get("ZOO_DATA_DIR")
    if not folder:
        return None
    path = Path(folder) / DSPRITES_FILE
    if not path.is_file():
        return None
    digest = _md5(path)
    if digest != DSPRITES_MD5:
        log.warning("%s has MD5 %s, not dSprites' %s: using the re-render instead", path, digest, DSPRITES_MD5)
        return None
    return path


def _dsprites_images() -> np.ndarray | None:
    """dSprites' (737280, 64, 64) uint8 images when supplied (read once), else None."""
    with _lock:
        key = os.environ.get("ZOO_DATA_DIR", "")
        if key not in _original:
            path = dsprites_path()
            _original[key] = None if path is None else np.load(path, encoding="latin1", allow_pickle=False)["imgs"]
        return _original[key]


# ---------------------------------------------------------------------------------------------
# Splits, cached


def split_indices(split: str) -> np.ndarray:
    """The grid indices of `split`: a seeded permutation's first TEST_SIZE (test) or next TRAIN_SIZE (train)."""
    order = np.random.default_rng(SPLIT_SEED).permutation(GRID_SIZE)
    return order[:TEST_SIZE] if split == "test" else order[TEST_SIZE:TEST_SIZE + TRAIN_SIZE]


def dataset_dir() -> Path:
    return cache_dir() / "shapes"


_splits: dict[tuple[str, str], np.ndarray] = {}


def split_coverage(split: str, rebuild: bool = False) -> np.ndarray:
    """(N, 64, 64) uint8 sample counts of `split`, rendered once into the cache (`coverage-<split>-v<version>.npy`);
    `rebuild` renders it again (written aside, then renamed over the old file)."""
    folder = dataset_dir()
    path = folder / f"coverage-{split}-v{BUILD_VERSION}.npy"
    with _lock:
        if rebuild or (str(path), split) not in _splits:
            if rebuild or not path.is_file():
                log.info("rendering the shapes %s split into %s (once)", split, path)
                counts = coverage(factors_of(split_indices(split))).numpy()
                folder.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(f".{os.getpid()}.tmp.npy")
                np.save(tmp, counts)
                os.replace(tmp, path)
            _splits[(str(path), split)] = np.load(path, mmap_mode="r")
        return _splits[(str(path), split)]


def build() -> Path:
    """Render both splits into the cache, from scratch (`python -m zoo build-dataset shapes`)."""
    for split in ("train", "test"):
        split_coverage(split, rebuild=True)
    return dataset_dir()


def load(split: str) -> tuple[Tensor, Tensor]:
    """(images (N, 1, 64, 64) float32 in [0, 1], labels (N,) int64 = the shape)."""
    factors = split_factors(split)
    original = _dsprites_images()
    if original is not None:
        images = torch.from_numpy(original[split_indices(split)]).float()
    else:
        images = torch.from_numpy(np.array(split_coverage(split))).float().div_(SUPERSAMPLE * SUPERSAMPLE)
    return images[:, None], factors[:, 0].clone()


def split_factors(split: str) -> Tensor:
    """(N, 5) int64: the factors of each image of `split`."""
    return factors_of(split_indices(split))


def source(split: str) -> str:
    n = TEST_SIZE if split == "test" else TRAIN_SIZE
    what = (f"dSprites' own pixels ({DSPRITES_FILE} from ZOO_DATA_DIR, MD5 {DSPRITES_MD5})" if dsprites_path()
            else f"the zoo's approximate re-render of dSprites (render version {BUILD_VERSION}, 4×4 supersampled)")
    return (f"{n:,} images of the 737,280-image dSprites factor grid ({split} split: a permutation with seed {SPLIT_SEED}, "
            f"{'its first' if split == 'test' else 'after the test split, the next'} {n:,} indices), {what}")


register_dataset(Dataset(
    name="shapes",
    input_shape=(1, IMAGE_SIDE, IMAGE_SIDE),
    label_names=SHAPES,
    description=("dSprites' factor grid (shape, scale, orientation, x, y: 737,280 combinations) re-rendered on demand, "
                 "64×64 grey, anti-aliased: an approximate re-render, not dSprites' pixels. The label is the shape. "
                 f"Splits: a seeded {TEST_SIZE:,} test and {TRAIN_SIZE:,} training images of the grid."),
    framing=Framing(box=2 * int(HALF_SIZE), centring="box"),  # an upload is drawn at the largest scale, centred
    loader=load,
    source_of=source,
    factor_names=FACTOR_NAMES,
    factor_loader=split_factors,
    render=render,
    label_factor="shape",
    build=build,
))
