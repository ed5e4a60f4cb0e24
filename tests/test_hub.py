"""The Hub round trip, with the real huggingface_hub client against tests/hubserver.py on 127.0.0.1.

Nothing here reaches the internet, and no client function is patched: the client talks HTTP to the
local server. Each test gets its own server, Hugging Face cache and bundled-weights folder.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import time
from pathlib import Path

import numpy as np
import onnxruntime
import pytest
import torch
from huggingface_hub import constants, hf_hub_download
from safetensors.torch import load_file

import zoo
from zoo import download, hub
from zoo import onnx as zoo_onnx
from zoo.__main__ import main as cli
from zoo.cards import write_card
from zoo.models import VAE
from zoo.weights import model_cache, resolve_weights

from hubserver import HubServer  # tests/ is on pytest's pythonpath (pyproject.toml)

NAME = "vae_conv_z2.mnist"
ORG = "zoo-org"
METRICS = {"recon_nats": 140.5, "mse_per_pixel": 0.021, "kl_nats": 6.25, "neg_elbo_nats": 146.75}


@pytest.fixture
def server(tmp_path, monkeypatch):
    """A fresh Hub on a free port, with HF_ENDPOINT, the token, a private HF cache and bundled folder."""
    server = HubServer()
    monkeypatch.setenv("HF_ENDPOINT", server.start())
    monkeypatch.setenv("HF_TOKEN", server.token)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf" / "hub"))
    monkeypatch.setenv("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    monkeypatch.setenv("ZOO_WEIGHTS_DIR", str(tmp_path / "weights"))
    # Generous: CI runs four test processes on two cores, and a healthy exchange once took over 2 s there.
    # The tests of a slow Hub set their own short timeout.
    monkeypatch.setenv("ZOO_HUB_TIMEOUT", "10")
    monkeypatch.delenv("ZOO_HUB_ORG", raising=False)
    # conftest sets HF_HUB_OFFLINE=1 before huggingface_hub is imported, which the client reads once into
    # this constant; these tests talk to 127.0.0.1 only, so they are online as far as the client knows.
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    hub.set_hub_org(None)
    model_cache.clear()
    make_weights(tmp_path / "weights", seed=0)
    yield server
    hub.set_hub_org(None)
    model_cache.clear()
    server.stop()


def make_weights(root: Path, seed: int, metrics: dict | None = METRICS) -> Path:
    """A freshly initialised NAME in the bundled layout, with a card that has metrics."""
    torch.manual_seed(seed)
    folder = root / NAME
    zoo.create_model(NAME, pretrained=False).save_pretrained(folder)
    write_card(zoo.get_spec(NAME), folder, training={"data_source": "tests", "trained_on": "cpu"}, metrics=metrics)
    return folder


def bundled_file() -> Path:
    return zoo.get_spec(NAME).bundled_dir / "model.safetensors"


def spec_with(**changes):
    return dataclasses.replace(zoo.get_spec(NAME), **changes)


def fresh_lookup() -> zoo.weights.WeightsLocation:
    """resolve_weights as a new process would: nothing remembered about the Hub."""
    hub.reset()
    return resolve_weights(zoo.get_spec(NAME))


def hub_warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "zoo.download" and r.levelno == logging.WARNING]


# ---------------------------------------------------------------------------------------------
# Publish, then load


def test_publish_then_load_is_bit_equal(server):
    done = hub.publish(NAME, org=ORG)
    assert (done.repo_id, done.url) == (f"{ORG}/{NAME}", f"{server.url}/{ORG}/{NAME}")
    files = server.files(done.repo_id)
    assert {"config.json", "model.safetensors", "README.md"} <= set(files)
    assert files["model.safetensors"] == bundled_file().read_bytes()
    assert done.sha256 == hashlib.sha256(files["model.safetensors"]).hexdigest()

    hub.set_hub_org(ORG)
    model = zoo.create_model(NAME, device="cpu")
    assert model.weights_source == f"hub:{ORG}/{NAME}@{done.commit}"
    expected = load_file(bundled_file())
    state = model.state_dict()
    assert set(state) == set(expected)
    assert all(torch.equal(state[k], expected[k]) for k in expected)
    cached = resolve_weights(zoo.get_spec(NAME)).folder
    assert Path(hub.cache_dir()) in cached.parents  # the standard HF cache layout
    assert (cached / "model.safetensors").read_bytes() == bundled_file().read_bytes()
    # the card's snippet, offline from that cache: the published config.json is what the mixin needs
    snippet_model = VAE.from_pretrained(done.repo_id, strict=True, cache_dir=hub.cache_dir(), local_files_only=True)
    assert all(torch.equal(v, expected[k]) for k, v in snippet_model.state_dict().items())


def test_published_card_has_model_index_recipe_and_snippet(server):
    hub.publish(NAME, org=ORG)
    card = server.files(f"{ORG}/{NAME}")["README.md"].decode()
    front, body = card.split("\n---\n", 1)
    for needle in ("license: mit", "vae-zoo", "ylecun/mnist", "model-index:", "neg_elbo_nats", "146.75",
                   "type: image-to-image", "library_name: vae-zoo"):
        assert needle in front, needle
    assert "## Training recipe" in body
    snippet = body.split("## Load it", 1)[1].split("```python\n", 1)[1].split("```", 1)[0].strip().splitlines()
    assert len(snippet) == 3 and snippet[0].startswith("import zoo")
    assert f'model = zoo.create_model("hf-hub:{ORG}/{NAME}")' in snippet[1]


def test_publish_uploads_the_onnx_export_and_says_how_to_run_it(server):
    zoo_onnx.export_onnx(NAME)  # into the test's bundled folder, from its weights; records itself in the card
    done = hub.publish(NAME, org=ORG)
    files = server.files(done.repo_id)
    local = zoo.get_spec(NAME).bundled_dir / "onnx"
    for filename in ("encoder.onnx", "decoder.onnx"):
        assert files[f"onnx/{filename}"] == (local / filename).read_bytes()
    # the real client downloads it, and it decodes what the published weights decode
    path = hf_hub_download(done.repo_id, "onnx/decoder.onnx", revision=done.commit, cache_dir=hub.cache_dir(),
                           endpoint=server.url)
    z = np.linspace(-2, 2, 6, dtype=np.float32).reshape(3, 2)
    (images,) = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"]).run(["image"], {"z": z})
    expected = zoo.create_model(NAME, device="cpu").decode(torch.tensor(z)).numpy()
    assert np.abs(images - expected).max() <= 1e-4
    body = files["README.md"].decode().split("\n---\n", 1)[1]
    assert "## Run it with ONNX Runtime" in body and f'hf_hub_download("{ORG}/{NAME}", "onnx/decoder.onnx")' in body
    assert f"opset {zoo_onnx.OPSET}" in body


def test_a_model_loaded_from_the_hub_brings_its_onnx_export(server):
    zoo_onnx.export_onnx(NAME)
    local = zoo.get_spec(NAME).bundled_dir / "onnx"
    done = hub.publish(NAME, org=ORG)
    hub.set_hub_org(ORG)
    location = resolve_weights(zoo.get_spec(NAME))
    assert location.source == f"hub:{ORG}/{NAME}@{done.commit}"
    assert Path(hub.cache_dir()) in location.folder.parents
    for filename in ("encoder.onnx", "decoder.onnx"):  # beside the weights in the HF cache, where ui/live.py looks
        assert (location.folder / "onnx" / filename).read_bytes() == (local / filename).read_bytes()


def test_a_hub_repo_without_an_onnx_export_still_loads(server):
    done = hub.publish(NAME, org=ORG)
    assert not any(path.startswith("onnx/") for path in server.files(done.repo_id))
    hub.set_hub_org(ORG)
    location = resolve_weights(zoo.get_spec(NAME))
    assert location.source == f"hub:{ORG}/{NAME}@{done.commit}" and not (location.folder / "onnx").exists()


def test_publish_needs_measured_metrics(server, tmp_path):
    make_weights(tmp_path / "weights", seed=0, metrics=None)
    with pytest.raises(ValueError, match="python -m zoo eval"):
        hub.publish(NAME, org=ORG)
    assert server.repo(f"{ORG}/{NAME}") is None
    assert hub.publish(NAME, org=ORG, allow_unmeasured=True).commit


def test_republishing_unchanged_weights_makes_no_commit(server):
    first = hub.publish(NAME, org=ORG)
    assert hub.publish(NAME, org=ORG).commit == first.commit
    assert server.count("POST", "/commit/") == 1


def test_cli_publish_and_list(server, capsys, monkeypatch):
    assert cli(["publish", NAME, "--org", ORG]) == 0
    out = capsys.readouterr().out
    commit = server.repo(f"{ORG}/{NAME}").branches["main"]
    assert f"{server.url}/{ORG}/{NAME} at commit {commit}" in out and f'revision="{commit}"' in out
    monkeypatch.setenv("ZOO_HUB_ORG", ORG)
    hub.reset()
    assert cli(["list", NAME]) == 0
    assert f"hub:{ORG}/{NAME}@{commit}" in capsys.readouterr().out


# ---------------------------------------------------------------------------------------------
# Revisions and the cache


def test_pinned_revision(server, tmp_path):
    first = hub.publish(NAME, org=ORG)
    v1 = bundled_file().read_bytes()
    make_weights(tmp_path / "weights", seed=1)
    second = hub.publish(NAME, org=ORG)
    assert second.commit != first.commit

    pinned = spec_with(hub_repo=f"{ORG}/{NAME}", revision=first.commit, sha256=first.sha256)
    location = resolve_weights(pinned)
    assert location.source == f"hub:{ORG}/{NAME}@{first.commit}"
    assert (location.folder / "model.safetensors").read_bytes() == v1
    assert resolve_weights(spec_with(hub_repo=f"{ORG}/{NAME}")).source == f"hub:{ORG}/{NAME}@{second.commit}"

    hub.reset()
    before = len(server.requests)
    assert resolve_weights(pinned).source == f"hub:{ORG}/{NAME}@{first.commit}"
    assert len(server.requests) == before  # a cached pinned commit needs no request at all


def test_cache_is_reused_without_a_second_download(server):
    hub.publish(NAME, org=ORG)
    hub.set_hub_org(ORG)
    first = fresh_lookup()
    second = fresh_lookup()
    assert first == second and first.source.startswith("hub:")
    assert [server.count("GET", f) for f in ("config.json", "model.safetensors", "README.md")] == [1, 1, 1]
    assert server.count("GET", "/cdn/") == 1  # the weights, from the CDN the Hub redirects to, once


def test_a_resolved_model_is_remembered_in_the_process(server):
    hub.publish(NAME, org=ORG)
    hub.set_hub_org(ORG)
    fresh_lookup()
    before = len(server.requests)
    resolve_weights(zoo.get_spec(NAME))
    assert len(server.requests) == before


# ---------------------------------------------------------------------------------------------
# Falling back: cached copy, else bundled, one warning, no crash, no hang


def published_and_cached(server) -> str:
    commit = hub.publish(NAME, org=ORG).commit
    hub.set_hub_org(ORG)
    assert fresh_lookup().source == f"hub:{ORG}/{NAME}@{commit}"
    return commit


def use_empty_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))


def test_repo_not_found_falls_back_to_bundled(server, caplog):
    hub.set_hub_org("nobody")
    assert fresh_lookup().source == f"bundled ({bundled_file().parent})"
    resolve_weights(zoo.get_spec(NAME))  # remembered: no second warning
    (warning,) = hub_warnings(caplog)
    assert f"nobody/{NAME}" in warning and "HTTP 404" in warning and "bundled" in warning


@pytest.mark.parametrize("status", [500, 503])
def test_server_error_falls_back_to_cache_then_bundled(server, caplog, tmp_path, monkeypatch, status):
    commit = published_and_cached(server)
    server.fail("/resolve/", status=status)
    assert fresh_lookup().source == f"cache:{ORG}/{NAME}@{commit}"
    use_empty_cache(tmp_path, monkeypatch)
    assert fresh_lookup().source.startswith("bundled")
    assert len(hub_warnings(caplog)) == 2 and all(f"HTTP {status}" in w for w in hub_warnings(caplog))


@pytest.mark.parametrize("stall", ["every request", "the download"])
def test_a_slow_hub_falls_back_within_the_timeout(server, caplog, monkeypatch, stall):
    hub.publish(NAME, org=ORG)
    hub.set_hub_org(ORG)
    monkeypatch.setenv("ZOO_HUB_TIMEOUT", "0.5")
    server.fail("/resolve/", delay=5, method=None if stall == "every request" else "GET")
    started = time.monotonic()
    location = fresh_lookup()
    assert time.monotonic() - started < 2.0
    assert location.source.startswith("bundled")
    (warning,) = hub_warnings(caplog)
    assert "within 0.5 s" in warning and "ZOO_HUB_TIMEOUT" in warning


def test_unreachable_hub_falls_back_and_is_not_asked_again_soon(server, caplog, monkeypatch):
    server.stop()  # nothing listens on that port any more
    hub.set_hub_org(ORG)
    started = time.monotonic()
    assert fresh_lookup().source.startswith("bundled")
    assert "cannot connect" in hub_warnings(caplog)[0]
    download._memo.clear()  # another model, same dead endpoint: no new attempt
    assert resolve_weights(zoo.get_spec(NAME)).source.startswith("bundled")
    assert time.monotonic() - started < 2.0


def test_offline_uses_the_cache_without_any_request(server, caplog, tmp_path, monkeypatch):
    commit = published_and_cached(server)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    before = len(server.requests)
    assert fresh_lookup().source == f"cache:{ORG}/{NAME}@{commit}"
    use_empty_cache(tmp_path, monkeypatch)
    assert fresh_lookup().source.startswith("bundled")
    assert len(server.requests) == before
    assert all("HF_HUB_OFFLINE" in w for w in hub_warnings(caplog))


def test_create_model_never_crashes_when_the_hub_fails(server):
    hub.set_hub_org(ORG)
    server.fail(".*", status=500)
    model = zoo.create_model(NAME, device="cpu")
    assert model.weights_source.startswith("bundled")


def test_nothing_anywhere_is_a_clear_error(server, tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_WEIGHTS_DIR", str(tmp_path / "nothing"))
    hub.set_hub_org("nobody")
    with pytest.raises(FileNotFoundError, match="no cached or bundled copy"):
        fresh_lookup()


# ---------------------------------------------------------------------------------------------
# Verification


def test_a_download_that_does_not_match_the_spec_hash_is_rejected(server, caplog):
    done = hub.publish(NAME, org=ORG)
    wrong = spec_with(hub_repo=done.repo_id, sha256="0" * 64)
    assert resolve_weights(wrong).source.startswith("bundled")
    assert "sha256 mismatch" in hub_warnings(caplog)[0] and "rejected" in hub_warnings(caplog)[0]
    assert not list(Path(hub.cache_dir()).rglob("model.safetensors"))  # the rejected copy is not kept
    hub.reset()
    assert resolve_weights(spec_with(hub_repo=done.repo_id, sha256=done.sha256)).source.startswith("hub:")


def test_a_corrupted_download_is_rejected(server, caplog):
    done = hub.publish(NAME, org=ORG)
    server.fail("model.safetensors", method="GET", corrupt=True)
    assert resolve_weights(spec_with(hub_repo=done.repo_id, sha256=done.sha256)).source.startswith("bundled")
    assert "sha256 mismatch" in hub_warnings(caplog)[0]
    hub.reset()
    server.heal()
    assert resolve_weights(spec_with(hub_repo=done.repo_id)).source == f"hub:{done.repo_id}@{done.commit}"


def test_a_private_repo_loads_with_the_token_only(server, monkeypatch):
    done = hub.publish(NAME, org=ORG, private=True)
    assert server.repo(done.repo_id).private
    hub.set_hub_org(ORG)
    assert fresh_lookup().source == f"hub:{done.repo_id}@{done.commit}"
    monkeypatch.delenv("HF_TOKEN")
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", "/nonexistent/token")
    monkeypatch.setenv("HF_HUB_CACHE", str(Path(hub.cache_dir()).parent / "other-cache"))
    assert fresh_lookup().source.startswith("bundled")


def test_a_repo_holding_another_model_is_not_used(server, caplog):
    repo = server.create_repo(f"{ORG}/{NAME}")
    other = bundled_file().parent
    config = (other / "config.json").read_text().replace('"latent_dim": 2', '"latent_dim": 3')
    assert '"latent_dim": 3' in config
    server.commit(repo, "a clash", {"config.json": config.encode(), "model.safetensors": b"not ours"}, [])
    hub.set_hub_org(ORG)
    assert fresh_lookup().source.startswith("bundled")
    assert "is another model" in hub_warnings(caplog)[0]


# ---------------------------------------------------------------------------------------------
# Tokens


def test_publish_without_a_token_is_a_clear_error(server, tmp_path, monkeypatch):
    monkeypatch.delenv("HF_TOKEN")
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "no-token"))  # as if `hf auth login` never ran
    with pytest.raises(ValueError, match="no Hugging Face token: set HF_TOKEN, or run `hf auth login`"):
        hub.publish(NAME, org=ORG)


def test_publish_with_a_wrong_token_is_a_clear_error(server, monkeypatch, capsys):
    monkeypatch.setenv("HF_TOKEN", "hf_not_a_real_token")
    with pytest.raises(ValueError, match="rejected the token from HF_TOKEN"):
        hub.publish(NAME, org=ORG)
    assert cli(["publish", NAME, "--org", ORG]) == 2
    assert "error: the Hub at" in capsys.readouterr().err
    assert server.repo(f"{ORG}/{NAME}") is None


def test_publish_refused_by_the_hub_is_a_clear_error(server):
    server.fail("/api/repos/create", status=403)
    with pytest.raises(ValueError, match=f"publishing {NAME} to {ORG}/{NAME}: the Hub answered HTTP 403.*write access"):
        hub.publish(NAME, org=ORG)


# ---------------------------------------------------------------------------------------------
# The Space


def test_deploy_space_with_bundled_weights_then_from_the_hub(server, tmp_path):
    root = tmp_path / "app"
    for path in ["app.py", "requirements.txt", "README.md", "zoo/__init__.py", "zoo/__pycache__/x.pyc",
                 "plugins/mnist.py", "assets/examples/a.png", f"weights/{NAME}/model.safetensors", "ui/tabs/sample.py",
                 "weights/_classifiers/mnist/config.json", "notes.txt", "tests/test_x.py", "web/live.js", "web/runtime.json",
                 "web/node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.wasm"]:
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(path)
    space = f"{ORG}/demo"

    url = hub.deploy_space(space, root=root)
    assert url == f"{server.url}/spaces/{space}"
    repo = server.repo(space, "space")
    assert repo.sdk == "gradio" and not repo.variables
    files = set(server.files(space, repo_type="space"))
    assert {"app.py", "zoo/__init__.py", "ui/tabs/sample.py", "plugins/mnist.py", "assets/examples/a.png", f"weights/{NAME}/model.safetensors",
            "weights/_classifiers/mnist/config.json", "web/live.js", "web/runtime.json"} <= files
    assert not {"notes.txt", "tests/test_x.py", "zoo/__pycache__/x.pyc"} & files
    assert not any(f.startswith("web/node_modules/") for f in files)  # a Space loads the runtime from the CDN

    (root / "plugins/mnist.py").unlink()
    with pytest.raises(ValueError, match=f"lacks .*{NAME}.*python -m zoo publish --all --org {ORG}"):
        hub.deploy_space(space, hub_org=ORG, root=root)  # nothing published yet: the Space would have no weights
    hub.publish(NAME, org=ORG)
    for other in zoo.list_models():
        if other != NAME:
            server.commit(server.create_repo(f"{ORG}/{other}"), "seed", {"model.safetensors": b"weights"}, [])
    assert hub.deploy_space(space, hub_org=ORG, root=root) == url
    files = set(server.files(space, repo_type="space"))
    assert f"weights/{NAME}/model.safetensors" not in files and "plugins/mnist.py" not in files
    assert "weights/_classifiers/mnist/config.json" in files
    assert repo.variables["ZOO_HUB_ORG"]["value"] == ORG

    hub.deploy_space(space, root=root)
    assert "ZOO_HUB_ORG" not in repo.variables


# ---------------------------------------------------------------------------------------------
# Settings


def test_settings_are_checked(server, monkeypatch):
    with pytest.raises(ValueError, match="user or organisation"):
        hub.set_hub_org("not/an org")
    monkeypatch.setenv("ZOO_HUB_TIMEOUT", "soon")
    with pytest.raises(ValueError, match="ZOO_HUB_TIMEOUT"):
        hub.hub_timeout()
    monkeypatch.setenv("ZOO_HUB_ORG", ORG)
    assert hub.repo_for(zoo.get_spec(NAME)) == f"{ORG}/{NAME}"
    assert hub.repo_for(spec_with(hub_repo="someone/else")) == "someone/else"
    hub.set_hub_org("other")
    assert hub.repo_for(zoo.get_spec(NAME)) == f"other/{NAME}"


# ---------------------------------------------------------------------------------------------
# hf-hub:OWNER/REPO: any published repo, no plugin


def assert_same_weights(model, path: Path):
    expected = load_file(path)
    state = model.state_dict()
    assert set(state) == set(expected)
    assert all(torch.equal(state[k], expected[k]) for k in expected)


def test_config_records_the_architecture_and_zoo_version(server):
    done = hub.publish(NAME, org=ORG)
    config = json.loads(server.files(done.repo_id)["config.json"])
    assert config["architecture"] == "vae" and config["zoo_version"] == zoo.__version__


def test_hf_hub_loads_a_published_repo_without_a_plugin(server, isolated_registry):
    repo_id = f"{ORG}/my-own-vae"  # not a zoo entry: no plugin names it
    done = hub.publish(NAME, repo_id=repo_id)
    published = bundled_file()
    isolated_registry._entrypoints.clear()  # and no plugin at all: as in a fresh `pip install vae-zoo`
    isolated_registry._specs.clear()
    assert zoo.list_models() == []
    model = zoo.create_model(f"hf-hub:{repo_id}", device="cpu")
    assert isinstance(model, VAE) and not model.training
    assert model.weights_location.source == f"hub:{repo_id}@{done.commit}"
    assert model.weights_source == model.weights_location.source
    assert Path(download.cache_dir()) in model.weights_location.folder.parents  # the standard HF cache
    assert_same_weights(model, published)
    assert zoo.create_model(f"hf-hub:{repo_id}", device="cpu") is model  # cached and shared, like a zoo entry


def test_hf_hub_at_a_revision(server, tmp_path):
    repo_id = f"{ORG}/my-own-vae"
    first = hub.publish(NAME, repo_id=repo_id)
    v1 = tmp_path / "v1.safetensors"
    v1.write_bytes(bundled_file().read_bytes())
    make_weights(tmp_path / "weights", seed=1)
    second = hub.publish(NAME, repo_id=repo_id)
    assert second.commit != first.commit

    old = zoo.create_model(f"hf-hub:{repo_id}@{first.commit}", device="cpu")
    assert old.weights_source == f"hub:{repo_id}@{first.commit}"
    assert_same_weights(old, v1)
    new = zoo.create_model(f"hf-hub:{repo_id}@main", device="cpu")
    assert new.weights_source == f"hub:{repo_id}@{second.commit}"
    assert_same_weights(new, bundled_file())


def test_hf_hub_offline_uses_the_cached_copy(server, monkeypatch):
    repo_id = f"{ORG}/my-own-vae"
    done = hub.publish(NAME, repo_id=repo_id)
    zoo.create_model(f"hf-hub:{repo_id}", device="cpu")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    hub.reset()
    model_cache.clear()
    before = len(server.requests)
    model = zoo.create_model(f"hf-hub:{repo_id}", device="cpu")
    assert model.weights_source == f"cache:{repo_id}@{done.commit}" and len(server.requests) == before
    assert_same_weights(model, bundled_file())


def test_hf_hub_mistakes_are_input_errors(server):
    with pytest.raises(zoo.InputError, match="hf-hub:OWNER/REPO"):
        zoo.create_model("hf-hub:no-slash", device="cpu")
    with pytest.raises(zoo.InputError, match="repository not found"):
        zoo.create_model(f"hf-hub:{ORG}/nothing-here", device="cpu")
    done = hub.publish(NAME, repo_id=f"{ORG}/my-own-vae")
    with pytest.raises(zoo.InputError, match="revision not found"):
        zoo.create_model(f"hf-hub:{done.repo_id}@no-such-branch", device="cpu")
    repo = server.create_repo(f"{ORG}/no-architecture")  # config.json as the mixin alone writes it
    config = {k: v for k, v in json.loads(server.files(done.repo_id)["config.json"]).items() if k != "architecture"}
    weights = server.files(done.repo_id)["model.safetensors"]
    server.commit(repo, "plain", {"config.json": json.dumps(config).encode(), "model.safetensors": weights}, [])
    with pytest.raises(zoo.InputError, match="names no 'architecture'"):
        zoo.create_model(f"hf-hub:{ORG}/no-architecture", device="cpu")
