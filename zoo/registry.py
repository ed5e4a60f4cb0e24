"""The model registry: plugins register zoo entries, the rest of the zoo looks them up by name.

In the manner of timm (`timm/models/_registry.py`): a decorator fills a dict, names are
`arch.tag` (architecture with its size, then the dataset), and `list_models` takes fnmatch
wildcards. An entry is a function returning a `ModelSpec`: metadata only, cheap to build,
so `get_spec` never constructs a network.

Plugins are found in three places, each imported once, on first use of the registry:
  1. every `plugins/*.py` of this repository;
  2. every `*.py` in the folders named by `ZOO_PLUGIN_PATH` (os.pathsep-separated);
  3. installed distributions declaring an entry point in the group `vae_zoo.plugins`.
A plugin that fails to import is logged with its file and the error, and skipped.
"""

from __future__ import annotations

import dataclasses
import difflib
import fnmatch
import importlib
import importlib.metadata
import importlib.util
import json
import logging
import os
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .datasets import add_discovery, get_dataset, list_datasets
from .errors import InputError
from .models import FAMILY_CLASSES  # light: torch.nn layers only; nothing is built until a model is asked for

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parent.parent
# Where plugins/, weights/ and assets/ are: the repository, for a checkout or an editable install; an
# installed wheel has no repository around it and carries them in zoo/_bundled/ (see pyproject.toml).
INSTALLED_DATA_DIR = Path(__file__).resolve().parent / "_bundled"
DATA_ROOT = INSTALLED_DATA_DIR if INSTALLED_DATA_DIR.is_dir() else REPO_ROOT
PLUGIN_DIR = DATA_ROOT / "plugins"
BUNDLED_WEIGHTS_DIR = DATA_ROOT / "weights"


def weights_root() -> Path:
    """The bundled weights' root: `ZOO_WEIGHTS_DIR` if set (e.g. weights you trained elsewhere), else <repo>/weights."""
    return Path(os.environ["ZOO_WEIGHTS_DIR"]) if os.environ.get("ZOO_WEIGHTS_DIR") else BUNDLED_WEIGHTS_DIR
ENTRY_POINT_GROUP = "vae_zoo.plugins"

LR_SCHEDULES = ("constant", "cosine")


@dataclass(frozen=True)
class Recipe:
    """How an entry is trained. Everything `python -m zoo train` needs to reproduce it."""

    epochs: int = 20
    batch_size: int = 128
    lr: float = 1e-3
    beta: float = 1.0  # weight of the KL term; ignored by the AE, which has none
    seed: int = 0
    lr_schedule: str = "constant"  # or "cosine": the rate decays to 0 over the run (per step), for sharper decodings
    # A factor of the dataset (glyphs: "face"). Each training image's code is then also decoded under the label of
    # a random other image with the same value of that factor, and scored against it: the code must hold what the
    # two share (the style), which the plain per-image ELBO never asks for. Conditional models only; "" = plain ELBO.
    pair_by: str = ""
    # β-TCVAE: the total-correlation part of the KL term (what ties the code's dimensions together) weighs tc_beta
    # instead of beta, estimated on each batch (zoo.distributions.total_correlation). None = the plain β-weighted KL.
    tc_beta: float | None = None
    # Restyling (zoo.augment.Restyle): each training image gets a random slant, width and stroke weight, and its
    # partner the same one, so a code must carry styles no installed face has. None = the images as they are; a
    # dict = Restyle's arguments ({} for its defaults).
    restyle: dict | None = None
    # A zoo entry with the same family and model_args whose weights (bundled or from the Hub) start the training,
    # instead of a seeded initialisation: the recipe then fine-tunes it. "" = trained from scratch.
    init: str = ""

    def __post_init__(self):
        if self.lr_schedule not in LR_SCHEDULES:
            raise ValueError(f"lr_schedule must be one of {', '.join(LR_SCHEDULES)}, got {self.lr_schedule!r}")
        if self.restyle is not None:  # as the card's YAML keeps it: a tuple (width) as a list
            object.__setattr__(self, "restyle", json.loads(json.dumps(self.restyle)))


@dataclass(frozen=True)
class ModelSpec:
    """A zoo entry: which family, built with which arguments, trained on what, and how."""

    family: str  # a key of zoo.models.FAMILY_CLASSES: "ae" | "vae" | "cvae" | a plugin's family
    dataset: str  # a name from zoo.list_datasets()
    model_args: dict  # the family constructor's keyword arguments: JSON-able, this *is* the config
    name: str = ""  # filled in by @register_model
    recipe: Recipe = Recipe()
    description: str = ""
    weights_dir: Path | None = None  # bundled copy; default: weights_root() / name
    source: str = ""  # where the entry was registered ("file:line"), for error messages
    # Where the Hub copy lives (see zoo/download.py). Default: ZOO_HUB_ORG/<name> when an org is set, else none.
    hub_repo: str | None = None  # "owner/repo"
    revision: str | None = None  # a commit hash pins the weights; default: the repo's main branch
    sha256: str | None = None  # of model.safetensors; a download that does not match is rejected
    # The study this entry was trained for (e.g. "beta_sweep"): such an entry is shown by that
    # study's own tab, not offered in every model picker. "" for the zoo's own models.
    study: str = ""

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return get_dataset(self.dataset).input_shape

    @property
    def latent_dim(self) -> int:
        return int(self.model_args["latent_dim"])

    @property
    def conditional(self) -> bool:
        """Whether the family takes labels (asked of the family's class)."""
        return bool(self.model_class().conditional)

    @property
    def variational(self) -> bool:
        """Whether the family has a posterior with a KL term (asked of the family's class)."""
        return bool(self.model_class().variational)

    @property
    def label_names(self) -> list[str]:
        return list(get_dataset(self.dataset).label_names) if self.conditional else []

    @property
    def bundled_dir(self) -> Path:
        return Path(self.weights_dir) if self.weights_dir else weights_root() / self.name

    @property
    def config(self) -> dict:
        """The family constructor's full keyword arguments: `model_args` plus the dataset's input shape.
        This is what `config.json` holds."""
        return {**self.model_args, "input_shape": list(self.input_shape)}

    def model_class(self):
        """The family's class (`zoo.models.FAMILY_CLASSES`)."""
        return FAMILY_CLASSES[self.family]

    def as_dict(self) -> dict:
        """A JSON-able view, used by `python -m zoo list --json` and the model cards."""
        return {
            "name": self.name,
            "family": self.family,
            "dataset": self.dataset,
            "input_shape": list(self.input_shape),
            "latent_dim": self.latent_dim,
            "conditional": self.conditional,
            "variational": self.variational,
            "label_names": self.label_names,
            "description": self.description,
            "model_args": dict(self.model_args),
            "recipe": dataclasses.asdict(self.recipe),
        }


_entrypoints: dict[str, Callable[[], ModelSpec]] = {}
_sources: dict[str, str] = {}
_specs: dict[str, ModelSpec] = {}
_lock = threading.RLock()
_discovered = False
plugin_errors: dict[str, str] = {}  # plugin file or entry point -> the error it raised on import


def _where(fn: Callable) -> str:
    code = getattr(fn, "__code__", None)
    return f"{code.co_filename}:{code.co_firstlineno}" if code else repr(fn)


def register_model(name: str) -> Callable[[Callable[[], ModelSpec]], Callable[[], ModelSpec]]:
    """Register the decorated function as the zoo entry `name` (`arch.tag`).

    The function takes no arguments and returns a `ModelSpec` (its `name` is filled in here).
    Registering a name twice is an error that names both places.
    """
    if not isinstance(name, str) or name.count(".") != 1 or not all(name.split(".")):
        raise ValueError(f"model name {name!r} must look like 'arch.tag', e.g. 'vae_conv_z16.mnist'")

    def decorator(fn: Callable[[], ModelSpec]) -> Callable[[], ModelSpec]:
        where = _where(fn)
        with _lock:
            if name in _entrypoints:
                raise ValueError(
                    f"model {name!r} is registered twice: at {_sources[name]} and at {where}; rename one of them"
                )
            _entrypoints[name] = fn
            _sources[name] = where
        return fn

    return decorator


def _build_spec(name: str) -> ModelSpec:
    spec = _entrypoints[name]()
    if not isinstance(spec, ModelSpec):
        raise ValueError(f"the entry for {name!r} at {_sources[name]} must return a ModelSpec, got {type(spec).__name__}")
    spec = dataclasses.replace(spec, name=name, source=_sources[name])
    if spec.family not in FAMILY_CLASSES:
        raise ValueError(f"{name} ({spec.source}): family {spec.family!r} is not one of {tuple(FAMILY_CLASSES)}")
    if spec.dataset not in list_datasets():
        raise ValueError(f"{name} ({spec.source}): dataset {spec.dataset!r} is not one of {list_datasets()}")
    if "latent_dim" not in spec.model_args:
        raise ValueError(f"{name} ({spec.source}): model_args must give latent_dim")
    labels = get_dataset(spec.dataset).label_names
    if spec.conditional and spec.model_args.get("num_classes", len(labels)) != len(labels):
        raise ValueError(f"{name} ({spec.source}): num_classes={spec.model_args['num_classes']}, but {spec.dataset} "
                         f"has {len(labels)} labels")
    return spec


# ---------------------------------------------------------------------------------------------
# Plugin discovery


def _import_plugin_file(path: Path) -> None:
    module_name = f"zoo_plugins.{path.parent.name}.{path.stem}"
    if module_name in sys.modules:
        return
    try:
        spec = importlib.util.spec_from_file_location(module_name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
    except Exception as exc:  # a broken plugin must not take the zoo down
        sys.modules.pop(module_name, None)
        plugin_errors[str(path)] = f"{type(exc).__name__}: {exc}"
        log.error("skipping plugin %s: %s: %s", path, type(exc).__name__, exc)


def _plugin_folders() -> list[Path]:
    folders = [PLUGIN_DIR]
    for entry in os.environ.get("ZOO_PLUGIN_PATH", "").split(os.pathsep):
        if entry.strip():
            folders.append(Path(entry).expanduser())
    return folders


def discover_plugins(force: bool = False) -> None:
    """Import every plugin once (again with `force`, e.g. after changing `ZOO_PLUGIN_PATH`)."""
    global _discovered
    with _lock:
        if _discovered and not force:
            return
        _discovered = True
        for folder in _plugin_folders():
            if not folder.is_dir():
                if folder != PLUGIN_DIR:
                    log.warning("ZOO_PLUGIN_PATH names %s, which is not a folder; ignoring it", folder)
                continue
            for path in sorted(folder.glob("*.py")):
                if not path.name.startswith("_"):
                    _import_plugin_file(path)
        for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            if ep.value in sys.modules:
                continue
            try:
                ep.load()
            except Exception as exc:
                where = f"entry point {ep.name} = {ep.value}"
                plugin_errors[where] = f"{type(exc).__name__}: {exc}"
                log.error("skipping plugin %s: %s: %s", where, type(exc).__name__, exc)


add_discovery(discover_plugins)  # plugin files may register datasets: zoo.list_datasets() finds them too


# ---------------------------------------------------------------------------------------------
# Lookup


def list_models(pattern: str = "*") -> list[str]:
    """Names of the registered models matching the fnmatch `pattern`, sorted."""
    discover_plugins()
    return sorted(n for n in _entrypoints if fnmatch.fnmatchcase(n, pattern))


def get_spec(name: str) -> ModelSpec:
    """The entry's metadata, without building the model. Unknown names raise an InputError."""
    discover_plugins()
    with _lock:
        if name not in _specs:
            if name not in _entrypoints:
                raise InputError(_unknown_name_message(name))
            _specs[name] = _build_spec(name)
        return _specs[name]


def _unknown_name_message(name: object) -> str:
    known = sorted(_entrypoints)
    close = difflib.get_close_matches(str(name), known, n=3, cutoff=0.5)
    hint = f"did you mean {', '.join(close)}?" if close else "run `python -m zoo list` to see them all"
    return f"unknown model {name!r}; {hint}"
