"""The colour path: a 3-channel model (shapes_rgb) through every tab's computation, on seeded untrained
weights (what is tested is that colour goes in and comes out, not what the models learnt); and the
shapes' extras: the true renderings beside a label swap, and Traverse naming each dimension's factor.

The Trade-off tab shows only its study's 2-D sweeps (MNIST, Fashion-MNIST): no colour model reaches it.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image

import zoo
from random_zoo import weights_dir, write_random_weights
from zoo import cards
from zoo.demo import ZooView, tabs
from zoo.demo import images as im

COLOUR = ["vae_conv_z10.shapes_rgb", "cvae_conv_z10.shapes_rgb"]
GREY_CVAE = "cvae_conv_z10.shapes"


@pytest.fixture(scope="module")
def view(tmp_path_factory):
    folder = write_random_weights(tmp_path_factory.mktemp("colour-weights"), COLOUR + [GREY_CVAE])
    with weights_dir(folder):
        yield ZooView("*shapes*")


def is_colour(picture: np.ndarray) -> bool:
    """An RGB picture whose channels differ somewhere: not grey drawn three times."""
    return picture.ndim == 3 and picture.shape[2] == 3 and bool((picture[..., 0] != picture[..., 1]).any())


def test_colour_examples_ship_with_their_factors(view):
    ex = view.examples("shapes_rgb")
    assert ex.images.shape[1:] == (64, 64, 3) and ex.factors.shape == (len(ex), 7)
    truth = zoo.get_dataset("shapes_rgb").render(torch.as_tensor(np.array(ex.factors[:3])))
    assert np.allclose(view.images(truth), ex.images[:3], atol=0.5 / 255 + 1e-6)  # stored as uint8
    assert is_colour(im.enlarge(ex.images[0]))


@pytest.mark.parametrize("name", COLOUR)
def test_every_tab_takes_and_draws_colour(view, name):
    a, b = view.pick("shapes_rgb", "example", 0), view.pick("shapes_rgb", "example", 4)
    assert a.image.shape == (64, 64, 3)
    (picture, _), = tabs.reconstruct.reconstruct(view, [name], a).gallery
    assert picture.shape == (256, 256, 3) and is_colour(picture)
    samples = tabs.sample.sample(view, name, grid_size=2, seed=0)
    assert samples.grid.ndim == 3 and is_colour(samples.grid)
    frames = tabs.interpolate.interpolate(view, name, a, b, "linear", steps=4)
    assert frames.frames.shape == (4, 64, 64, 3) and is_colour(frames.strip)
    assert tabs.interpolate.frame_at(frames.frames, 1.0).shape == (256, 256, 3)  # the slider's lookup
    assert Image.open(io.BytesIO(im.gif_bytes(frames.frames))).mode in ("P", "RGB")
    traversal = tabs.traverse.traverse(view, name, a)
    assert traversal.decoded.shape == (256, 256, 3) and traversal.grid.ndim == 3
    moved = tabs.traverse.traverse_decode(view, traversal.state, [s.maximum for s in traversal.sliders])
    assert moved.shape == (256, 256, 3)
    lmap = tabs.latent_map.latent_map(view, name)
    centre = lmap.frame.left + lmap.frame.side / 2
    assert tabs.latent_map.decode_point(view, name, centre, centre).image.shape == (256, 256, 3)
    if zoo.get_spec(name).conditional:
        swap = tabs.swap_labels.swap_labels(view, name, a, b=b)
        assert swap.swapped.shape == (256, 256, 3) and swap.grid.shape[2] == 3
        assert [image.shape for image, _ in swap.truth] == [(256, 256, 3)] * 3


def test_an_upload_reaches_a_colour_model_grey_in_every_channel(view):
    ys, xs = np.indices((64, 64))
    ring = np.where((np.hypot(ys - 32, xs - 32) > 12) & (np.hypot(ys - 32, xs - 32) < 20), 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(ring).save(buffer, format="PNG")
    picked = view.pick("shapes_rgb", "upload", upload=buffer.getvalue())
    assert picked.image.shape == (64, 64, 3) and np.array_equal(picked.image[..., 0], picked.image[..., 2])
    (picture, _), = tabs.reconstruct.reconstruct(view, ["vae_conv_z10.shapes_rgb"], picked).gallery
    assert picture.shape == (256, 256, 3)
    assert tabs.swap_labels.swap_labels(view, "cvae_conv_z10.shapes_rgb", picked).truth is None  # an upload has no truth


def test_label_swap_shows_the_true_renderings_of_a_shapes_example(view):
    ex = view.examples("shapes")
    a = view.pick("shapes", "example", 5)
    truth = tabs.swap_labels.true_images(view, "shapes", a.image)
    assert truth.shape == (3, 64, 64)
    assert np.abs(truth[a.label] - a.image).max() <= 0.5 / 255 + 1e-6  # its own shape: the example itself
    factors = torch.as_tensor(np.array(ex.factors[5])).repeat(3, 1)
    factors[:, 0] = torch.arange(3)
    assert np.array_equal(truth, view.images(zoo.get_dataset("shapes").render(factors)))  # the others: the same factors
    out = tabs.swap_labels.swap_labels(view, GREY_CVAE, a)
    assert [label for _, label in out.truth] == ["square", "ellipse", "heart"]


def test_traverse_names_the_factor_each_dimension_carries(view):
    name = "vae_conv_z10.shapes_rgb"
    folder = zoo.resolve_weights(zoo.get_spec(name)).folder
    a = view.pick("shapes_rgb", "example", 0)
    assert all("(" not in s.label for s in tabs.traverse.traverse(view, name, a).sliders)  # not evaluated: no names
    factors = ["x", "", "y", "scale", "", "", "colour", "", "", "background"]
    cards.write_card(zoo.get_spec(name), folder, metrics={"mig": 0.5, "dimension_factors": factors})
    sliders = tabs.traverse.traverse(view, name, a).sliders
    for s in sliders:
        assert s.factor == factors[s.dim] and (f"z{s.dim} ({s.factor})" in s.label if s.factor else "(" not in s.label)
