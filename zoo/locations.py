"""What a weights folder holds, and where one was found: the names every part of the zoo shares.

The on-disk format is the Hugging Face Hub's: `config.json` (the constructor's arguments, plus
`architecture` and `zoo_version`), `model.safetensors` and a `README.md` model card, as written
by `PyTorchModelHubMixin.save_pretrained`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from .version import __version__

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
CARD_FILE = "README.md"
# The ONNX export (zoo/onnx.py), where transformers.js-style Hub repos keep theirs: optional beside the weights.
ONNX_DIR = "onnx"
ENCODER_FILE = "encoder.onnx"
DECODER_FILE = "decoder.onnx"
ONNX_FILES = (f"{ONNX_DIR}/{ENCODER_FILE}", f"{ONNX_DIR}/{DECODER_FILE}")

# Keys config.json carries beside the constructor's arguments: which family builds it, and which zoo wrote it.
ARCHITECTURE_KEY = "architecture"
ZOO_VERSION_KEY = "zoo_version"
METADATA_KEYS = (ARCHITECTURE_KEY, ZOO_VERSION_KEY)


@dataclass(frozen=True)
class WeightsLocation:
    folder: Path
    source: str  # shown to users: "hub:OWNER/REPO@COMMIT", "cache:OWNER/REPO@COMMIT" or "bundled (weights/<name>)"


def stamp_config(folder: Path, architecture: str) -> None:
    """Record in `folder`'s config.json the family that builds it (`architecture`) and this zoo's version."""
    path = Path(folder) / CONFIG_FILE
    config = {**json.loads(path.read_text()), ARCHITECTURE_KEY: architecture, ZOO_VERSION_KEY: __version__}
    path.write_text(json.dumps(config, sort_keys=True, indent=2))  # as PyTorchModelHubMixin.save_pretrained writes it


def constructor_args(config: dict) -> dict:
    """config.json without the metadata keys: the constructor's keyword arguments."""
    return {key: value for key, value in config.items() if key not in METADATA_KEYS}
