"""app.py: builds without launching, and every endpoint works through gradio_client against the
app served on 127.0.0.1 (the `app_url` fixture), including the errors users can cause."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl

import numpy as np
import pytest
from PIL import Image

import zoo
from zoo.demo import make_link, read_link

gradio_client = pytest.importorskip("gradio_client")
from gradio_client import Client, handle_file  # noqa: E402

ENDPOINTS = ["/reconstruct", "/sample", "/interpolate", "/swap_labels", "/latent_map", "/traverse", "/tradeoff"]
MODELS = [n for n in zoo.list_models() if not zoo.get_spec(n).study]  # a study's models (the β sweep) are its tab's own
SWEEP_MNIST = zoo.list_models("sweep_z2_*.mnist")


from conftest import has_weights  # noqa: E402


def shown(name: str, scale: int = 4) -> int:
    """The side of `name`'s pictures as the app shows them: its input side (28 or 64), enlarged `scale` times."""
    return scale * zoo.get_spec(name).input_shape[-1]


def picture(name: str, scale: int = 4) -> tuple[int, ...]:
    """The shape of one of `name`'s pictures as the app serves it: (side, side), or (side, side, 3) in colour."""
    side = shown(name, scale)
    return (side, side) if zoo.get_spec(name).input_shape[0] == 1 else (side, side, 3)


ALL_TRAINED = all(has_weights(n) for n in zoo.list_models())
TRAINED = [pytest.param(n, marks=pytest.mark.skipif(not has_weights(n), reason=f"{n} has no trained weights yet")) for n in MODELS]
needs_all_weights = pytest.mark.skipif(not ALL_TRAINED, reason="the app's default views need every model's weights")


@pytest.fixture(scope="module")
def client(app_url) -> Client:
    return Client(app_url, verbose=False, download_files=True)


def save(tmp_path: Path, name: str, array: np.ndarray, mode: str | None = None) -> str:
    path = tmp_path / name
    Image.fromarray(array, mode=mode).save(path)
    return str(path)


def ring(size: int = 64) -> np.ndarray:
    ys, xs = np.indices((size, size))
    r = np.hypot(ys - size / 2, xs - size / 2)
    return np.where((r > size * 0.2) & (r < size * 0.3), 0, 255).astype(np.uint8)


def image_of(path) -> np.ndarray:
    return np.asarray(Image.open(path))


# ---------------------------------------------------------------------------------------------


def test_build_demo_builds_without_launching():
    import gradio as gr

    import app

    demo = app.build_demo()
    assert isinstance(demo, gr.Blocks) and not demo.is_running
    names = {fn.api_name for fn in demo.fns.values()}
    assert {e.lstrip("/") for e in ENDPOINTS} <= names


@pytest.mark.parametrize("pattern", ["*mnist", "ae_*", "vae_conv_z2.mnist"])
def test_the_app_builds_over_part_of_the_zoo(pattern):
    import app

    demo = app.build_demo(pattern)
    dropdowns = {c.elem_id: c for c in demo.blocks.values() if getattr(c, "elem_id", None)}
    served = {n for n in zoo.list_models(pattern) if not zoo.get_spec(n).study}  # a study's models are its tab's
    assert {value for _, value in dropdowns["smp-model"].choices} == served


def test_a_new_plugin_appears_in_every_tab_that_fits(isolated_registry):
    import app

    @zoo.register_model("cvae_conv_z3.mnist")
    def _():
        return zoo.ModelSpec(family="cvae", dataset="mnist", model_args=dict(latent_dim=3, num_classes=10))

    demo = app.build_demo()
    dropdowns = {c.elem_id: c for c in demo.blocks.values() if getattr(c, "elem_id", None)}
    for elem_id in ("smp-model", "itp-model", "swp-model", "trv-model"):
        assert "cvae_conv_z3.mnist" in [value for _, value in dropdowns[elem_id].choices], elem_id


def test_the_api_lists_the_six_endpoints(client):
    api = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert set(ENDPOINTS) <= set(api)
    for endpoint in ENDPOINTS:  # everything but the images has a default
        required = [p["parameter_name"] for p in api[endpoint]["parameters"] if not p["parameter_has_default"]]
        assert required == [], (endpoint, required)


@needs_all_weights
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_every_endpoint_works_with_its_defaults(client, endpoint):
    result = client.predict(api_name=endpoint)
    assert isinstance(result, tuple) and len(result) >= 3
    assert Path(result[0]).is_file()


@pytest.mark.parametrize("name", TRAINED)
def test_sample_and_traverse_every_model(client, name):
    grid, caption, manifold, info = client.predict(model=name, grid_size=3, seed=5, temperature=1.0, api_name="/sample")
    assert image_of(grid).ndim == len(picture(name)) and "seed 5" in caption and name in info
    out = client.predict(model=name, label="auto", source="example", example_index=2, api_name="/traverse")
    preview, decoded, grid = out[:3]
    assert image_of(decoded).shape == picture(name)


@pytest.mark.parametrize("name", [p for p in TRAINED if zoo.get_spec(p.values[0]).conditional])
def test_swap_labels_every_conditional_model(client, name):
    a, b, row, swapped, grid, caption, info = client.predict(model=name, label="auto", a_index=3, b_index=5, api_name="/swap_labels")
    assert len(row) == len(zoo.get_spec(name).label_names)
    assert image_of(swapped).shape == picture(name)


@pytest.mark.parametrize("name", [p for p in TRAINED if zoo.get_spec(p.values[0]).conditional
                                  and max(map(len, zoo.get_spec(p.values[0]).label_names)) == 1])  # labels that are characters
def test_write_text_in_the_style_of_an_example(client, name):
    labels = zoo.get_spec(name).label_names
    text = "".join(labels[:4]) + "\n" + labels[-1]  # two lines
    image, caption = client.predict(model=name, label="auto", a_source="example", a_index=3, text=text, api_name="/write")
    written = image_of(image)
    side = zoo.get_spec(name).input_shape[-1]
    assert written.shape[0] == 2 * 2 * side and written.max() > 128  # two lines, shown 2× larger, with ink
    assert caption.startswith(f"{len(text)} characters")
    with pytest.raises(Exception, match="cannot draw"):
        client.predict(model=name, text="½", api_name="/write")


@pytest.mark.parametrize("name", TRAINED)
def test_interpolate_every_model(client, name):
    a, b, frame, strip, gif, info = client.predict(model=name, path="spherical", steps=6, a_index=0, b_index=9, t=1.0,
                                                   api_name="/interpolate")
    assert Image.open(gif).format == "GIF" and Image.open(gif).n_frames > 1  # PIL merges repeated frames
    assert image_of(frame).shape == picture(name)


@pytest.mark.parametrize("dataset", sorted({zoo.get_spec(n).dataset for n in MODELS}))
def test_latent_map_every_dataset(client, dataset):
    names = [n for n in MODELS if zoo.get_spec(n).dataset == dataset]
    if not all(has_weights(n) for n in names[:2]):
        pytest.skip(f"{dataset}: models without weights")
    left, right, info = client.predict(dataset=dataset, left=names[0], right=names[-1], ellipses=True, api_name="/latent_map")
    assert image_of(left).shape == image_of(right).shape


@pytest.mark.parametrize("name", TRAINED)
def test_reconstruct_an_upload(client, tmp_path, name):
    spec = zoo.get_spec(name)
    out = client.predict(dataset=spec.dataset, models=[name], source="upload", upload=handle_file(save(tmp_path, "ring.png", ring())),
                         api_name="/reconstruct")
    preview, gallery, table = out[:3]
    assert image_of(preview).shape == picture(name) and len(gallery) == 1 and table["data"][0][0] == name


# ---------------------------------------------------------------------------------------------
# Bad input: a clear error, and the app keeps serving


BAD_UPLOADS = {
    "not an image": lambda p: (p / "notes.png").write_text("hello") and str(p / "notes.png"),
    "too small": lambda p: save(p, "dot.png", np.zeros((1, 1), np.uint8)),
    "colour": lambda p: save(p, "red.png", np.dstack([np.full((32, 32), 255, np.uint8), *[np.zeros((32, 32), np.uint8)] * 2])),
    "transparent": lambda p: save(p, "rgba.png", np.dstack([ring(32)] * 3 + [np.full((32, 32), 100, np.uint8)])),
    "16": lambda p: save(p, "deep.png", np.full((32, 32), 40000, np.uint16), "I;16"),
    "too large": lambda p: save(p, "wide.png", np.zeros((8, 5000), np.uint8)),
}


@pytest.mark.parametrize("message", list(BAD_UPLOADS))
def test_bad_uploads_get_a_clear_error(client, tmp_path, message):
    path = BAD_UPLOADS[message](tmp_path)
    with pytest.raises(Exception, match=message):
        client.predict(source="upload", upload=handle_file(path), api_name="/reconstruct")


def test_an_upload_over_the_size_limit_is_refused(client, tmp_path):
    noise = np.random.default_rng(0).integers(0, 256, (2400, 2400), dtype=np.uint8)  # noise does not compress: ~5.8 MB
    path = save(tmp_path, "big.png", noise)
    assert Path(path).stat().st_size > 5_000_000
    with pytest.raises(Exception):
        client.predict(source="upload", upload=handle_file(path), api_name="/reconstruct")


@pytest.mark.parametrize("kwargs, endpoint, message", [
    (dict(source="draw"), "/reconstruct", "sketch is empty"),
    (dict(source="upload"), "/traverse", "no image uploaded"),
    (dict(model="not_a_model.mnist"), "/sample", "not_a_model.mnist"),
    (dict(grid_size=99), "/sample", "99"),
    (dict(seed=-3), "/sample", "-3"),
    (dict(temperature=7), "/sample", "7"),
    (dict(example_index=5000), "/traverse", "5000"),
    (dict(steps=1), "/interpolate", "1"),
    (dict(t=2), "/interpolate", "2"),
    (dict(label="Spaceship"), "/swap_labels", "Spaceship"),
    (dict(model=[m for m in MODELS if not zoo.get_spec(m).conditional][0]), "/swap_labels", "not in the list|not conditional"),
])
def test_bad_values_get_a_clear_error(client, kwargs, endpoint, message):
    with pytest.raises(Exception, match=message):
        client.predict(api_name=endpoint, **kwargs)


@pytest.mark.parametrize("name", TRAINED[:1])
def test_the_app_keeps_serving_after_errors(client, name):
    for _ in range(3):
        with pytest.raises(Exception):
            client.predict(model="nope", api_name="/sample")
    grid, *_ = client.predict(model=name, grid_size=2, api_name="/sample")
    assert Path(grid).is_file()


# ---------------------------------------------------------------------------------------------
# Links


@pytest.mark.parametrize("name", TRAINED)
def test_link_round_trip_gives_the_same_pictures(client, name):
    settings = dict(model=name, n=4, seed=11, temp=0.7, label="each")
    first = client.predict(model=name, grid_size=4, seed=11, temperature=0.7, label="each", api_name="/sample")
    _, params, notes = read_link(dict(parse_qsl(make_link("sample", **settings))))
    assert notes == [] and params == settings
    again = client.predict(model=params["model"], grid_size=params["n"], seed=params["seed"], temperature=params["temp"],
                           label=params["label"], api_name="/sample")
    assert np.array_equal(image_of(first[0]), image_of(again[0]))


@pytest.mark.parametrize("argv, message", [(["--models", "no_such_*"], "no model in the zoo matches"),
                                           (["--device", "tpu"], "unknown device")])
def test_the_command_line_refuses_bad_flags(argv, message, capsys):
    import app

    assert app.main(argv) == 2
    assert message in capsys.readouterr().err


def test_a_decompression_bomb_is_refused_as_too_large(client, tmp_path):
    path = tmp_path / "bomb.png"  # 20000 x 20000 pixels declared, a few KB on disk
    Image.new("1", (20000, 20000)).save(path)
    with pytest.raises(Exception, match="too large"):
        client.predict(source="upload", upload=handle_file(str(path)), api_name="/reconstruct")


@pytest.mark.parametrize("name", TRAINED[:1])
def test_concurrent_users_get_their_own_answers(client, name):
    jobs = [client.submit(model=name, grid_size=2, seed=seed, api_name="/sample") for seed in range(4)]
    bad = [client.submit(model="nope", api_name="/sample") for _ in range(2)]
    grids = [image_of(job.result()[0]) for job in jobs]
    for job in bad:
        with pytest.raises(Exception, match="nope"):
            job.result()
    assert not np.array_equal(grids[0], grids[1])
    assert np.array_equal(grids[2], image_of(client.predict(model=name, grid_size=2, seed=2, api_name="/sample")[0]))


def test_command_line_rejects_bad_settings_before_launching(capsys):
    import app

    assert app.main(["--hub-org", "not an org!"]) == 2
    assert "hub org" in capsys.readouterr().err
    assert app.main(["--models", "no-such-model*"]) == 2
    assert app.main(["--device", "tpu-9000"]) == 2
    import zoo.hub

    zoo.hub.set_hub_org(None)


def test_the_mcp_server_lists_the_six_tools_with_their_parameters():
    """`python app.py --mcp`: every tab's endpoint is an MCP tool whose docstring explains its parameters."""
    pytest.importorskip("mcp")
    import json
    import urllib.request

    import app
    from random_zoo import free_port

    demo = app.build_demo()
    port = free_port()
    app.launch(demo, host="127.0.0.1", port=port, mcp=True, prevent_thread_lock=True, quiet=True)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/gradio_api/mcp/schema", timeout=60) as response:
            tools = json.load(response)
    finally:
        demo.close()
    by_endpoint = {tool["meta"]["endpoint_name"]: tool for tool in tools}
    assert {e.lstrip("/") for e in ENDPOINTS} <= set(by_endpoint), sorted(by_endpoint)
    sample = by_endpoint["sample"]
    assert "prior" in sample["description"]
    properties = sample["inputSchema"]["properties"]
    assert {"model", "grid_size", "seed", "temperature", "label"} <= set(properties)
    assert "same seed" in properties["seed"].get("description", "")


def test_each_tab_is_one_ui_file_over_one_compute_file():
    """ui/tabs/<tab>.py (Gradio) pairs with zoo/demo/tabs/<tab>.py (no Gradio), one link schema each; app.py only wires."""
    from ui.tabs import TABS

    from zoo.demo import LINKS, MODULES

    assert [tab.__name__.rsplit(".", 1)[1] for tab in TABS] == [tab.LINK.tab for tab in TABS]
    assert {tab.LINK.tab for tab in TABS} == set(LINKS) == set(MODULES)
    for tab in TABS:
        assert tab.LINK is MODULES[tab.LINK.tab].LINK
        assert "gradio" not in Path(MODULES[tab.LINK.tab].__file__).read_text()
    assert len((Path(__file__).resolve().parent.parent / "app.py").read_text().splitlines()) <= 150


def test_an_internal_error_is_logged_and_not_blamed_on_the_user(caplog):
    """Only an InputError reaches the user as it is; a bug is logged with its traceback."""
    import gradio as gr

    from ui.common import INTERNAL_ERROR, handle_errors

    @handle_errors
    def broken(x):
        if x == "user":
            raise zoo.InputError("x must be a number")
        raise ValueError("an index went wrong deep inside numpy")

    with pytest.raises(gr.Error, match="x must be a number"):
        broken("user")
    with caplog.at_level("ERROR", logger="vae-zoo.app"), pytest.raises(gr.Error) as err:
        broken("bug")
    assert err.value.message == INTERNAL_ERROR and "numpy" not in err.value.message
    assert "an index went wrong" in caplog.text and "Traceback" in caplog.text


def test_the_shared_memo_is_bounded_and_builds_each_value_once():
    import threading
    import time

    from zoo.memo import Memo

    memo, builds = Memo(capacity=2), []

    def build(key):
        builds.append(key)
        time.sleep(0.05)  # long enough for the other threads to arrive while it builds
        return key * 2

    threads = [threading.Thread(target=lambda: memo.get("a", lambda: build("a"))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert builds == ["a"] and memo.get("a", lambda: build("x")) == "aa"
    memo.get("b", lambda: "bb"), memo.get("c", lambda: "cc")
    assert len(memo) == 2 and "a" not in memo  # least recently used out first
    with pytest.raises(RuntimeError):
        memo.get("d", lambda: (_ for _ in ()).throw(RuntimeError("failed")))
    assert memo.get("d", lambda: "dd") == "dd"  # a failed build is not remembered


@pytest.mark.skipif(not all(has_weights(n) for n in SWEEP_MNIST), reason="needs the MNIST β sweep's weights")
def test_tradeoff_endpoint_shows_the_nearest_step(client):
    latent, holes, curve, plane, table, note = client.predict(dataset="mnist", beta=0.3, large=False, api_name="/tradeoff")
    assert all(Path(p).is_file() for p in (latent, holes, curve, plane))
    assert [row[0] for row in table["data"]] == [0, 0.1, 0.25, 0.5, 1, 2, 4, 8]
    assert note.startswith("**β = 0.25**")
    with pytest.raises(Exception, match="beta must be"):
        client.predict(dataset="mnist", beta=-1, large=False, api_name="/tradeoff")
