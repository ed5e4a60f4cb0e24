"""The dataset registry: a dataset is one file that calls `register_dataset(Dataset(...))`.

    >>> import zoo
    >>> zoo.list_datasets()                      # ['fashion_mnist', 'mnist', ...]
    >>> mnist = zoo.get_dataset("mnist")         # a Dataset: the same record for every dataset
    >>> images, labels = mnist.load("test")      # (N, 1, 28, 28) float in [0, 1], (N,) int64
    >>> mnist.source("test")                     # the sentence a model card records

The built-in datasets are this package's modules (`zoo/datasets/mnist.py`, ...), imported on
first use. Plugin files (`plugins/*.py`, `ZOO_PLUGIN_PATH`, entry points; see zoo/registry.py)
may register datasets too: the model registry hands its plugin discovery in through
`add_discovery`, so this module never imports it.
"""

from __future__ import annotations

import difflib
import importlib
import logging
import pkgutil
import sys
import threading
from dataclasses import dataclass, field
from typing import Callable, Literal

import torch
from torch import Tensor

from ..errors import InputError

log = logging.getLogger(__name__)

SPLITS = ("train", "test")


@dataclass(frozen=True)
class Framing:
    """How an upload is framed before a model of this dataset sees it.

    The drawing's content is scaled so its longer side spans `box` pixels, then centred in the
    dataset's image: by its centre of mass (`"mass"`, as MNIST's digits were) or by its bounding
    box (`"box"`, as Fashion-MNIST's items were).
    """

    box: int
    centring: Literal["mass", "box"]

    def __post_init__(self):
        if not isinstance(self.box, int) or self.box < 1:
            raise ValueError(f"Framing.box must be a positive number of pixels, got {self.box!r}")
        if self.centring not in ("mass", "box"):
            raise ValueError(f"Framing.centring must be 'mass' or 'box', got {self.centring!r}")


@dataclass(frozen=True)
class Dataset:
    """A registered dataset. Everything a model, the trainer, the evaluator and the app need to know.

    A dataset file supplies the functions (`loader`, and optionally `source_of`, `factor_loader`,
    `render`); callers use the methods `load`, `source`, `factors` and, where it is not None,
    `render`.
    """

    name: str
    input_shape: tuple[int, int, int]  # (C, H, W)
    label_names: tuple[str, ...]
    description: str  # what the data is and what a split is (a split may be a fixed subset)
    framing: Framing
    loader: Callable[[str], tuple[Tensor, Tensor]]  # split -> (images (N, C, H, W) float in [0, 1], labels (N,) int64)
    source_of: Callable[[str], str] | None = None  # split -> where the data comes from; default: the description
    factor_names: tuple[str, ...] = ()  # the generative factors, when known (a rendered dataset)
    factor_loader: Callable[[str], Tensor] | None = None  # split -> (N, len(factor_names)) int64
    render: Callable[[Tensor], Tensor] | None = None  # factors (N, F) int64 -> images (N, C, H, W); None if not rendered
    label_factor: str = ""  # the factor that is the label (shapes: "shape"), so a label swap can be rendered true
    hub_id: str = ""  # the dataset's id on the Hugging Face Hub, for model cards' metadata
    build: Callable[[], object] | None = None  # renders the dataset into its cache (`python -m zoo build-dataset NAME`)
    defined_at: str = field(default="", compare=False)  # "file:line" of the registration, for error messages

    def __post_init__(self):
        for name in ("input_shape", "label_names", "factor_names"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        if not self.name or not self.name.isidentifier():
            raise ValueError(f"dataset name {self.name!r} must be a Python identifier, e.g. 'fashion_mnist'")
        if len(self.input_shape) != 3 or not all(isinstance(n, int) and n > 0 for n in self.input_shape):
            raise ValueError(f"{self.name}: input_shape must be three positive ints (C, H, W), got {self.input_shape}")
        if not self.label_names or not all(isinstance(n, str) for n in self.label_names):
            raise ValueError(f"{self.name}: label_names must be a non-empty tuple of strings")
        if self.framing.box > min(self.input_shape[1:]):
            raise ValueError(f"{self.name}: framing box {self.framing.box} is larger than the image {self.input_shape[1:]}")
        if self.factor_names and self.factor_loader is None:
            raise ValueError(f"{self.name}: factor_names are given, so factor_loader must be too")
        if self.label_factor and self.label_factor not in self.factor_names:
            raise ValueError(f"{self.name}: label_factor {self.label_factor!r} is not one of the factor_names {self.factor_names}")

    @property
    def num_classes(self) -> int:
        return len(self.label_names)

    def load(self, split: str) -> tuple[Tensor, Tensor]:
        """(images, labels) of `split` ("train" or "test"): (N, C, H, W) float32 in [0, 1] and (N,) int64."""
        _check_split(self.name, split)
        images, labels = self.loader(split)
        n = len(labels)
        if tuple(images.shape) != (n, *self.input_shape) or not images.dtype.is_floating_point:
            raise RuntimeError(f"{self.name} ({self.defined_at}): loader gave images {images.dtype} {tuple(images.shape)}, "
                               f"expected float (N, {', '.join(map(str, self.input_shape))}) with N = {n} labels")
        if labels.dtype != torch.int64 or labels.ndim != 1:
            raise RuntimeError(f"{self.name} ({self.defined_at}): loader gave labels {labels.dtype} {tuple(labels.shape)}, expected int64 (N,)")
        if n and (int(labels.min()) < 0 or int(labels.max()) >= self.num_classes):
            raise RuntimeError(f"{self.name} ({self.defined_at}): labels must lie in [0, {self.num_classes - 1}]")
        return images, labels

    def source(self, split: str) -> str:
        """A sentence saying where `split` comes from (recorded in model cards)."""
        _check_split(self.name, split)
        return self.source_of(split) if self.source_of else self.description

    def factors(self, split: str) -> Tensor:
        """(N, len(factor_names)) int64: row i gives the factors of image i of `load(split)`."""
        _check_split(self.name, split)
        if self.factor_loader is None:
            return torch.zeros(len(self.load(split)[1]), 0, dtype=torch.int64)
        return self.factor_loader(split)

    def render_every_label(self, factors: Tensor) -> Tensor:
        """(N, F) factors -> (N, K, C, H, W): each row rendered under every label, its other factors kept
        (a square's scale, orientation and position drawn as each shape): the truth of a label swap."""
        if self.render is None or not self.label_factor:
            raise ValueError(f"{self.name} renders no label swaps: it needs a renderer and a label_factor")
        k = self.num_classes
        every = factors.repeat_interleave(k, dim=0)  # (N * K, F)
        every[:, self.factor_names.index(self.label_factor)] = torch.arange(k).repeat(len(factors))
        return self.render(every).view(len(factors), k, *self.input_shape)


def _check_split(dataset: str, split: str) -> None:
    if split not in SPLITS:
        raise InputError(f"{dataset}: split must be one of {', '.join(SPLITS)}; got {split!r}")


# ---------------------------------------------------------------------------------------------
# Registration and lookup

_datasets: dict[str, Dataset] = {}
_lock = threading.RLock()
_builtins_imported = False
_discovery: list[Callable[[], None]] = []  # e.g. the model registry's plugin discovery


def register_dataset(dataset: Dataset) -> Dataset:
    """Add `dataset` to the registry (call it at a dataset file's import). A name registered twice is an error."""
    if not isinstance(dataset, Dataset):
        raise TypeError(f"register_dataset takes a zoo.Dataset, got {type(dataset).__name__}")
    if not dataset.defined_at:
        caller = sys._getframe(1)
        object.__setattr__(dataset, "defined_at", f"{caller.f_code.co_filename}:{caller.f_lineno}")
    with _lock:
        if dataset.name in _datasets:
            raise ValueError(f"dataset {dataset.name!r} is registered twice: at {_datasets[dataset.name].defined_at} "
                             f"and at {dataset.defined_at}; rename one of them")
        _datasets[dataset.name] = dataset
    return dataset


def add_discovery(discover: Callable[[], None]) -> None:
    """Run `discover()` before every lookup (it must be idempotent): how plugin datasets are found."""
    if discover not in _discovery:
        _discovery.append(discover)


def _discover() -> None:
    global _builtins_imported
    with _lock:
        if not _builtins_imported:
            _builtins_imported = True
            for module in pkgutil.iter_modules(__path__):
                if not module.name.startswith("_"):
                    importlib.import_module(f"{__name__}.{module.name}")
    for discover in _discovery:  # outside the lock: plugin discovery takes its own
        discover()


def list_datasets() -> list[str]:
    """Names of the registered datasets, sorted."""
    _discover()
    return sorted(_datasets)


def get_dataset(name: str) -> Dataset:
    """The registered dataset `name`; an unknown name is an InputError that suggests close ones."""
    _discover()
    with _lock:
        if isinstance(name, str) and name in _datasets:
            return _datasets[name]
        close = difflib.get_close_matches(str(name), sorted(_datasets), n=3, cutoff=0.5)
        hint = f"did you mean {', '.join(close)}?" if close else f"choose one of {', '.join(sorted(_datasets))}"
        raise InputError(f"unknown dataset {name!r}; {hint}")


__all__ = ["Dataset", "Framing", "SPLITS", "register_dataset", "list_datasets", "get_dataset", "add_discovery"]
