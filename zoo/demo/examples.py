"""The test-set examples the app shows: a few hundred images per dataset, shipped in the repository.

`export_examples` writes `assets/examples/<dataset>.safetensors` (`images`: uint8 (N, H, W), or (N, H, W, 3) in colour,
`labels`: int64 (N,)) from the dataset's test split, once, so the app never downloads a dataset.
The examples are balanced across classes and interleaved, so example i has label i % num_classes
for the first few hundred: index 3 of MNIST is a 3, index 7 of Fashion-MNIST a sneaker.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..registry import DATA_ROOT

EXAMPLES_DIR = DATA_ROOT / "assets" / "examples"  # the repo's, or an installed wheel's copy
EXPORT_SEED = 0  # which test images are picked; changing it changes every shared link


@dataclass(frozen=True)
class Examples:
    dataset: str
    images: np.ndarray  # (N, H, W) float32 in [0, 1], light strokes on dark; (N, H, W, 3) for a colour dataset
    labels: np.ndarray  # (N,) int64
    factors: np.ndarray | None = None  # (N, F) int64, for a rendered dataset (its `factor_names`), else None

    def __len__(self) -> int:
        return len(self.labels)


def examples_path(dataset: str, folder: Path | None = None) -> Path:
    return Path(folder or EXAMPLES_DIR) / f"{dataset}.safetensors"


def export_examples(dataset: str, per_class: int = 80, folder: Path | None = None) -> Path:
    """Pick `per_class` test images of every class (seeded), interleave the classes, write them.
    For a dataset of whole faces (a `face` factor: glyphs), `per_class` whole test faces instead."""
    import torch
    from safetensors.torch import save_file

    from ..datasets import get_dataset

    info = get_dataset(dataset)
    test_images, test_labels = info.load("test")
    labels = test_labels.numpy()
    rng = np.random.default_rng(EXPORT_SEED)
    if "face" in info.factor_names:  # whole faces (glyphs): `per_class` test faces, each in label order
        order = _whole_faces(info.factors("test")[:, info.factor_names.index("face")].numpy(), labels, per_class, rng)
    else:
        order = _per_class(dataset, labels, per_class, rng)
    chosen = test_images[order]  # (N, C, H, W)
    chosen = chosen[:, 0] if chosen.shape[1] == 1 else chosen.permute(0, 2, 3, 1)  # (N, H, W) or (N, H, W, 3)
    images = (chosen * 255).round().to(torch.uint8)
    path = examples_path(dataset, folder)
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors = {"images": images.contiguous(), "labels": test_labels[order].contiguous()}
    if info.render is not None and info.factor_names:  # a rendered dataset: each example's factors, to render its truth
        tensors["factors"] = info.factors("test")[torch.as_tensor(order)].contiguous()
    save_file(tensors, str(path),
              metadata={"dataset": dataset, "source": info.source("test"), "seed": str(EXPORT_SEED), "per_class": str(per_class)})
    return path


def _per_class(dataset: str, labels: np.ndarray, per_class: int, rng) -> np.ndarray:
    picks = []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        if len(idx) < per_class:
            raise ValueError(f"{dataset}: class {c} has only {len(idx)} test images, fewer than per_class={per_class}")
        picks.append(np.sort(rng.choice(idx, per_class, replace=False)))
    return np.stack(picks, axis=1).reshape(-1)  # (per_class * C,), classes interleaved: 0, 1, ..., C-1, 0, 1, ...


def _whole_faces(faces: np.ndarray, labels: np.ndarray, count: int, rng) -> np.ndarray:
    """Indices of `count` seeded faces' images, face by face, each face's in label order (so again
    example i has label i % C, and the examples of one face are C in a row)."""
    chosen = np.sort(rng.choice(np.unique(faces), count, replace=False))
    return np.concatenate([np.flatnonzero(faces == face)[np.argsort(labels[faces == face], kind="stable")] for face in chosen])


_cache: dict[str, Examples] = {}
_lock = threading.Lock()


def load_examples(dataset: str, folder: Path | None = None) -> Examples:
    """The shipped examples of `dataset` (cached, read-only). A missing file is a clear error."""
    key = str(examples_path(dataset, folder))
    with _lock:
        if key not in _cache:
            from safetensors.numpy import load_file

            path = examples_path(dataset, folder)
            if not path.is_file():
                raise FileNotFoundError(f"no examples for {dataset} at {path}; write them with `python -m zoo export-examples`")
            tensors = load_file(str(path))
            images = tensors["images"].astype(np.float32) / 255.0
            images.setflags(write=False)
            labels = tensors["labels"].astype(np.int64)
            labels.setflags(write=False)
            factors = tensors["factors"].astype(np.int64) if "factors" in tensors else None
            if factors is not None:
                factors.setflags(write=False)
            _cache[key] = Examples(dataset, images, labels, factors)
        return _cache[key]
