"""The app's UI-free logic (zoo.demo), called directly: inputs, every tab's computation, links."""

from __future__ import annotations

import io
import os
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qsl

import numpy as np
import pytest
from PIL import Image

import zoo
from zoo.demo import LINKS, ZooView, make_link, read_link, tabs
from zoo.demo import images as im
from zoo.demo import plots as plot_module
from zoo.demo.examples import load_examples

MODELS = zoo.list_models()


from conftest import has_weights  # noqa: E402


def shown(name: str, scale: int = 4) -> int:
    """The side of `name`'s pictures as the app shows them: its input side (28 or 64), enlarged `scale` times."""
    return scale * zoo.get_spec(name).input_shape[-1]


def picture(name: str, scale: int = 4) -> tuple[int, ...]:
    """The shape of one of `name`'s pictures as the app shows it: (side, side), or (side, side, 3) in colour."""
    side = shown(name, scale)
    return (side, side) if zoo.get_spec(name).input_shape[0] == 1 else (side, side, 3)


def image_shape(name: str) -> tuple[int, ...]:
    """One of `name`'s images as the tabs hand them around: (H, W), or (H, W, 3) in colour."""
    c, h, w = zoo.get_spec(name).input_shape
    return (h, w) if c == 1 else (h, w, c)


def needs_weights(name: str):
    return pytest.param(name, marks=pytest.mark.skipif(not has_weights(name), reason=f"{name} has no trained weights yet"))


TRAINED = [needs_weights(n) for n in MODELS]
CONDITIONAL = [needs_weights(n) for n in MODELS if zoo.get_spec(n).conditional]


@pytest.fixture(scope="module")
def zd() -> ZooView:
    return ZooView()


def png(array: np.ndarray, mode: str | None = None) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array, mode=mode).save(buffer, format="PNG")
    return buffer.getvalue()


def digit_on_white(size: int = 64) -> np.ndarray:
    """A dark ring on a white background: what a phone photo of a drawn zero looks like."""
    ys, xs = np.indices((size, size))
    r = np.hypot(ys - size / 2, xs - size / 2)
    return np.where((r > size * 0.2) & (r < size * 0.3), 20, 250).astype(np.uint8)


# ---------------------------------------------------------------------------------------------
# Shipped examples


@pytest.mark.parametrize("dataset", ["mnist", "fashion_mnist"])
def test_examples_ship_with_the_repository(dataset):
    ex = load_examples(dataset)
    assert ex.images.shape[1:] == (28, 28) and ex.images.dtype == np.float32
    assert 500 <= len(ex) <= 2000
    assert 0.0 <= ex.images.min() and ex.images.max() <= 1.0
    assert ex.labels[:10].tolist() == list(range(10))  # interleaved: example i has label i % 10


# ---------------------------------------------------------------------------------------------
# Reading uploads and sketches


def test_a_grey_upload_on_white_is_inverted_cropped_and_centred():
    x = im.prepare(im.read_upload(png(digit_on_white())), "mnist")
    assert x.shape == (28, 28) and x.dtype == np.float32
    assert x[0].max() == 0 and x[:, 0].max() == 0  # background became black
    ys, xs = np.indices(x.shape)
    assert abs((ys * x).sum() / x.sum() - 13.5) < 1.0 and abs((xs * x).sum() / x.sum() - 13.5) < 1.0
    assert x.max() == pytest.approx(1.0)


def test_grey_stored_as_rgb_is_accepted():
    rgb = np.repeat(digit_on_white()[:, :, None], 3, axis=2)
    assert im.read_upload(png(rgb)).shape == (64, 64)


@pytest.mark.parametrize("make, message", [
    (lambda: b"this is not an image", "not an image"),
    (lambda: png(np.zeros((1, 1), np.uint8)), "too small"),
    (lambda: png(np.zeros((4097, 16), np.uint8)), "too large"),
    (lambda: png(np.stack([np.full((32, 32), 255, np.uint8), np.zeros((32, 32), np.uint8), np.zeros((32, 32), np.uint8)], 2)), "colour"),
    (lambda: png(np.dstack([digit_on_white(32)] * 3 + [np.full((32, 32), 128, np.uint8)])), "transparent"),
    (lambda: png(np.full((32, 32), 40000, np.uint16), "I;16"), "16"),
])
def test_bad_uploads_say_what_is_wrong(make, message):
    with pytest.raises(ValueError, match=message):
        im.read_upload(make())


def test_a_blank_upload_is_refused():
    with pytest.raises(ValueError, match="blank"):
        im.prepare(im.read_upload(png(np.full((32, 32), 255, np.uint8))), "mnist")


@pytest.mark.parametrize("sketch", [None, {"composite": None, "layers": [], "background": None},
                                    {"composite": np.full((280, 280, 4), 255, np.uint8)},
                                    {"composite": np.zeros((280, 280, 4), np.uint8)}])
def test_an_empty_sketch_is_refused(sketch):
    with pytest.raises(ValueError, match="sketch is empty"):
        im.read_sketch(sketch)


def test_a_sketch_on_a_transparent_canvas_is_read_as_dark_strokes_on_white():
    canvas = np.zeros((280, 280, 4), np.uint8)
    canvas[60:220, 130:150] = (0, 0, 0, 255)  # a vertical black bar: a "1"
    x = im.prepare(im.read_sketch({"composite": canvas}), "mnist")
    assert x.shape == (28, 28) and x.max() > 0.9
    assert x[:, 14].sum() > x[:, 3].sum()  # the stroke is in the middle column


# ---------------------------------------------------------------------------------------------
# Picking inputs, and errors a user can cause


def test_pick_example_carries_its_label(zd):
    picked = zd.pick("mnist", "example", 3)
    assert picked.label == 3 and picked.dataset == "mnist" and picked.image.shape == (28, 28)


@pytest.mark.parametrize("kwargs, message", [
    (dict(dataset="mnist", source="example", example_index=100000), "between 0 and"),
    (dict(dataset="mnist", source="example", example_index=-1), "between 0 and"),
    (dict(dataset="mnist", source="example", example_index=1.5), "whole number"),
    (dict(dataset="mnist", source="webcam"), "source must be one of"),
    (dict(dataset="cifar", source="example"), "dataset must be one of"),
    (dict(dataset="mnist", source="upload", upload=None), "no image uploaded"),
    (dict(dataset="mnist", source="draw", sketch=None), "sketch is empty"),
])
def test_bad_picks_say_what_is_wrong(zd, kwargs, message):
    with pytest.raises(ValueError, match=message):
        zd.pick(**kwargs)


def test_unknown_models_are_named(zd):
    with pytest.raises(ValueError, match="unknown model 'nope'"):
        tabs.sample.sample(zd, "nope")
    with pytest.raises(ValueError, match="unknown model"):
        zd.model_info("vae_conv_z2.cifar")


def test_models_are_chosen_by_capability(zd):
    for name in zd.models(conditional=True):
        assert zoo.get_spec(name).conditional
    for name in zd.models(latent_dim=2):
        assert zoo.get_spec(name).latent_dim == 2
    assert set(zd.models()) == {n for n in MODELS if not zoo.get_spec(n).study}  # a study's models: its tab's own
    assert set(zd.models()) | {n for n in MODELS if zoo.get_spec(n).study} == set(MODELS)


def test_a_pattern_limits_the_zoo():
    assert ZooView("*mnist").names == zoo.list_models("*mnist")
    with pytest.raises(ValueError, match="no model"):
        ZooView("nothing-matches-*")


@pytest.mark.parametrize("name", MODELS)
def test_model_info_names_family_dataset_latent_and_weights(zd, name):
    spec = zoo.get_spec(name)
    info = zd.model_info(name)
    assert name in info and spec.dataset in info and f"{spec.latent_dim}-D" in info and "weights:" in info


# ---------------------------------------------------------------------------------------------
# The tabs' computations, for every model


@pytest.mark.parametrize("name", TRAINED)
def test_reconstruct(zd, name):
    spec = zoo.get_spec(name)
    out = tabs.reconstruct.reconstruct(zd, [name], zd.pick(spec.dataset, "example", 0))
    (image, caption), = out.gallery
    assert image.shape == picture(name) and image.dtype == np.uint8 and name in caption
    row, = out.table
    assert row[0] == name and row[1] == spec.latent_dim and row[4] == pytest.approx(row[2] + row[3], abs=0.02)
    assert out.posterior.ndim == 3
    again = tabs.reconstruct.reconstruct(zd, [name], zd.pick(spec.dataset, "example", 0))
    assert again.table == out.table  # deterministic: links reproduce it


@pytest.mark.parametrize("name", TRAINED)
def test_sample(zd, name):
    spec = zoo.get_spec(name)
    out = tabs.sample.sample(zd, name, grid_size=3, seed=1, temperature=0.8)
    rows = len(spec.label_names) if spec.conditional else 3
    assert out.grid.shape[:2] == (rows * (shown(name, 2) + 2) + 2, 3 * (shown(name, 2) + 2) + 2)
    assert out.grid.shape[2:] == picture(name)[2:]  # colour models draw in colour
    assert (out.manifold is not None) == (spec.latent_dim == 2)
    assert np.array_equal(out.grid, tabs.sample.sample(zd, name, grid_size=3, seed=1, temperature=0.8).grid)
    assert not np.array_equal(out.grid, tabs.sample.sample(zd, name, grid_size=3, seed=2, temperature=0.8).grid)


@pytest.mark.parametrize("value, name", [(0, "grid_size"), (17, "grid_size"), (-1, "seed"), (3.5, "temperature"),
                                         ("hot", "temperature"), (float("nan"), "temperature")])
def test_sample_rejects_out_of_range_values(zd, value, name):
    kwargs = dict(grid_size=2, seed=0, temperature=1.0)
    kwargs[name] = value
    with pytest.raises(ValueError, match=name):
        tabs.sample.sample(zd, MODELS[0], **kwargs)


@pytest.mark.parametrize("name", TRAINED)
@pytest.mark.parametrize("path", ["linear", "spherical"])
def test_interpolate_computes_frames_once_per_pair(zd, name, path, monkeypatch):
    spec = zoo.get_spec(name)
    a, b = zd.pick(spec.dataset, "example", 0), zd.pick(spec.dataset, "example", 1)
    out = tabs.interpolate.interpolate(zd, name, a, b, path, steps=5)
    assert out.frames.shape == (5, *image_shape(name))
    assert out.strip.shape[1] == 5 * (shown(name, 2) + 2) + 2
    model = zd.model(name)
    monkeypatch.setattr(model, "decode", lambda *args, **kw: pytest.fail("frames recomputed for an unchanged pair"))
    again = tabs.interpolate.interpolate(zd, name, a, b, path, steps=5, cached=out.state)
    assert np.array_equal(again.frames, out.frames)
    assert np.array_equal(tabs.interpolate.frame_at(out.frames, 1.0), im.enlarge(out.frames[-1]))  # a lookup


def test_frame_at_checks_t(zd):
    frames = np.zeros((4, 28, 28), np.float32)
    with pytest.raises(ValueError, match="t must be between 0.0 and 1.0"):
        tabs.interpolate.frame_at(frames, 1.5)
    with pytest.raises(ValueError, match="run the interpolation first"):
        tabs.interpolate.frame_at(None, 0.5)


def test_interpolate_rejects_unknown_paths(zd):
    name = MODELS[0]
    a = zd.pick(zoo.get_spec(name).dataset, "example", 0)
    with pytest.raises(ValueError, match="path must be one of"):
        tabs.interpolate.interpolate(zd, name, a, a, path="zigzag")


@pytest.mark.parametrize("name", CONDITIONAL)
def test_swap_labels_decodes_one_style_under_every_label(zd, name):
    spec = zoo.get_spec(name)
    a, b = zd.pick(spec.dataset, "example", 0), zd.pick(spec.dataset, "example", 7)
    out = tabs.swap_labels.swap_labels(zd, name, a, b=b)
    assert [caption for _, caption in out.row] == spec.label_names
    assert out.swapped.shape == picture(name)  # shown 4× larger
    assert np.array_equal(out.swapped, out.row[b.label][0])  # B's own label (7 % classes): the same picture
    assert spec.label_names[b.label] in out.caption


@pytest.mark.parametrize("name", [n for n in MODELS if not zoo.get_spec(n).conditional][:1])
def test_swap_labels_needs_a_conditional_model(zd, name):
    with pytest.raises(ValueError, match="not conditional"):
        tabs.swap_labels.swap_labels(zd, name, zd.pick(zoo.get_spec(name).dataset, "example", 0))


def test_swap_labels_opens_on_the_model_that_keeps_the_style_best():
    """Right swaps first (the judge's reading ≥ 0.9), then the least lost around the swap cycle: a model whose
    swaps are read right more often but come back as a generic style loses."""
    cards = {
        "sharp.a": dict(label_swap_accuracy=0.98, cycle_mse_per_pixel=0.012, mse_per_pixel=0.006),  # kept 0.5
        "keeps.b": dict(label_swap_accuracy=0.93, cycle_mse_per_pixel=0.020, mse_per_pixel=0.016),  # kept 0.8
        "wrong.c": dict(label_swap_accuracy=0.60, cycle_mse_per_pixel=0.010, mse_per_pixel=0.010),  # kept 1, swaps wrong
        "unmeasured.d": {},
    }

    class Cards:
        def models(self, conditional=None):
            return list(cards)

        def metrics(self, name):
            return cards[name]

    assert tabs.swap_labels.default_model(Cards()) == "keeps.b"
    del cards["keeps.b"], cards["sharp.a"]
    assert tabs.swap_labels.default_model(Cards()) == "wrong.c"  # none swaps right: the best-kept of the rest


@pytest.mark.parametrize("name", CONDITIONAL)
def test_an_upload_gets_the_conditional_models_best_guess_label(zd, name):
    spec = zoo.get_spec(name)
    picked = zd.pick(spec.dataset, "upload", upload=png(digit_on_white()))
    assert picked.label is None
    assert 0 <= zd.label_for(name, picked) < len(spec.label_names)
    assert zd.label_for(name, picked, spec.label_names[2]) == 2
    with pytest.raises(ValueError, match="label must be one of"):
        zd.label_for(name, picked, "Spaceship")


@pytest.mark.parametrize("name", TRAINED)
def test_latent_map_and_clicking_it(zd, name):
    lmap = tabs.latent_map.latent_map(zd, name)
    assert lmap.image.ndim == 3 and lmap.points.shape == (len(zd.examples(zoo.get_spec(name).dataset)), 2)
    assert tabs.latent_map.latent_map(zd, name) is lmap  # drawn once per model
    assert lmap.projected == (zoo.get_spec(name).latent_dim != 2)
    centre = lmap.frame.left + lmap.frame.side / 2
    out = tabs.latent_map.decode_point(zd, name, centre, centre)
    assert out.image.shape == picture(name) and out.code.shape == (zoo.get_spec(name).latent_dim,)
    u, v = lmap.frame.to_latent(*lmap.frame.to_pixel(np.float64(1.5), np.float64(-0.5)))
    assert (u, v) == pytest.approx((1.5, -0.5))
    with pytest.raises(ValueError, match="outside the plot"):
        tabs.latent_map.decode_point(zd, name, 1, 1)
    assert tabs.latent_map.latent_map(zd, name, ellipses=True).image.shape == lmap.image.shape


@pytest.mark.parametrize("name", TRAINED)
def test_traverse_orders_dimensions_by_activity(zd, name):
    spec = zoo.get_spec(name)
    out = tabs.traverse.traverse(zd, name, zd.pick(spec.dataset, "example", 0))
    sliders = out.sliders
    assert len(sliders) == min(spec.latent_dim, 16)
    activity = [float(s.label.rsplit(" ", 1)[1]) for s in sliders]
    assert activity == sorted(activity, reverse=True)
    assert all(s.minimum <= s.value <= s.maximum for s in sliders)
    at_mean = tabs.traverse.traverse_decode(zd, out.state, [s.value for s in sliders])
    moved = tabs.traverse.traverse_decode(zd, out.state, [sliders[0].maximum] + [s.value for s in sliders[1:]])
    assert at_mean.shape == picture(name) and not np.array_equal(at_mean, moved)


def test_traverse_decode_needs_an_encoded_input(zd):
    with pytest.raises(ValueError, match="encode an input first"):
        tabs.traverse.traverse_decode(zd, None, [0.0])


def test_the_posterior_plot_redraws_only_its_marks_and_leaves_none_behind():
    """The plot keeps each layout's axes and redraws the marks (plots._PosteriorFrame): after other
    values, and with several threads drawing at once, each plot is the one a fresh figure draws."""
    rng = np.random.default_rng(0)
    plots = [[("vae", rng.normal(size=10) * 2, np.abs(rng.normal(size=10))), ("ae", rng.normal(size=10) * 2, np.zeros(10))]
             for _ in range(4)]  # one layout, four sets of marks; |μ| > 3 (a red diamond at the edge) in some
    fresh = []
    for rows in plots:
        plot_module._posterior_frame.cache_clear()
        fresh.append(plot_module.posterior_plot(rows))
    assert all(np.array_equal(plot_module.posterior_plot(rows), want) for rows, want in zip(plots, fresh))

    def draw(i):
        return all(np.array_equal(plot_module.posterior_plot(plots[(i + k) % 4]), fresh[(i + k) % 4]) for k in range(12))

    with ThreadPoolExecutor(4) as pool:
        assert all(pool.map(draw, range(4)))
    assert not np.array_equal(fresh[0], fresh[1])


def test_a_card_is_parsed_once_until_it_changes(zd, tmp_path):
    card = tmp_path / "README.md"

    def write(value):
        card.write_text(f"---\nvae_zoo:\n  metrics:\n    mig: {value}\n---\n# a card\n")

    write(0.25)
    first = card.stat().st_mtime_ns
    assert zd.record(tmp_path)["metrics"] == {"mig": 0.25}
    write(0.5)
    os.utime(card, ns=(first, first))
    assert zd.record(tmp_path)["metrics"] == {"mig": 0.25}  # the same version of the card: not parsed again
    os.utime(card, ns=(first, first + 10**9))  # `vae-zoo eval` rewrote it
    assert zd.record(tmp_path)["metrics"] == {"mig": 0.5}
    card.write_text("---\nvae_zoo: [unclosed\n---\n")
    os.utime(card, ns=(card.stat().st_atime_ns, card.stat().st_mtime_ns + 2 * 10**9))
    assert zd.record(tmp_path) == {}  # a broken card loses its metrics, never the model
    assert zd.record(tmp_path / "nowhere") == {}


# ---------------------------------------------------------------------------------------------
# Links


@pytest.mark.parametrize("tab, params", [
    ("reconstruct", dict(dataset="mnist", models=["ae_conv_z2.mnist", "vae_conv_z2.mnist"], a=3, label="auto")),
    ("sample", dict(model="vae_conv_z2.mnist", n=4, seed=7, temp=0.5, label="each")),
    ("interpolate", dict(model="vae_conv_z2.mnist", a=1, b=2, path="spherical", steps=12, t=0.25)),
    ("swap_labels", dict(model="cvae_conv_z8.mnist", a=0, b=5, label="3")),
    ("latent_map", dict(dataset="fashion_mnist", left="ae_conv_z2.fashion_mnist", right="vae_conv_z2.fashion_mnist", ellipses=True)),
    ("traverse", dict(model="vae_conv_z2.mnist", a=4, label="auto", z=[0.5, -1.25])),
])
def test_link_round_trip(tab, params):
    query = make_link(tab, **params)
    restored_tab, restored, notes = read_link(dict(parse_qsl(query)))
    assert (restored_tab, restored, notes) == (tab, params, [])


def test_bad_links_are_read_with_notes_not_errors():
    tab, params, notes = read_link({"tab": "sample", "seed": "abc", "colour": "red", "n": "4"})
    assert tab == "sample" and params == {"n": 4} and len(notes) == 2
    assert read_link({"tab": "nowhere"})[0] is None
    assert read_link({}) == (None, {}, [])


def test_links_are_checked_against_this_app(zd):
    name = zd.models(conditional=False)[0]
    dataset = zoo.get_spec(name).dataset
    kept, notes = LINKS["sample"].clean(zd, dict(model=name, n=99, seed=3, temp=0.5))
    assert kept == dict(model=name, seed=3, temp=0.5) and len(notes) == 1 and "grid_size" in notes[0]
    kept, notes = LINKS["swap_labels"].clean(zd, dict(model=name, a=1))  # not conditional
    assert "model" not in kept and notes
    kept, notes = LINKS["interpolate"].clean(zd, dict(model=name, a=0, b=100000, path="zigzag"))
    assert kept == dict(model=name, a=0) and len(notes) == 2
    kept, notes = LINKS["latent_map"].clean(zd, dict(dataset=dataset, left=name, right="nope.mnist"))
    assert kept == dict(dataset=dataset, left=name) and len(notes) == 1


@pytest.mark.parametrize("name", CONDITIONAL)
def test_swap_labels_draws_every_style_under_every_label(zd, name):
    spec = zoo.get_spec(name)
    k = len(spec.label_names)
    grid = tabs.swap_labels.swap_labels(zd, name, zd.pick(spec.dataset, "example", 0)).grid
    few = k <= tabs.swap_labels.MAX_STYLE_ROWS  # else MAX_STYLE_ROWS examples, at half the size
    tile, pad, rows = spec.input_shape[-1] * (2 if few else 1), 3, k if few else tabs.swap_labels.MAX_STYLE_ROWS
    assert grid.shape[0] == 16 + pad + (rows + 1) * (tile + pad)  # a header, then A and one example per class
    assert grid.shape[1] == pad + (tile + pad) * (k + 1) + 10


def test_an_upload_is_turned_upright_by_its_exif_orientation():
    tall = np.full((40, 20), 255, np.uint8)
    tall[5:35, 8:12] = 0  # a vertical bar
    image = Image.fromarray(tall)
    exif = image.getexif()
    exif[0x0112] = 6  # "rotate 90° clockwise to view"
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif)
    assert im.read_upload(buffer.getvalue()).shape == (20, 40)
