"""Where a zoo entry's weights live, and loading them strictly into a model.

The on-disk format is the Hugging Face Hub's: a folder with `config.json` (the constructor's
arguments), `model.safetensors` and a `README.md` model card, as written by
`PyTorchModelHubMixin.save_pretrained`. Nothing here unpickles anything.

`resolve_weights` is the one place that decides where a model's files come from.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors.torch import load_model as load_safetensors

from .device import resolve_device
from .registry import ModelSpec, get_spec

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
CARD_FILE = "README.md"


@dataclass(frozen=True)
class WeightsLocation:
    folder: Path
    source: str  # shown to users: "hub:OWNER/REPO@COMMIT", "cache:OWNER/REPO@COMMIT" or "bundled (weights/<name>)"


def resolve_weights(spec: ModelSpec) -> WeightsLocation:
    """The folder holding `spec`'s config.json and model.safetensors, and where it came from.

    Two sources: the Hub, when the spec names a repo or an org is set (`ZOO_HUB_ORG`,
    `zoo.hub.set_hub_org`), through the Hugging Face cache; and the bundled copy, which is also
    the fallback when the Hub cannot be used (see zoo/hub.py).
    """
    folder = spec.bundled_dir
    bundled = WeightsLocation(folder, f"bundled ({_short(folder)})") if (folder / WEIGHTS_FILE).is_file() else None
    from . import hub  # here, not at the top: zoo.hub imports this module

    if hub.repo_for(spec):
        return hub.locate(spec, fallback=bundled)
    if bundled is None:
        raise FileNotFoundError(
            f"{spec.name}: no trained weights at {folder / WEIGHTS_FILE}; "
            f"train them with `python -m zoo train {spec.name}`"
        )
    return bundled


def _short(path: Path) -> str:
    from .registry import REPO_ROOT

    try:
        return str(path.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def load_weights(spec: ModelSpec, folder: Path, device: torch.device) -> torch.nn.Module:
    """Build `spec`'s model from `folder` with strict loading; any mismatch names the model and file."""
    cls = spec.model_class()
    config_path = folder / CONFIG_FILE
    try:
        config = json.loads(config_path.read_text())
    except (OSError, ValueError) as exc:
        raise ValueError(f"{spec.name}: cannot read {config_path}: {exc}") from exc
    if not isinstance(config, dict):
        raise ValueError(f"{spec.name}: {config_path} holds {json.dumps(config)[:40]}, not an object of constructor arguments")
    expected = _normalise(spec.config)
    if _normalise({k: config.get(k) for k in expected}) != expected:
        raise ValueError(
            f"{spec.name}: {config_path} does not match the registered model: file has "
            f"{ {k: config.get(k) for k in expected} }, the plugin says {expected}; retrain or re-download it"
        )
    try:
        # What PyTorchModelHubMixin.from_pretrained does for a local folder, without its print and
        # without its fallback to a pickle file: the constructor from config.json, then safetensors.
        model = cls(**config)
        load_safetensors(model, str(folder / WEIGHTS_FILE), strict=True, device=str(device))
    except Exception as exc:
        raise ValueError(f"{spec.name}: the weights in {folder / WEIGHTS_FILE} do not fit the model: {_first_line(exc)}") from exc
    return model.to(device).eval()


def _normalise(d: dict) -> dict:
    return json.loads(json.dumps(d))  # tuples -> lists, so config.json and the spec compare equal


def _first_line(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    lines = text.splitlines()
    return lines[0] if len(lines) == 1 else " ".join(line.strip() for line in lines[:4])


# ---------------------------------------------------------------------------------------------
# create_model, with a bounded, thread-safe cache of loaded models


class ModelCache:
    """At most `capacity` loaded models, least recently used out first. Safe across threads;
    each model is built once even when many threads ask for it at the same time."""

    def __init__(self, capacity: int = 16):
        self.capacity = capacity
        self._models: OrderedDict[tuple, torch.nn.Module] = OrderedDict()
        self._lock = threading.Lock()
        self._key_locks: dict[tuple, threading.Lock] = {}

    def get(self, key: tuple, build):
        with self._lock:
            if key in self._models:
                self._models.move_to_end(key)
                return self._models[key]
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                if key in self._models:
                    return self._models[key]
            model = build()
            with self._lock:
                self._models[key] = model
                while len(self._models) > self.capacity:
                    self._models.popitem(last=False)
                self._key_locks.pop(key, None)
            return model

    def clear(self) -> None:
        with self._lock:
            self._models.clear()


model_cache = ModelCache()


def create_model(name: str, pretrained: bool = True, device: str | torch.device | None = None) -> torch.nn.Module:
    """A zoo model in eval mode on `device` (default: CUDA, MPS, then CPU; `ZOO_DEVICE` overrides).

    With `pretrained`, weights are loaded strictly and the model is cached and shared: treat it as
    read-only. Without, a freshly initialised model (not cached) is returned.
    """
    spec = get_spec(name)
    dev = resolve_device(device)
    if not pretrained:
        return spec.model_class()(**spec.config).to(dev).eval()

    location = resolve_weights(spec)

    def build():
        model = load_weights(spec, location.folder, dev)
        model.weights_source = location.source
        model.requires_grad_(False)
        return model

    return model_cache.get((name, str(dev), str(location.folder)), build)
