"""The bundled weights: strict loading, bit-exact round trips, and bad files rejected clearly."""

import json
import shutil

import pytest
import torch
from safetensors.torch import load_file, save_file

import zoo
from zoo.registry import BUNDLED_WEIGHTS_DIR
from zoo.weights import CONFIG_FILE, WEIGHTS_FILE, model_cache

NAMES = zoo.list_models()


@pytest.fixture
def weights_copy(tmp_path, monkeypatch):
    """A copy of the bundled weights under ZOO_WEIGHTS_DIR, safe to corrupt."""
    def make(name):
        shutil.copytree(BUNDLED_WEIGHTS_DIR / name, tmp_path / name)
        monkeypatch.setenv("ZOO_WEIGHTS_DIR", str(tmp_path))
        return tmp_path / name
    yield make
    model_cache.clear()


@pytest.mark.parametrize("name", NAMES)
def test_bundled_weights_load_strictly(name):
    spec = zoo.get_spec(name)
    folder = spec.bundled_dir
    assert (folder / CONFIG_FILE).is_file() and (folder / WEIGHTS_FILE).is_file() and (folder / "README.md").is_file()
    assert (folder / WEIGHTS_FILE).stat().st_size < 8 * 2**20, "keep bundled weights small"
    model = zoo.create_model(name)
    assert not model.training
    assert model.weights_source.startswith("bundled")
    state = load_file(folder / WEIGHTS_FILE)
    assert set(state) == set(model.state_dict())
    for key, tensor in model.state_dict().items():
        assert torch.equal(tensor, state[key]), key


@pytest.mark.parametrize("name", NAMES)
def test_create_model_is_cached(name):
    assert zoo.create_model(name) is zoo.create_model(name)


@pytest.mark.parametrize("name", NAMES)
def test_save_and_load_round_trip_bit_exact(name, tmp_path):
    model = zoo.create_model(name)
    model.save_pretrained(tmp_path)
    again = type(model).from_pretrained(str(tmp_path), strict=True)
    for (k1, v1), (k2, v2) in zip(model.state_dict().items(), again.state_dict().items()):
        assert k1 == k2 and torch.equal(v1, v2)
    spec = zoo.get_spec(name)
    x = torch.rand(3, *spec.input_shape, generator=torch.Generator().manual_seed(0))
    y = torch.tensor([0, 1, 2]) if spec.conditional else None
    assert torch.equal(model.decode(model.encode(x, y).mean, y), again.eval().decode(again.encode(x, y).mean, y))


@pytest.mark.parametrize("name", NAMES)
def test_card_records_training_and_metrics(name):
    from zoo.cards import read_record

    spec = zoo.get_spec(name)
    record = read_record(spec.bundled_dir)
    history = record.get("training", {}).get("history")
    assert history, "the card records the training run"
    first = history[0]["test_loss"] if len(history) > 1 else history[0]["train_loss"]  # one epoch: its running mean
    assert history[-1]["test_loss"] < first, "the weights are trained, not random"
    assert record["training"]["data_source"]
    assert record.get("metrics", {}).get("recon_nats"), f"run `python -m zoo eval {name}`"
    text = (spec.bundled_dir / "README.md").read_text()
    assert f'zoo.create_model("{name}")' in text


def corrupt_and_expect(name, folder, match):
    model_cache.clear()
    with pytest.raises(ValueError, match=match) as err:
        zoo.create_model(name)
    assert name in str(err.value)
    return str(err.value)


@pytest.mark.parametrize("name", NAMES[:1] + [n for n in NAMES if zoo.get_spec(n).conditional][:1])
def test_truncated_file_rejected(name, weights_copy):
    folder = weights_copy(name)
    data = (folder / WEIGHTS_FILE).read_bytes()
    (folder / WEIGHTS_FILE).write_bytes(data[: len(data) // 2])
    assert WEIGHTS_FILE in corrupt_and_expect(name, folder, "do not fit")


def test_wrong_shapes_rejected(weights_copy):
    name = NAMES[0]
    folder = weights_copy(name)
    state = load_file(folder / WEIGHTS_FILE)
    key = next(k for k in state if k.endswith("weight") and state[k].ndim == 2)
    state[key] = torch.zeros(state[key].shape[0] + 1, state[key].shape[1])
    save_file(state, folder / WEIGHTS_FILE)
    message = corrupt_and_expect(name, folder, "do not fit")
    assert "size mismatch" in message or key in message


def test_missing_and_extra_tensors_rejected(weights_copy):
    name = NAMES[0]
    folder = weights_copy(name)
    state = load_file(folder / WEIGHTS_FILE)
    missing = dict(state)
    missing.pop(next(iter(missing)))
    save_file(missing, folder / WEIGHTS_FILE)
    assert "Missing" in corrupt_and_expect(name, folder, "do not fit")
    save_file({**state, "surprise": torch.zeros(1)}, folder / WEIGHTS_FILE)
    assert "Unexpected" in corrupt_and_expect(name, folder, "do not fit")


def test_config_that_does_not_match_rejected(weights_copy):
    name = NAMES[0]
    folder = weights_copy(name)
    config = json.loads((folder / CONFIG_FILE).read_text())
    config["latent_dim"] += 1
    (folder / CONFIG_FILE).write_text(json.dumps(config))
    corrupt_and_expect(name, folder, "does not match the registered model")
    (folder / CONFIG_FILE).write_text("{not json")
    corrupt_and_expect(name, folder, "cannot read")


@pytest.mark.parametrize("name", NAMES)
def test_bundled_config_names_its_family_and_zoo_version(name):
    config = json.loads((zoo.get_spec(name).bundled_dir / CONFIG_FILE).read_text())
    assert config["architecture"] == zoo.get_spec(name).family and config["zoo_version"]


def test_a_config_of_another_family_is_rejected(weights_copy):
    name = next(n for n in NAMES if zoo.get_spec(n).family == "vae")
    folder = weights_copy(name)
    config = json.loads((folder / CONFIG_FILE).read_text())
    (folder / CONFIG_FILE).write_text(json.dumps({**config, "architecture": "ae"}))
    corrupt_and_expect(name, folder, "holds an 'ae'")


def test_saved_weights_load_without_a_plugin(tmp_path):
    from zoo.train import save
    from zoo.weights import load_folder

    spec = zoo.get_spec(next(n for n in NAMES if zoo.get_spec(n).conditional))
    model = zoo.create_model(spec.name, pretrained=False)
    save(model, spec, tmp_path, recipe=spec.recipe, history=[], data_source="tests", device="cpu")
    config = json.loads((tmp_path / CONFIG_FILE).read_text())
    assert config["architecture"] == spec.family and config["zoo_version"] == zoo.__version__
    loaded = load_folder(tmp_path, torch.device("cpu"))
    assert type(loaded) is type(model) and not loaded.training
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in loaded.state_dict().items())
    (tmp_path / CONFIG_FILE).write_text(json.dumps({**config, "surprise": 1}))  # strict on the constructor's arguments
    with pytest.raises(ValueError, match="surprise"):
        load_folder(tmp_path, torch.device("cpu"))
    (tmp_path / CONFIG_FILE).write_text(json.dumps({**config, "architecture": "gan"}))
    with pytest.raises(zoo.InputError, match="'gan'"):
        load_folder(tmp_path, torch.device("cpu"))


def test_missing_weights_say_how_to_train(tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_WEIGHTS_DIR", str(tmp_path))
    model_cache.clear()
    with pytest.raises(FileNotFoundError, match="python -m zoo train"):
        zoo.create_model(NAMES[0])


def test_broken_files_do_not_break_other_models(weights_copy):
    name, other = NAMES[0], NAMES[1]
    folder = weights_copy(name)
    weights_copy(other)
    (folder / WEIGHTS_FILE).write_bytes(b"garbage")
    corrupt_and_expect(name, folder, "do not fit")
    assert zoo.create_model(other) is not None


def test_device_selection(monkeypatch):
    monkeypatch.setenv("ZOO_DEVICE", "cpu")
    assert zoo.default_device().type == "cpu"
    assert zoo.resolve_device("cpu").type == "cpu"
    with pytest.raises(ValueError, match="unknown device"):
        zoo.resolve_device("tpu-9000")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            zoo.resolve_device("cuda")
