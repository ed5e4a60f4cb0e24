"""ONNX exports of a zoo entry, so a browser (onnxruntime-web) or any ONNX runtime can run it.

`vae-zoo export-onnx NAME` writes, beside the safetensors weights it is exported from,

    weights/<name>/onnx/encoder.onnx   image (B, C, H, W) float32 in [0, 1] [, label (B,) int64]
                                       -> mean (B, D) [, std (B, D) for a variational model]
    weights/<name>/onnx/decoder.onnx   z (B, D) float32 [, label (B,) int64] -> image (B, C, H, W) in [0, 1]

(the `onnx/` folder is where transformers.js-style Hub repos keep theirs). Both graphs call the
model's own `encode` and `decode`, through `torch.onnx.export` (the torch.export-based exporter),
with a dynamic batch size, at the opset `OPSET`. Each file records in its metadata the opset, the
zoo's version, the model's name and what it can do, and `check_export` compares a folder's files
with PyTorch on fixed codes and images (the tests run it for every registered model).
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from .cards import write_card
from .locations import DECODER_FILE, ENCODER_FILE, ONNX_DIR  # noqa: F401 (the app imports them from here too)
from .registry import get_spec
from .version import __version__
from .weights import load_weights

# onnx and onnxruntime are imported where they are used: only exporting and checking need them (the
# `onnx` extra), while the app imports this module for the file names and `describe`.

OPSET = 18  # onnxruntime-web's WebAssembly backend runs every op these graphs use at this opset
MAX_BATCH = 4096  # the dynamic batch's upper bound, for torch.export: far above any grid the app draws


@dataclass(frozen=True)
class OnnxExport:
    """What `export_onnx` wrote: the folder, each file's size in bytes, and the check against PyTorch."""

    name: str
    folder: Path
    opset: int
    encoder_bytes: int
    decoder_bytes: int
    max_abs_diff: dict  # from check_export: {"image": ..., "mean": ..., "std": ...}


class _Decoder(nn.Module):
    """The model's `decode` with plain tensor inputs: what the graph's inputs are is fixed here."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, z: Tensor, label: Tensor | None = None) -> Tensor:
        return self.model.decode(z, label)  # (B, C, H, W) probabilities


class _Encoder(nn.Module):
    """The model's `encode` as tensors: the mean, and σ for a variational model (the region the page draws)."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, image: Tensor, label: Tensor | None = None) -> tuple[Tensor, ...]:
        posterior = self.model.encode(image, label)
        return (posterior.mean, posterior.std) if self.model.variational else (posterior.mean,)


def onnx_folder(weights_folder: Path) -> Path:
    return Path(weights_folder) / ONNX_DIR


def export_model(model: nn.Module, folder: Path, name: str, opset: int = OPSET) -> tuple[Path, Path]:
    """Export `model` (a zoo family instance, any device) as `folder`/encoder.onnx and decoder.onnx."""
    model = _cpu_copy(model)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    images, codes, labels = fixed_inputs(model, batch=2)
    label_input = (labels,) if model.conditional else ()
    label_name = ["label"] if model.conditional else []
    batch = torch.export.Dim("batch", min=1, max=MAX_BATCH)
    metadata = _metadata(model, name, opset)
    written = []
    for module, inputs, input_names, output_names, filename in (
        (_Encoder(model), (images, *label_input), ["image", *label_name],
         ["mean", "std"] if model.variational else ["mean"], ENCODER_FILE),
        (_Decoder(model), (codes, *label_input), ["z", *label_name], ["image"], DECODER_FILE),
    ):
        first = "image" if filename == ENCODER_FILE else "z"
        dynamic = {first: {0: batch}, **({"label": {0: batch}} if model.conditional else {})}
        program = torch.onnx.export(module.eval(), inputs, dynamo=True, opset_version=opset, input_names=input_names,
                                    output_names=output_names, dynamic_shapes=dynamic, external_data=False,
                                    verbose=False)
        for key, value in metadata.items():
            program.model.metadata_props[key] = value
        path = folder / filename
        program.save(path)  # weights inside the one file (they are a few MB), as the browser fetches it
        written.append(path)
    return written[0], written[1]


def export_onnx(name: str, out: Path | None = None, opset: int = OPSET) -> OnnxExport:
    """Export the bundled weights of zoo entry `name` to `out` (default weights/<name>/onnx/, recorded
    in the model card: opset, sizes, the check) and check them against PyTorch."""

    spec = get_spec(name)
    weights_folder = spec.bundled_dir
    model = load_weights(spec, weights_folder, torch.device("cpu"))
    folder = Path(out) if out else onnx_folder(weights_folder)
    encoder, decoder = export_model(model, folder, name, opset)
    diffs = check_export(model, folder)
    done = OnnxExport(name, folder, opset, encoder.stat().st_size, decoder.stat().st_size, diffs)
    if out is None:
        write_card(spec, weights_folder, onnx={"opset": opset, "encoder_bytes": done.encoder_bytes,
                                               "decoder_bytes": done.decoder_bytes,
                                               "max_abs_diff": {k: float(f"{v:.1e}") for k, v in diffs.items()}})
    return done


def fixed_inputs(model: nn.Module, batch: int = 8) -> tuple[Tensor, Tensor, Tensor]:
    """Seeded test inputs, the same on every run: images (B, C, H, W) in [0, 1], codes (B, D) from
    N(0, 1.5² I) (past the prior's bulk too), labels (B,) cycling through the classes."""
    generator = torch.Generator().manual_seed(0)
    images = torch.rand((batch, *model.input_shape), generator=generator)
    codes = 1.5 * torch.randn((batch, model.latent_dim), generator=generator)
    labels = torch.arange(batch) % getattr(model, "num_classes", 1)
    return images, codes, labels


def check_export(model: nn.Module, folder: Path) -> dict[str, float]:
    """Run `folder`'s encoder.onnx and decoder.onnx with onnxruntime on `fixed_inputs` and return the
    largest absolute difference from PyTorch for each output ("image": decoded probabilities)."""
    import onnxruntime

    model = _cpu_copy(model)
    images, codes, labels = fixed_inputs(model)
    label_feed = {"label": labels.numpy()} if model.conditional else {}
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1  # small graphs: threads cost more than they save
    run = {filename: onnxruntime.InferenceSession(str(Path(folder) / filename), options, providers=["CPUExecutionProvider"])
           for filename in (ENCODER_FILE, DECODER_FILE)}
    with torch.no_grad():
        decoded = model.decode(codes, labels if model.conditional else None).numpy()
        posterior = model.encode(images, labels if model.conditional else None)
    (onnx_image,) = run[DECODER_FILE].run(["image"], {"z": codes.numpy(), **label_feed})
    outputs = ["mean", "std"] if model.variational else ["mean"]
    onnx_posterior = dict(zip(outputs, run[ENCODER_FILE].run(outputs, {"image": images.numpy(), **label_feed})))
    diffs = {"image": float(np.abs(onnx_image - decoded).max()),
             "mean": float(np.abs(onnx_posterior["mean"] - posterior.mean.numpy()).max())}
    if model.variational:
        diffs["std"] = float(np.abs(onnx_posterior["std"] - posterior.std.numpy()).max())
    return diffs


def read_metadata(path: Path) -> dict:
    """The zoo's metadata recorded in an exported file (opset, zoo version, name, latent size, ...)."""
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    return {prop.key: prop.value for prop in model.metadata_props}


def describe(model: nn.Module, name: str) -> dict:
    """What the page needs to run an export of `model`: shapes, inputs and what the model can do."""
    return {"name": name, "latent_dim": int(model.latent_dim), "input_shape": list(model.input_shape),
            "conditional": bool(model.conditional), "variational": bool(model.variational),
            "num_classes": int(getattr(model, "num_classes", 0))}


def _metadata(model: nn.Module, name: str, opset: int) -> dict[str, str]:
    return {"vae_zoo_version": __version__, "opset": str(opset), "vae_zoo_model": json.dumps(describe(model, name))}


def _cpu_copy(model: nn.Module) -> nn.Module:
    # Cached models are shared (zoo.create_model): a model on another device is copied, never moved.
    return model if next(model.parameters()).device.type == "cpu" else copy.deepcopy(model).cpu().eval()


def summary(export: OnnxExport) -> str:
    """One line for the command line: sizes and the check."""
    diffs = ", ".join(f"{k} {v:.1e}" for k, v in export.max_abs_diff.items())
    return (f"{export.name}: wrote {export.folder} (opset {export.opset}; encoder {export.encoder_bytes / 1e6:.2f} MB, "
            f"decoder {export.decoder_bytes / 1e6:.2f} MB; max |onnxruntime − PyTorch|: {diffs})")


__all__ = ["OPSET", "ONNX_DIR", "ENCODER_FILE", "DECODER_FILE", "OnnxExport", "export_model", "export_onnx",
           "check_export", "fixed_inputs", "read_metadata", "describe", "onnx_folder", "summary"]
