"""Restyling (zoo/augment.py): a random slant, width and weight per image, the same for its partner."""

import pytest
import torch

from zoo.augment import Restyle


def bar(rows=slice(8, 56), cols=slice(30, 34), side=64):
    """(1, 1, side, side): a light bar on a dark background."""
    x = torch.zeros(1, 1, side, side)
    x[..., rows, cols] = 1.0
    return x


def ink_columns(image, row):
    return torch.nonzero(image[0, 0, row] > 0.5).flatten().float()


def test_no_slant_width_or_weight_leaves_the_image_as_it_is():
    x = torch.rand(5, 1, 64, 64)
    (same,) = Restyle(slant=0, width=(1, 1), weight=0)(x, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(same, x, atol=1e-5, rtol=0)


def test_an_image_and_its_partner_get_the_same_draw_and_a_seed_the_same_draws():
    x, partner = torch.rand(6, 1, 64, 64), torch.rand(6, 1, 64, 64)
    restyle = Restyle()
    a, b = restyle(x, partner, generator=torch.Generator().manual_seed(3))
    (alone,) = restyle(partner, generator=torch.Generator().manual_seed(3))
    torch.testing.assert_close(b, alone)  # the partner's draw is the image's, not a draw of its own
    again, _ = restyle(x, partner, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a, again)
    other, _ = restyle(x, partner, generator=torch.Generator().manual_seed(4))
    assert not torch.equal(a, other)
    different = restyle(x, x, generator=torch.Generator().manual_seed(3))
    assert torch.equal(*different)


def test_a_slant_shears_about_the_centre_row_and_never_moves_a_row():
    restyle = Restyle(slant=0.15, width=(1, 1), weight=0)
    seed = next(s for s in range(100) if restyle.draw(1, torch.Generator().manual_seed(s))[0].abs() > 0.1)
    (slanted,) = restyle(bar(), generator=torch.Generator().manual_seed(seed))
    shear = restyle.draw(1, torch.Generator().manual_seed(seed))[0].item()
    top, bottom = ink_columns(slanted, 12).mean(), ink_columns(slanted, 52).mean()
    # x_out = x_in + shear * y: rows 40 pixels apart move shear * 40 apart, the top one to the left for shear > 0
    assert (bottom - top).item() == pytest.approx(40 * shear, abs=1.0)
    rows = lambda image: torch.nonzero(image[0, 0].sum(1) > 0.5).flatten()
    assert torch.equal(rows(slanted), rows(bar()))  # the baseline stays where it was


def test_a_width_scales_about_the_centre_column():
    restyle = Restyle(slant=0, width=(0.5, 0.5), weight=0)
    (narrow,) = restyle(bar(cols=slice(16, 48)), generator=torch.Generator().manual_seed(0))
    columns = ink_columns(narrow, 32)
    assert columns.min().item() == pytest.approx(24, abs=1) and columns.max().item() == pytest.approx(39, abs=1)


def test_a_weight_only_ever_adds_ink():
    x = torch.rand(8, 1, 64, 64) * (torch.rand(8, 1, 64, 64) > 0.9)
    thin = Restyle(slant=0, width=(1, 1), weight=0)
    heavy = Restyle(slant=0, width=(1, 1), weight=1.0)
    (plain,) = thin(x, generator=torch.Generator().manual_seed(0))
    (bolder,) = heavy(x, generator=torch.Generator().manual_seed(0))
    assert (bolder >= plain - 1e-6).all()
    added = (bolder - plain).flatten(1).sum(1)
    weights = heavy.draw(8, torch.Generator().manual_seed(0))[2]
    assert torch.equal(added > 1e-3, weights > 0)  # half the draws keep the weight (clipped at 0), the rest add ink


@pytest.mark.parametrize("arguments", [dict(slant=-0.1), dict(width=(0, 1)), dict(width=(1.2, 1.0)), dict(weight=-1)])
def test_a_restyle_that_cannot_be_drawn_is_refused(arguments):
    with pytest.raises(ValueError, match="Restyle needs"):
        Restyle(**arguments)


def test_batches_of_other_shapes_are_refused():
    with pytest.raises(ValueError, match="share one shape"):
        Restyle()(torch.rand(2, 1, 64, 64), torch.rand(3, 1, 64, 64))
