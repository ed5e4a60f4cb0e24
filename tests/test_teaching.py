"""What the app teaches: latent maps on one scale with overlays, Reconstruct's region of draws, the β
trade-off tab, the explainer's links and presentation mode's link key. Small inputs, on the CPU."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

import numpy as np
import pytest

import zoo
from zoo.demo import LINKS, ZooView, read_link, tabs
from zoo.demo.tabs import latent_map as lm
from zoo.demo.tabs import tradeoff

from conftest import has_weights

SWEEP = zoo.list_models("sweep_z2_*.mnist")
needs = pytest.mark.skipif(not all(has_weights(n) for n in ["ae_conv_z2.mnist", "vae_conv_z2.mnist", *SWEEP]),
                           reason="needs the MNIST 2-D models and the β sweep's weights")


@pytest.fixture(scope="module")
def zd() -> ZooView:
    return ZooView("*mnist")


def test_study_models_stay_out_of_the_pickers(zd):
    assert SWEEP and not set(SWEEP) & set(zd.models())
    assert set(zd.models(dataset="mnist", study=tradeoff.STUDY)) == set(SWEEP)
    assert {zoo.get_spec(n).recipe.beta if zoo.get_spec(n).variational else 0.0 for n in SWEEP} == {0, 0.1, 0.25, 0.5, 1, 2, 4, 8}


@needs
def test_maps_share_one_scale_unless_asked_to_fit_each(zd):
    pair = lm.default_pair(zd, "mnist")
    assert [zd.spec(n).family for n in pair] == ["ae", "vae"]
    shared = lm.maps(zd, "mnist", pair, "shared")
    fitted = lm.maps(zd, "mnist", pair, "fit each")
    assert shared[0].frame == shared[1].frame
    assert fitted[0].frame.hi > fitted[1].frame.hi  # an AE's codes spread wider than a VAE's
    assert shared[1].frame.hi == fitted[0].frame.hi
    with pytest.raises(zoo.InputError, match="scale must be one of"):
        lm.maps(zd, "mnist", pair, "zoom")


@needs
def test_overlays_are_drawn_on_demand_and_a_click_decodes_on_the_same_frame(zd):
    pair = lm.default_pair(zd, "mnist")
    plain = lm.maps(zd, "mnist", pair)[1]
    options = lm.MapOptions(draws=True, path=True, posterior=True, a=3, b=7, seed=1)
    shown = lm.maps(zd, "mnist", pair, options=options)[1]
    assert shown.frame == plain.frame and not np.array_equal(shown.image, plain.image)
    held, drawn = shown.draws_in_holes
    assert drawn == lm.DRAWS_SIDE**2 and 0 <= held <= drawn
    f = shown.frame
    out = lm.click(zd, "mnist", pair, 1, f.left + f.side / 2, f.top + f.side / 2, options=options)
    assert np.allclose(out.point, (0, 0), atol=0.1) and out.marked.shape == shown.image.shape
    with pytest.raises(zoo.InputError, match="a_index must be between"):
        lm.maps(zd, "mnist", pair, options=lm.MapOptions(a=10**6))


def test_a_draw_far_from_every_example_is_in_a_hole():
    points = np.stack(np.meshgrid(np.arange(10.0), np.arange(10.0)), -1).reshape(-1, 2)  # a unit grid
    holes = lm.in_holes(points, np.array([[4.5, 4.5], [4.0, 4.2], [30.0, 30.0]]))
    assert holes.tolist() == [False, False, True]


@needs
def test_reconstruct_decodes_a_region_for_a_vae_and_a_point_for_an_ae(zd):
    picked = zd.pick("mnist", "example", 3)
    out = tabs.reconstruct.reconstruct(zd, ["ae_conv_z2.mnist", "vae_conv_z2.mnist"], picked)
    regions = out.regions  # one picture: per model a caption, then μ's decoding and the draws'
    assert regions.ndim == 3 and regions.shape[1] >= (tabs.reconstruct.REGION_DRAWS + 1) * 28 * 3
    for name, varies in (("ae_conv_z2.mnist", False), ("vae_conv_z2.mnist", True)):
        model, spec = zd.model(name), zd.spec(name)
        x = zd.tensor(picked.image, model)
        q = model.encode(x)
        import torch
        draws = torch.cat([q.sample(torch.Generator().manual_seed(i)) for i in range(4)])
        assert (not torch.allclose(draws, q.mean.expand_as(draws))) == varies, name


@needs
def test_the_tradeoff_moves_through_the_sweep(zd, monkeypatch):
    monkeypatch.setattr(tradeoff, "PRIOR_DRAWS", 64)
    monkeypatch.setattr(tradeoff, "HOLES_GRID", 8)
    steps = tradeoff.steps(zd, "mnist")
    assert [s.beta for s in steps] == sorted(s.beta for s in steps) and steps[0].beta == 0 and steps[0].rate is None
    rates = [s.rate for s in steps[1:]]
    assert all(r is not None for r in rates) and rates[0] > rates[-1]  # more β, less KL (the cards' eval)
    assert tradeoff.nearest(zd, "mnist", 0.3).beta == 0.25 and tradeoff.nearest(zd, "mnist", 100).beta == 8
    out = tradeoff.tradeoff(zd, "mnist", 0.3)
    assert out.step.beta == 0.25 and out.latent_map.ndim == 3 and out.curve.ndim == 3 and out.plane.ndim == 2
    assert 0 <= out.holes.confident_share <= 1 and 0 <= out.holes.grid_share <= 1
    assert [row[0] for row in out.table] == [s.beta for s in steps]
    with pytest.raises(zoo.InputError, match="beta must be"):
        tradeoff.tradeoff(zd, "mnist", -1)


def test_the_tradeoff_link_round_trips(zd):
    query = LINKS["tradeoff"].write(dataset="mnist", beta=0.25)
    tab, params, notes = read_link(dict(parse_qsl(query)))
    assert tab == "tradeoff" and params == {"dataset": "mnist", "beta": 0.25} and notes == []


def test_present_is_the_pages_key_not_a_tabs(zd):
    tab, params, notes = read_link({"tab": "sample", "present": "1", "seed": "3"})
    assert (tab, params, notes) == ("sample", {"seed": 3}, [])


def test_every_link_in_the_explainer_opens_its_view():
    from ui.explainer import explainer

    full = ZooView()
    queries = re.findall(r"\]\(\?([^)]*)\)", explainer())
    assert len(queries) >= 8
    for query in queries:
        tab, params, notes = read_link(dict(parse_qsl(query)))
        kept, more = LINKS[tab].clean(full, params)
        assert notes + more == [] and kept == params, query


def test_every_link_of_the_readme_walkthrough_opens_its_view():
    from pathlib import Path
    from urllib.parse import urlsplit

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = readme.split("## For teachers", 1)[1].split("\n## ", 1)[0]
    links = re.findall(r"\]\((http://127\.0\.0\.1:7860/\?[^)]*)\)", section)
    assert len(links) >= 9
    full = ZooView()
    for link in links:
        query = dict(parse_qsl(urlsplit(link).query))
        assert query.pop("present") == "1", link
        tab, params, notes = read_link(query)
        kept, more = LINKS[tab].clean(full, params)
        assert notes + more == [] and kept == params, link
