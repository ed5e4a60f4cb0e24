"""The shapes datasets: the renderer (deterministic, checksummed, the right geometry), the grid's indexing,
the splits, the colours, and dSprites' own file taken only when its hash matches. Renders a few images, never a split."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
import torch

import zoo
from zoo.datasets import shapes, shapes_rgb

# sha256 of the uint8 coverage counts (64×64 each) of these grid indices, render version 1. A change of
# the renderer changes them: bump shapes.BUILD_VERSION (so caches are rebuilt) and update these.
CHECKSUMS = {
    0: "362062ad9109595f",  # square, scale 0.5, orientation 0, top-left corner
    4095: "c192b12dbf7221fa",
    123456: "a1bf26d954ee76c4",
    400000: "1da52ab389a15ee2",  # an ellipse
    737279: "c956f53ddded7287",  # the last: heart, scale 1, orientation 2π, bottom-right corner
}
RGB_CHECKSUM = "bdff7170f91ab596"  # the painted images of rgb indices 0, 5,000,000 and 8,847,359, ×255 rounded


def test_fixed_indices_render_to_their_checksums():
    counts = shapes.coverage(shapes.factors_of(list(CHECKSUMS)))
    assert counts.dtype == torch.uint8 and counts.shape == (len(CHECKSUMS), 64, 64) and int(counts.max()) == 16
    got = {i: hashlib.sha256(c.numpy().tobytes()).hexdigest()[:16] for i, c in zip(CHECKSUMS, counts)}
    assert got == CHECKSUMS


def test_rendering_is_deterministic_and_independent_of_the_batch():
    factors = shapes.sample_factors(40, np.random.default_rng(1))
    together = shapes.render(factors)
    one_by_one = torch.cat([shapes.render(f[None]) for f in factors])
    assert torch.equal(together, one_by_one) and torch.equal(together, shapes.render(factors))
    assert torch.equal(shapes.coverage(factors, batch=7), shapes.coverage(factors))


def test_values_are_sixteenths_and_shapes_have_their_areas():
    big = torch.tensor([[k, 5, 0, 16, 16] for k in range(3)])  # scale 1, upright, in the middle
    images = shapes.render(big)
    assert images.shape == (3, 1, 64, 64) and torch.equal(images * 16, (images * 16).round())
    area = images.sum(dim=(1, 2, 3))
    assert area[0] == pytest.approx(400, abs=1)  # a square of side 20
    assert area[1] == pytest.approx(np.pi * 10 * 5, rel=0.01)  # an ellipse of semi-axes 10 and 5
    assert 200 < area[2] < 300  # a heart in between
    rotated = shapes.render(torch.tensor([[0, 5, o, 16, 16] for o in (0, 7, 19)])).sum(dim=(1, 2, 3))
    assert torch.allclose(rotated, torch.full((3,), 400.0), atol=2)  # rotation keeps the area
    half = shapes.render(torch.tensor([[0, 0, 0, 16, 16]])).sum()
    assert half == pytest.approx(100, abs=1)  # scale 0.5 halves the side


def test_position_moves_the_shape_right_and_down():
    images = shapes.render(torch.tensor([[1, 5, 0, 0, 0], [1, 5, 0, 31, 0], [1, 5, 0, 0, 31]]))[:, 0]  # centres at 14 and 50 px
    cols, rows = torch.arange(64.0), torch.arange(64.0)[:, None]
    cx = (images * cols).sum(dim=(1, 2)) / images.sum(dim=(1, 2))
    cy = (images * rows).sum(dim=(1, 2)) / images.sum(dim=(1, 2))
    assert cx[0] == pytest.approx(13.5, abs=0.3) and cy[0] == pytest.approx(13.5, abs=0.3)
    assert cx[1] == pytest.approx(49.5, abs=0.3) and cy[1] == pytest.approx(13.5, abs=0.3)  # x: columns
    assert cx[2] == pytest.approx(13.5, abs=0.3) and cy[2] == pytest.approx(49.5, abs=0.3)  # y: rows


def test_every_shape_stays_inside_its_window():
    # The largest of each shape, at every orientation: the sampled window must hold all of its area.
    factors = torch.tensor([[k, 5, o, 16, 16] for k in range(3) for o in range(40)])
    area = shapes.render(factors).sum(dim=(1, 2, 3)).view(3, 40)
    assert (area.max(dim=1).values - area.min(dim=1).values < 3).all()


def test_grid_indexing_is_dsprites_row_major():
    assert shapes.GRID_SIZE == 737_280
    assert shapes.factors_of([0]).tolist() == [[0, 0, 0, 0, 0]]
    assert shapes.factors_of([1, 32, 32 * 32, shapes.GRID_SIZE - 1]).tolist() == [
        [0, 0, 0, 0, 1], [0, 0, 0, 1, 0], [0, 0, 1, 0, 0], [2, 5, 39, 31, 31]]
    index = torch.randint(0, shapes.GRID_SIZE, (100,), generator=torch.Generator().manual_seed(0))
    assert torch.equal(shapes.index_of(shapes.factors_of(index)), index)
    with pytest.raises(ValueError, match="out of range"):
        shapes.render(torch.tensor([[3, 0, 0, 0, 0]]))


def test_splits_are_disjoint_seeded_subsets_of_the_grid():
    test, train = shapes.split_indices("test"), shapes.split_indices("train")
    assert len(test) == shapes.TEST_SIZE and len(train) == shapes.TRAIN_SIZE
    assert not set(test.tolist()) & set(train.tolist())
    assert np.array_equal(test, shapes.split_indices("test"))
    factors = shapes.split_factors("test")
    assert factors.shape == (shapes.TEST_SIZE, 5) and torch.equal(factors[:5], shapes.factors_of(test[:5]))
    counts = torch.bincount(factors[:, 0], minlength=3)
    assert (counts > 0.3 * len(test)).all()  # every shape about a third


@pytest.mark.parametrize("name", ["shapes", "shapes_rgb"])
def test_registered_with_factors_and_a_renderer(name):
    dataset = zoo.get_dataset(name)
    assert dataset.factor_names[:5] == ("shape", "scale", "orientation", "x", "y")
    assert dataset.label_factor == "shape" and dataset.label_names == ("square", "ellipse", "heart")
    assert dataset.input_shape == ((1, 64, 64) if name == "shapes" else (3, 64, 64))
    assert dataset.render is not None and "re-render" in dataset.description + dataset.source("test")


def test_colour_paints_the_grey_coverage():
    factors = shapes_rgb.factors_of([0, 5_000_000, shapes_rgb.GRID_SIZE - 1])
    images = shapes_rgb.render(factors)
    assert images.shape == (3, 3, 64, 64) and 0 <= images.min() and images.max() <= 1
    assert hashlib.sha256((images * 255).round().to(torch.uint8).numpy().tobytes()).hexdigest()[:16] == RGB_CHECKSUM
    grey = shapes.render(factors[:, :5])[:, 0]
    for image, f, a in zip(images, factors, grey):
        obj = torch.tensor(shapes_rgb.OBJECT_COLOURS[f[5]][1])
        bg = torch.tensor(shapes_rgb.BACKGROUND_COLOURS[f[6]][1])
        assert torch.allclose(image[:, 0, 0], bg)  # a corner: background
        assert torch.allclose(image, bg[:, None, None] + a * (obj - bg)[:, None, None], atol=1e-6)
    assert shapes_rgb.GRID_SIZE == shapes.GRID_SIZE * 12


def test_dsprites_file_is_used_only_when_its_hash_matches(tmp_path, monkeypatch, caplog):
    # A stand-in for dSprites' file: the real one is 26 MB; the hash check is what is tested.
    imgs = np.zeros((shapes.GRID_SIZE, 1, 1), np.uint8)  # not 64×64: only indexing is exercised
    imgs[42] = 1
    path = tmp_path / shapes.DSPRITES_FILE
    np.savez_compressed(path, imgs=imgs)
    monkeypatch.setenv("ZOO_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(shapes, "_original", {})
    assert shapes.dsprites_path() is None and "not dSprites'" in caplog.text  # a file with another hash is refused
    assert shapes.render(shapes.factors_of([42])).shape == (1, 1, 64, 64)  # the re-render
    monkeypatch.setattr(shapes, "DSPRITES_MD5", shapes._md5(path))
    monkeypatch.setattr(shapes, "_original", {})
    assert shapes.dsprites_path() == path
    assert shapes.render(shapes.factors_of([42, 43]))[:, 0, 0, 0].tolist() == [1.0, 0.0]  # its pixels
    assert "dSprites' own pixels" in shapes.source("test")


def test_a_split_is_rendered_once_into_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(shapes, "TEST_SIZE", 6)  # a few images, not a split
    monkeypatch.setattr(shapes, "_splits", {})
    images, labels = shapes.load("test")
    assert images.shape == (6, 1, 64, 64) and torch.equal(labels, shapes.split_factors("test")[:, 0])
    assert torch.equal(images, shapes.render(shapes.split_factors("test")))
    cached = tmp_path / "shapes" / f"coverage-test-v{shapes.BUILD_VERSION}.npy"
    assert cached.is_file()
    monkeypatch.setattr(shapes, "coverage", lambda *a, **k: pytest.fail("rendered again"))
    monkeypatch.setattr(shapes, "_splits", {})
    assert torch.equal(shapes.load("test")[0], images)  # read back from the cache
