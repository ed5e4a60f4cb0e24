"""Where a zoo entry's weights live, and loading them strictly into a model.

The on-disk format is the Hugging Face Hub's (see zoo/locations.py): a folder with `config.json`
(the constructor's arguments, plus `architecture` and `zoo_version`), `model.safetensors` and a
`README.md` model card. Nothing here unpickles anything.

`resolve_weights` is the one place that decides where a zoo entry's files come from; `create_model`
resolves once and hands the location on with the model (`model.weights_location`).
`create_model("hf-hub:OWNER/REPO@REVISION")` loads any published repo, plugin or not: config.json
names the family that builds it.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import load_model as load_safetensors

from . import download
from .device import resolve_device
from .errors import InputError, WeightsError
from .locations import ARCHITECTURE_KEY, CARD_FILE, CONFIG_FILE, WEIGHTS_FILE, WeightsLocation, constructor_args
from .memo import Memo
from .models import FAMILY_CLASSES
from .registry import DATA_ROOT, ModelSpec, get_spec

__all__ = ["resolve_weights", "load_weights", "load_folder", "create_model", "model_cache",
           "WeightsLocation", "CONFIG_FILE", "WEIGHTS_FILE", "CARD_FILE"]


def resolve_weights(spec: ModelSpec) -> WeightsLocation:
    """The folder holding `spec`'s config.json and model.safetensors, and where it came from.

    Two sources: the Hub, when the spec names a repo or an org is set (`ZOO_HUB_ORG`,
    `zoo.set_hub_org`), through the Hugging Face cache; and the bundled copy, which is also
    the fallback when the Hub cannot be used (see zoo/download.py).
    """
    folder = spec.bundled_dir
    bundled = WeightsLocation(folder, f"bundled ({_short(folder)})") if (folder / WEIGHTS_FILE).is_file() else None
    if download.repo_for(spec):
        return download.locate(spec, fallback=bundled)
    if bundled is None:
        raise FileNotFoundError(
            f"{spec.name}: no trained weights at {folder / WEIGHTS_FILE}; "
            f"train them with `python -m zoo train {spec.name}`"
        )
    return bundled


def _short(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(DATA_ROOT))
    except ValueError:
        return str(path)


def load_weights(spec: ModelSpec, folder: Path, device: torch.device) -> torch.nn.Module:
    """Build `spec`'s model from `folder` with strict loading; any mismatch names the model and file."""
    config = _read_config(folder, spec.name)
    expected = _normalise(spec.config)
    if _normalise({k: config.get(k) for k in expected}) != expected:
        raise WeightsError(
            f"{spec.name}: {folder / CONFIG_FILE} does not match the registered model: file has "
            f"{ {k: config.get(k) for k in expected} }, the plugin says {expected}; retrain or re-download it"
        )
    if config.get(ARCHITECTURE_KEY, spec.family) != spec.family:
        raise WeightsError(f"{spec.name}: {folder / CONFIG_FILE} holds an {config[ARCHITECTURE_KEY]!r}, the plugin says "
                         f"{spec.family!r}; retrain or re-download it")
    return _build(spec.model_class(), config, folder, spec.name, device)


def load_folder(folder: Path, device: torch.device, what: str | None = None) -> torch.nn.Module:
    """Build whatever model `folder` holds, with no plugin: config.json's `architecture` names the family."""
    what = what or str(folder)
    config = _read_config(folder, what)
    return _build(_family_class(config, what), config, folder, what, device)


def _family_class(config: dict, what: str):
    architecture = config.get(ARCHITECTURE_KEY)
    if architecture not in FAMILY_CLASSES:
        said = f"names the architecture {architecture!r}" if architecture else f"names no {ARCHITECTURE_KEY!r}"
        raise InputError(f"{what}: its {CONFIG_FILE} {said}; vae-zoo builds {', '.join(sorted(FAMILY_CLASSES))} "
                         "(a repo published by `python -m zoo publish` names its family)")
    return FAMILY_CLASSES[architecture]


def _read_config(folder: Path, what: str) -> dict:
    config_path = folder / CONFIG_FILE
    try:
        config = json.loads(config_path.read_text())
    except (OSError, ValueError) as exc:
        raise WeightsError(f"{what}: cannot read {config_path}: {exc}") from exc
    if not isinstance(config, dict):
        raise WeightsError(f"{what}: {config_path} holds {json.dumps(config)[:40]}, not an object of constructor arguments")
    return config


def _build(cls, config: dict, folder: Path, what: str, device: torch.device) -> torch.nn.Module:
    # What PyTorchModelHubMixin.from_pretrained does for a local folder, without its print and
    # without its fallback to a pickle file: the constructor from config.json (strict: an unknown
    # argument is an error), then safetensors, strictly.
    try:
        model = cls(**constructor_args(config))
    except TypeError as exc:
        raise WeightsError(f"{what}: {folder / CONFIG_FILE} does not fit {cls.__name__}: {_first_line(exc)}") from exc
    try:
        load_safetensors(model, str(folder / WEIGHTS_FILE), strict=True, device=str(device))
    except Exception as exc:
        raise WeightsError(f"{what}: the weights in {folder / WEIGHTS_FILE} do not fit the model: {_first_line(exc)}") from exc
    return model.to(device).eval()


def _normalise(d: dict) -> dict:
    return json.loads(json.dumps(d))  # tuples -> lists, so config.json and the spec compare equal


def _first_line(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    lines = text.splitlines()
    return lines[0] if len(lines) == 1 else " ".join(line.strip() for line in lines[:4])


# ---------------------------------------------------------------------------------------------
# create_model, with a bounded, thread-safe cache of loaded models


model_cache = Memo(capacity=16)  # loaded models, shared by every caller: (name, device, folder) -> model


def create_model(name: str, pretrained: bool = True, device: str | torch.device | None = None) -> torch.nn.Module:
    """A zoo model in eval mode on `device` (default: CUDA, MPS, then CPU; `ZOO_DEVICE` overrides).

    `name` is a zoo entry ("vae_conv_z16.mnist"), or any repo published by the zoo:
    "hf-hub:OWNER/REPO", optionally "hf-hub:OWNER/REPO@REVISION" (a branch, tag or commit).
    With `pretrained`, weights are loaded strictly and the model is cached and shared: treat it as
    read-only. Where they came from is `model.weights_location` (a `WeightsLocation`; its
    `.source` is also `model.weights_source`). Without, a freshly initialised model (not cached).
    """
    dev = resolve_device(device)
    if isinstance(name, str) and name.startswith(download.HUB_PREFIX):
        location = download.locate_repo(name)
        if not pretrained:
            config = _read_config(location.folder, name)
            return _family_class(config, name)(**constructor_args(config)).to(dev).eval()
        return model_cache.get((name, str(dev), str(location.folder)),
                               lambda: _loaded(load_folder(location.folder, dev, name), location))

    spec = get_spec(name)
    if not pretrained:
        return spec.model_class()(**spec.config).to(dev).eval()
    location = resolve_weights(spec)
    return model_cache.get((name, str(dev), str(location.folder)),
                           lambda: _loaded(load_weights(spec, location.folder, dev), location))


def _loaded(model: torch.nn.Module, location: WeightsLocation) -> torch.nn.Module:
    model.weights_location = location
    model.weights_source = location.source
    model.requires_grad_(False)
    return model
