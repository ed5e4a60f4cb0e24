"""Writing text in one image's style (`write`), and the true glyphs shown next to a glyph's swaps."""

from __future__ import annotations

import numpy as np
import pytest

import zoo
from zoo.demo import ZooView
from zoo.demo.tabs import swap_labels as tab

CVAE = "cvae_conv_z8.mnist"


@pytest.fixture(scope="module")
def view():
    return ZooView("*")


def test_write_draws_each_character_under_its_label(view):
    a = view.pick("mnist", "example", 3)
    written = tab.write(view, CVAE, a, "7 7\n1")
    side = 28 * 2  # shown 2× larger
    assert written.image.dtype == np.uint8 and written.image.shape[0] == 2 * side  # two lines
    first_line = written.image[:side]
    gap = first_line[:, first_line.shape[1] // 2 - 4: first_line.shape[1] // 2 + 4]
    assert gap.max() < 64  # the space between the two sevens
    assert first_line[:, :side // 2].max() > 128  # ink where the first 7 is
    assert "5 characters" in written.caption


def test_write_is_the_swap_row_cropped_to_its_ink(view):
    """A character written alone is A's style decoded under that label (as in the swap row), cut to its ink."""
    a = view.pick("mnist", "example", 3)
    decoded = tab.swap_labels(view, CVAE, a).row[4][0][::4, ::4]  # the row is shown 4× larger
    written = tab.write(view, CVAE, a, "4").image[::2, ::2]  # and the text 2×
    ink = np.flatnonzero(decoded.max(axis=0) > 0.25 * 255 + 1)
    glyph = decoded[:, ink[0]: ink[-1] + 1]
    assert np.array_equal(written[:, :glyph.shape[1]], glyph)
    assert written[:, glyph.shape[1]:].max() == 0  # then the spacing


@pytest.mark.parametrize("text, message", [("ab", "cannot draw 'ab'"), ("", "type some text"), ("1" * 201, "at most 200")])
def test_write_says_what_it_cannot_draw(view, text, message):
    with pytest.raises(zoo.InputError, match=message):
        tab.write(view, CVAE, view.pick("mnist", "example", 0), text)


def test_write_needs_a_conditional_model(view):
    with pytest.raises(zoo.InputError, match="not conditional"):
        tab.write(view, "vae_conv_z2.mnist", view.pick("mnist", "example", 0), "1")


def test_the_true_glyphs_are_a_shipped_faces(view):
    examples = view.examples("glyphs")
    assert len(examples) == 2 * 62 and examples.labels.tolist() == list(range(62)) * 2  # whole faces, in label order
    truth = tab.true_glyphs(view, "glyphs", view.pick("glyphs", "example", 70).image)  # face 1's "I"
    assert np.array_equal(truth, examples.images[62:124])
    assert tab.true_glyphs(view, "mnist", view.pick("mnist", "example", 0).image) is None  # not a face dataset
    drawn = np.zeros((64, 64), np.float32)
    drawn[10:50, 30:34] = 1.0
    assert tab.true_glyphs(view, "glyphs", drawn) is None  # a drawing has no face
