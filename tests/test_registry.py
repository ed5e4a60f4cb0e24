"""The registry: names, wildcards, duplicates, plugin discovery and isolation of broken plugins."""

import textwrap

import pytest

import zoo
from zoo import registry

PLUGIN = textwrap.dedent('''
    from zoo import ModelSpec, register_model

    @register_model("{name}")
    def entry():
        return ModelSpec(family="vae", dataset="mnist", model_args=dict(latent_dim=3, channels=[8, 8], hidden=16))
''')


def test_the_zoo_has_an_ae_vae_and_cvae_per_dataset():
    for dataset in ("mnist", "fashion_mnist"):
        specs = [zoo.get_spec(n) for n in zoo.list_models(f"*.{dataset}")]
        assert {s.family for s in specs} == {"ae", "vae", "cvae"}
        assert any(s.family == "ae" and s.latent_dim == 2 for s in specs)
        assert any(s.family == "vae" and s.latent_dim == 2 for s in specs)
    assert zoo.get_spec("vae_conv_z16.fashion_mnist").latent_dim >= 16
    assert zoo.get_spec("cvae_conv_z16.fashion_mnist").latent_dim >= 16


def test_list_models_wildcards_and_sorting():
    everything = zoo.list_models()
    assert everything == sorted(everything) and len(everything) >= 6
    assert all(n.startswith("vae") for n in zoo.list_models("vae*"))
    assert zoo.list_models("*.mnist") and all(n.endswith(".mnist") for n in zoo.list_models("*.mnist"))
    assert zoo.list_models("no-such-thing*") == []


@pytest.mark.parametrize("name", zoo.list_models())
def test_spec_metadata(name):
    spec = zoo.get_spec(name)
    assert spec.name == name and name.count(".") == 1
    assert spec.family in ("ae", "vae", "cvae") and spec.dataset == name.split(".")[1]
    dataset = zoo.get_dataset(spec.dataset)
    assert spec.input_shape == dataset.input_shape
    assert spec.conditional == spec.model_class().conditional and spec.variational == spec.model_class().variational
    assert spec.label_names == (list(dataset.label_names) if spec.conditional else [])
    assert spec.recipe.epochs > 0 and spec.recipe.batch_size > 0 and spec.recipe.lr > 0
    assert spec.description
    d = spec.as_dict()
    assert d["latent_dim"] == spec.latent_dim and d["recipe"]["seed"] == spec.recipe.seed


def test_unknown_name_lists_close_matches():
    with pytest.raises(ValueError, match="vae_conv_z2.mnist"):
        zoo.get_spec("vae_conv_z2.mnst")
    with pytest.raises(ValueError, match="python -m zoo list"):
        zoo.create_model("completely-different")


def test_bad_names_are_rejected():
    with pytest.raises(ValueError, match="arch.tag"):
        zoo.register_model("no_dot")


def test_duplicate_name_names_both_places(isolated_registry):
    @zoo.register_model("dup_test.mnist")
    def first():
        raise AssertionError

    with pytest.raises(ValueError) as err:
        @zoo.register_model("dup_test.mnist")
        def second():
            raise AssertionError
    message = str(err.value)
    assert "registered twice" in message and message.count("test_registry.py:") == 2


def test_plugin_folder_from_env(isolated_registry, tmp_path, monkeypatch):
    (tmp_path / "extra.py").write_text(PLUGIN.format(name="vae_tiny_z3.mnist"))
    monkeypatch.setenv("ZOO_PLUGIN_PATH", str(tmp_path))
    registry.discover_plugins(force=True)
    assert "vae_tiny_z3.mnist" in zoo.list_models()
    spec = zoo.get_spec("vae_tiny_z3.mnist")
    assert spec.latent_dim == 3 and str(tmp_path / "extra.py") in spec.source
    model = zoo.create_model("vae_tiny_z3.mnist", pretrained=False)
    assert model.encode(__import__("torch").rand(2, 1, 28, 28)).mean.shape == (2, 3)


def test_entry_point_plugin(isolated_registry, tmp_path, monkeypatch):
    (tmp_path / "fake_zoo_plugin.py").write_text(PLUGIN.format(name="vae_ep_z3.mnist"))
    dist = tmp_path / "fake_zoo_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: fake-zoo-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[vae_zoo.plugins]\nfake = fake_zoo_plugin\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    registry.discover_plugins(force=True)
    assert "vae_ep_z3.mnist" in zoo.list_models()


def test_broken_plugin_is_logged_and_skipped(isolated_registry, tmp_path, monkeypatch, caplog):
    (tmp_path / "broken.py").write_text("raise ImportError('this plugin is broken on purpose')\n")
    (tmp_path / "fine.py").write_text(PLUGIN.format(name="vae_fine_z3.mnist"))
    monkeypatch.setenv("ZOO_PLUGIN_PATH", str(tmp_path))
    with caplog.at_level("ERROR"):
        registry.discover_plugins(force=True)
    assert "vae_fine_z3.mnist" in zoo.list_models()
    assert any("broken.py" in r.getMessage() and "broken on purpose" in r.getMessage() for r in caplog.records)
    assert str(tmp_path / "broken.py") in registry.plugin_errors
    assert zoo.get_spec("vae_conv_z2.mnist").family == "vae"  # the zoo still works


def test_bad_spec_is_a_clear_error(isolated_registry):
    @zoo.register_model("bad_family.mnist")
    def bad():
        return zoo.ModelSpec(family="gan", dataset="mnist", model_args=dict(latent_dim=2))

    with pytest.raises(ValueError, match="family 'gan'"):
        zoo.get_spec("bad_family.mnist")

    from zoo.__main__ import main  # the listing says what is wrong and lists the rest

    assert main(["list", "*.mnist"]) == 0


def test_import_zoo_is_light():
    import subprocess
    import sys

    code = ("import sys, zoo; zoo.list_models(); heavy = [m for m in sys.modules if m.split('.')[0] in "
            "('gradio', 'torchvision', 'matplotlib') or m in ('zoo.train', 'zoo.evaluate', 'zoo.classifier')]; "
            "print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=registry.REPO_ROOT, check=True)
    assert out.stdout.strip() == "[]", out.stdout


def test_a_conditional_model_has_as_many_classes_as_its_dataset_has_labels(isolated_registry):
    @zoo.register_model("cvae_eleven.mnist")
    def eleven():
        return zoo.ModelSpec(family="cvae", dataset="mnist", model_args=dict(latent_dim=2, num_classes=11))

    with pytest.raises(ValueError, match="num_classes=11, but mnist has 10 labels"):
        zoo.get_spec("cvae_eleven.mnist")


def test_an_unknown_dataset_is_a_clear_error(isolated_registry):
    @zoo.register_model("vae_nowhere.cifar")
    def nowhere():
        return zoo.ModelSpec(family="vae", dataset="cifar", model_args=dict(latent_dim=2))

    with pytest.raises(ValueError, match="dataset 'cifar' is not one of"):
        zoo.get_spec("vae_nowhere.cifar")
