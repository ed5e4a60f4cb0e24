"""Training on tiny data: the loss goes down, runs are reproducible, and the folder is complete."""

import json

import pytest
import torch
from safetensors.torch import load_file

import zoo
from zoo.train import train


def tiny_split(n=64, seed=0):
    """Blobs of light pixels on a dark background, one position per label: easy to learn."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % 10
    images = torch.zeros(n, 1, 28, 28)
    for i, label in enumerate(labels.tolist()):
        r, c = 2 + (label // 5) * 10, 2 + (label % 5) * 4
        images[i, 0, r:r + 8, c:c + 8] = 0.7 + 0.3 * torch.rand(8, 8, generator=g)
    return images, labels


@pytest.mark.parametrize("name", ["ae_conv_z2.mnist", "vae_conv_z2.mnist", "cvae_conv_z8.mnist"])
def test_training_smoke(name, tmp_path):
    split = tiny_split()
    result = train(name, epochs=4, out=tmp_path, train_split=split, test_split=tiny_split(32, 1), progress=False,
                   data_source="synthetic blobs")
    losses = [row["train_loss"] for row in result.history]
    assert losses[-1] < losses[0]
    assert {p.name for p in tmp_path.iterdir()} >= {"config.json", "model.safetensors", "README.md"}
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["latent_dim"] == zoo.get_spec(name).latent_dim
    card = (tmp_path / "README.md").read_text()
    assert "synthetic blobs" in card and "| 4 |" in card


def test_training_is_reproducible(tmp_path):
    split = tiny_split()
    for run in ("a", "b"):
        train("vae_conv_z2.mnist", epochs=1, out=tmp_path / run, train_split=split, test_split=split, progress=False)
    a, b = load_file(tmp_path / "a" / "model.safetensors"), load_file(tmp_path / "b" / "model.safetensors")
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_cli_train_and_list(tmp_path, capsys, monkeypatch):
    from zoo.__main__ import main

    assert main(["list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["name"] for r in rows} == set(zoo.list_models())
    assert set(rows[0]) == {"name", "family", "dataset", "latent_dim", "conditional", "label_names", "weights"}
    assert main(["list", "cvae*"]) == 0
    assert "cvae_conv_z8.mnist" in capsys.readouterr().out
    assert main(["eval", "no_such.model"]) == 2
    assert "unknown model" in capsys.readouterr().err
