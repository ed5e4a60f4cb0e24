"""Weight and plugin faults, beyond tests/test_weights.py and test_registry.py (which cover the
zoo's own loading): more kinds of broken files, and what the *app* does with them. A broken
model is an error that names the model and the file, in the tab that uses it; the app starts,
and every other model keeps answering.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

import zoo
from zoo.weights import CONFIG_FILE, WEIGHTS_FILE, model_cache

from random_zoo import served_app, shared_random_weights, weights_dir, write_random_weights

MODELS = [n for n in zoo.list_models() if not zoo.get_spec(n).study]  # the ones every tab serves (not the β sweep)


@pytest.fixture(scope="module")
def random_weights(tmp_path_factory) -> Path:
    return shared_random_weights(tmp_path_factory)


def copy_of(random_weights: Path, folder: Path) -> Path:
    shutil.copytree(random_weights, folder, dirs_exist_ok=True)
    return folder


# Each fault: how to break a model's folder, and a word the error must contain besides the model and file.
def truncate(folder: Path) -> None:
    data = (folder / WEIGHTS_FILE).read_bytes()
    (folder / WEIGHTS_FILE).write_bytes(data[: len(data) // 3])


def wrong_shape(folder: Path) -> None:
    state = load_file(folder / WEIGHTS_FILE)
    key = next(k for k in state if state[k].ndim >= 2)
    state[key] = torch.zeros(state[key].shape[0] + 3, *state[key].shape[1:])
    save_file(state, folder / WEIGHTS_FILE)


def missing_tensor(folder: Path) -> None:
    state = load_file(folder / WEIGHTS_FILE)
    state.pop(sorted(state)[-1])
    save_file(state, folder / WEIGHTS_FILE)


def extra_tensor(folder: Path) -> None:
    save_file({**load_file(folder / WEIGHTS_FILE), "decoder.surprise": torch.zeros(3)}, folder / WEIGHTS_FILE)


def config_mismatch(folder: Path) -> None:
    config = json.loads((folder / CONFIG_FILE).read_text())
    config["latent_dim"] = config["latent_dim"] + 5
    (folder / CONFIG_FILE).write_text(json.dumps(config))


FAULTS = {
    "truncated": (truncate, WEIGHTS_FILE),
    "wrong shape": (wrong_shape, WEIGHTS_FILE),
    "missing tensor": (missing_tensor, WEIGHTS_FILE),
    "extra tensor": (extra_tensor, WEIGHTS_FILE),
    "config does not match": (config_mismatch, CONFIG_FILE),
    "empty weights file": (lambda f: (f / WEIGHTS_FILE).write_bytes(b""), WEIGHTS_FILE),
    "not safetensors": (lambda f: (f / WEIGHTS_FILE).write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100)), WEIGHTS_FILE),
    "header claims a terabyte": (lambda f: (f / WEIGHTS_FILE).write_bytes((10**12).to_bytes(8, "little") + b"{}"), WEIGHTS_FILE),
    "config is a list": (lambda f: (f / CONFIG_FILE).write_text("[16, 2]"), CONFIG_FILE),
    "config is null": (lambda f: (f / CONFIG_FILE).write_text("null"), CONFIG_FILE),
    "config is not JSON": (lambda f: (f / CONFIG_FILE).write_text("latent_dim: 2"), CONFIG_FILE),
    "config missing": (lambda f: (f / CONFIG_FILE).unlink(), CONFIG_FILE),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_each_fault_names_the_model_and_the_file(fault, random_weights, tmp_path):
    name, other = MODELS[0], MODELS[-1]
    folder = copy_of(random_weights, tmp_path / "weights")
    breaks, file = FAULTS[fault]
    breaks(folder / name)
    with weights_dir(folder):
        with pytest.raises(ValueError) as err:
            zoo.create_model(name)
        assert name in str(err.value) and str(folder / name / file) in str(err.value), str(err.value)
        assert zoo.create_model(other) is not None  # the others still load


def test_weights_that_are_a_folder_say_how_to_train(random_weights, tmp_path):
    name = MODELS[0]
    folder = copy_of(random_weights, tmp_path / "weights")
    (folder / name / WEIGHTS_FILE).unlink()
    (folder / name / WEIGHTS_FILE).mkdir()
    with weights_dir(folder), pytest.raises(FileNotFoundError, match=f"{name}.*python -m zoo train"):
        zoo.create_model(name)


# ---------------------------------------------------------------------------------------------
# The app over a zoo with broken models and broken plugins


PLUGINS = {
    "raises_on_import.py": "raise ImportError('this plugin is broken on purpose')\n",
    "bad_entry.py": (
        "from zoo import ModelSpec, register_model\n\n"
        "@register_model('gan_conv_z2.mnist')\n"
        "def gan():\n"
        "    return ModelSpec(family='gan', dataset='mnist', model_args=dict(latent_dim=2))\n\n"
        "@register_model('vae_raises_z2.mnist')\n"
        "def raises():\n"
        "    raise RuntimeError('this entry is broken on purpose')\n"),
    "fine.py": (
        "from zoo import ModelSpec, register_model\n\n"
        "@register_model('vae_plugin_z3.mnist')\n"
        "def fine():\n"
        "    return ModelSpec(family='vae', dataset='mnist', model_args=dict(latent_dim=3))\n"),
}


@pytest.mark.skipif(len(MODELS) < 6, reason="needs five models to break and one to keep")
def test_broken_models_and_plugins_do_not_break_the_app(isolated_registry, random_weights, tmp_path, monkeypatch):
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    plugins = tmp_path / "plugins"
    plugins.mkdir()
    for file, text in PLUGINS.items():
        (plugins / file).write_text(text)
    monkeypatch.setenv("ZOO_PLUGIN_PATH", str(plugins))
    isolated_registry.discover_plugins(force=True)
    assert str(plugins / "raises_on_import.py") in isolated_registry.plugin_errors

    folder = copy_of(random_weights, tmp_path / "weights")
    write_random_weights(folder, ["vae_plugin_z3.mnist"])
    broken = dict(zip(MODELS, ["truncated", "wrong shape", "missing tensor", "extra tensor", "config does not match"]))
    for name, fault in broken.items():
        FAULTS[fault][0](folder / name)
    healthy = [n for n in MODELS if n not in broken] + ["vae_plugin_z3.mnist"]

    with served_app(folder) as (url, demo):
        client = Client(url, verbose=False, download_files=False)
        choices = client.view_api(print_info=False, return_format="dict")["named_endpoints"]["/sample"]["parameters"][0]
        assert "vae_plugin_z3.mnist" in json.dumps(choices) and "gan_conv_z2" not in json.dumps(choices)
        for name, fault in broken.items():
            with pytest.raises(AppError) as err:
                client.predict(model=name, grid_size=2, api_name="/sample")
            file = FAULTS[fault][1]
            assert name in str(err.value) and file in str(err.value), (fault, str(err.value))
        for name in healthy:  # every other model answers, in every tab that fits it
            assert client.predict(model=name, grid_size=2, api_name="/sample")[0]
            assert client.predict(model=name, example_index=4, api_name="/traverse")[1]
            spec = zoo.get_spec(name)
            if spec.conditional:
                assert client.predict(model=name, api_name="/swap_labels")[2]
            else:
                assert client.predict(dataset=spec.dataset, models=[name], api_name="/reconstruct")[1]
        for name in MODELS[:2]:  # asking again gives the same answer, not a half-loaded model
            with pytest.raises(AppError, match=name):
                client.predict(model=name, api_name="/interpolate")
    model_cache.clear()
