"""The ONNX exports (zoo/onnx.py): every registered model's shipped export runs in onnxruntime and
gives what PyTorch gives, and exporting works for every family."""

from __future__ import annotations

import json

import numpy as np
import onnxruntime
import pytest
import torch
from conftest import has_weights

import zoo
from zoo import onnx as zoo_onnx
from zoo.__main__ import main

PROBABILITY_TOLERANCE = 1e-4  # decoded pixels, probabilities in [0, 1]
POSTERIOR_TOLERANCE = 1e-4  # μ and σ, in latent units


@pytest.mark.parametrize("name", zoo.list_models())
def test_shipped_export_matches_pytorch(name):
    if not has_weights(name):
        pytest.skip(f"{name} has no weights yet")
    spec = zoo.get_spec(name)
    folder = zoo_onnx.onnx_folder(spec.bundled_dir)
    assert (folder / zoo_onnx.DECODER_FILE).is_file(), f"{name} has no ONNX export: run `vae-zoo export-onnx {name}`"
    model = zoo.create_model(name, device="cpu")
    diffs = zoo_onnx.check_export(model, folder)
    assert diffs["image"] <= PROBABILITY_TOLERANCE, (name, diffs)
    assert max(diffs.values()) <= POSTERIOR_TOLERANCE, (name, diffs)


@pytest.mark.parametrize("name", zoo.list_models())
def test_shipped_export_records_opset_and_model(name):
    spec = zoo.get_spec(name)
    folder = zoo_onnx.onnx_folder(spec.bundled_dir)
    if not (folder / zoo_onnx.DECODER_FILE).is_file():
        pytest.skip(f"{name} has no ONNX export")
    for filename in (zoo_onnx.ENCODER_FILE, zoo_onnx.DECODER_FILE):
        metadata = zoo_onnx.read_metadata(folder / filename)
        assert int(metadata["opset"]) == zoo_onnx.OPSET
        described = json.loads(metadata["vae_zoo_model"])
        assert described["name"] == name and described["latent_dim"] == spec.latent_dim
        assert described["conditional"] == spec.conditional and described["variational"] == spec.variational
        session = onnxruntime.InferenceSession(str(folder / filename), providers=["CPUExecutionProvider"])
        inputs = [i.name for i in session.get_inputs()]
        assert ("label" in inputs) == spec.conditional, inputs
        if filename == zoo_onnx.ENCODER_FILE:
            assert [o.name for o in session.get_outputs()] == (["mean", "std"] if spec.variational else ["mean"])


@pytest.mark.parametrize("family, options", [("ae", {}), ("vae", {}), ("cvae", {}), ("cvae", {"encoder_film": True})])
def test_export_of_each_family_takes_any_batch(family, options, tmp_path):
    """A freshly initialised small model of each family exports, and its graphs take a batch size other than the traced one."""
    args = dict(latent_dim=3, input_shape=(1, 8, 8), channels=(4,), hidden=8) | ({"num_classes": 4} if family == "cvae" else {}) | options
    torch.manual_seed(0)
    model = zoo.models.FAMILY_CLASSES[family](**args).eval().requires_grad_(False)
    zoo_onnx.export_model(model, tmp_path, f"test-{family}")
    assert max(zoo_onnx.check_export(model, tmp_path).values()) <= PROBABILITY_TOLERANCE  # batch 8, traced at 2
    decoder = onnxruntime.InferenceSession(str(tmp_path / zoo_onnx.DECODER_FILE), providers=["CPUExecutionProvider"])
    z = np.zeros((1, 3), np.float32)
    feed = {"z": z, **({"label": np.array([3])} if family == "cvae" else {})}
    (image,) = decoder.run(None, feed)
    expected = model.decode(torch.tensor(z), torch.tensor([3]) if family == "cvae" else None)
    assert image.shape == (1, 1, 8, 8) and np.abs(image - expected.numpy()).max() <= PROBABILITY_TOLERANCE


def test_cli_exports_into_a_folder(tmp_path, capsys):
    name = "vae_conv_z2.mnist"
    if not has_weights(name):
        pytest.skip(f"{name} has no weights yet")
    assert main(["export-onnx", name, "--out", str(tmp_path)]) == 0
    assert f"opset {zoo_onnx.OPSET}" in capsys.readouterr().out
    assert {p.name for p in tmp_path.iterdir()} == {zoo_onnx.ENCODER_FILE, zoo_onnx.DECODER_FILE}


def test_cli_needs_a_name_or_all():
    with pytest.raises(SystemExit, match="--all"):
        main(["export-onnx"])
