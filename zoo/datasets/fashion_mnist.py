"""Fashion-MNIST: Zalando's clothing photos, 28×28 grey, light items on a dark background.

Offline, from the Debian package `dataset-fashion-mnist` (the full 60,000 / 10,000 splits).
Xiao, Rasul & Vollgraf, https://arxiv.org/abs/1708.07747
"""

from __future__ import annotations

from pathlib import Path

from . import Dataset, Framing, register_dataset
from ._idx import RAW_FILES, IdxDataset, Offline, cache_dir

IMAGE_SIDE = 28
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")


def _debian_available() -> bool:
    return all((DEBIAN_DIR / f"{name}.gz").is_file() for pair in RAW_FILES.values() for name in pair)


def _from_debian_package() -> Path:
    """Unpack the Debian package's .gz files into torchvision's layout under the cache."""
    from torchvision.datasets.utils import extract_archive

    root = cache_dir() / "debian"
    raw = root / "FashionMNIST" / "raw"
    for pair in RAW_FILES.values():
        for name in pair:
            if not (raw / name).is_file():
                raw.mkdir(parents=True, exist_ok=True)
                extract_archive(str(DEBIAN_DIR / f"{name}.gz"), str(raw))
    return root


SOURCE = IdxDataset("fashion_mnist", "FashionMNIST", Offline(
    available=_debian_available,
    prepare=_from_debian_package,
    source=f"Debian package dataset-fashion-mnist ({DEBIAN_DIR})",
    install_hint="the Debian package dataset-fashion-mnist",
))

register_dataset(Dataset(
    name="fashion_mnist",
    input_shape=(1, IMAGE_SIDE, IMAGE_SIDE),
    label_names=("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
    description="Zalando's clothing photos in 10 classes, 28×28 grey. The splits are the published 60,000 train / 10,000 test images.",
    framing=Framing(box=IMAGE_SIDE, centring="box"),  # the items fill the frame, centred by their bounding box
    loader=SOURCE.load,
    source_of=SOURCE.source,
    hub_id="zalando-datasets/fashion_mnist",
))
