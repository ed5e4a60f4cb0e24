"""The trade-off: 2-D models trained with the KL term weighted by β, from 0 (the AE) to 8.

The loss recon + β·KL is a compromise: reconstruction wants tight clusters apart from each other,
the KL term wants every region packed at the origin. Moving β along the sweep (the `beta_sweep`
study, plugins/beta_sweep.py) shows the latent map packing, the decoded plane blurring, the
rate–distortion curve (KL nats against reconstruction nats, as `vae-zoo eval` recorded them in
the cards), and the holes map: a fine grid over the latent plane decoded and judged by the
project's classifier, shaded by how confidently it sees a class there, with the share of the
prior's mass that decodes to a confident class (the lecture's "no guarantee of meaningful images
between the regions", in one number).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ...classifier import load_classifier
from ...errors import InputError
from ..links import Field, LinkSchema
from ..plots import holes_plot, rate_distortion_plot
from ..view import ZooView
from . import latent_map as maps
from .sample import decoded_plane

STUDY = "beta_sweep"
LINK = LinkSchema("tradeoff", dataset=Field("str", check="dataset"), beta=Field("float", bounds=(0.0, 1000.0)))
CONFIDENT = 0.9  # a decoded image counts as a recognisable class when the classifier gives it this probability
HOLES_GRID = 48  # cells per side of the holes map
PRIOR_DRAWS = 1000  # draws from N(0, I) for the share of the prior's mass that decodes to a confident class
MIN_EXTENT = 4.0  # maps and holes at least ±4: the prior's mass and a little around it


@dataclass(frozen=True)
class Step:
    """One model of the sweep, with what `vae-zoo eval` measured (None: not measured yet)."""

    beta: float
    name: str
    rate: float | None  # KL nats per image (None for the AE: a point posterior has no finite KL)
    distortion: float | None  # reconstruction nats per image
    trained: bool = True  # False: no weights to load (yet)


@dataclass(frozen=True)
class Holes:
    image: np.ndarray  # uint8 RGB plot of the latent plane, shaded by the classifier's confidence
    confident_share: float  # of the prior's mass, decoding to a class recognised with p ≥ CONFIDENT
    grid_share: float  # of the plotted cells, the same


@dataclass(frozen=True)
class TradeOff:
    step: Step
    latent_map: np.ndarray  # uint8 RGB
    plane: np.ndarray  # uint8, the decoded latent plane (Gaussian quantiles, as in the Sample tab)
    curve: np.ndarray  # uint8 RGB, rate against distortion, this β marked
    holes: Holes
    table: list  # [[β, model, KL nats, recon nats, prior share decoding to a confident class]]


def steps(view: ZooView, dataset: str) -> list[Step]:
    """The sweep on `dataset`, by β (the AE first, at β = 0)."""
    if dataset not in view.datasets():
        raise InputError(f"dataset must be one of {', '.join(view.datasets())}; got {dataset!r}"[:200])
    found = []
    for name in view.models(dataset=dataset, study=STUDY):
        spec = view.spec(name)
        beta = float(spec.recipe.beta) if spec.variational else 0.0
        measured = view.metrics(name)
        found.append(Step(beta, name, measured.get("kl_nats") if spec.variational else None, measured.get("recon_nats"),
                          _trained(view, name)))
    if not found:
        raise InputError(f"this app serves no model of the β sweep on {dataset}; see plugins/beta_sweep.py")
    return sorted(found, key=lambda s: s.beta)


def _trained(view: ZooView, name: str) -> bool:
    try:
        view.model(name)
        return True
    except InputError:
        return False


def nearest(view: ZooView, dataset: str, beta) -> Step:
    """The step of the sweep whose β is nearest to `beta` (on a log scale: 0.25 is between 0.1 and 0.5)."""
    beta = LINK["beta"].number(beta)
    sweep = [s for s in steps(view, dataset) if s.trained]
    if not sweep:
        raise InputError(f"no model of the β sweep on {dataset} has weights yet; train them with `vae-zoo train`")
    return min(sweep, key=lambda s: abs(np.log1p(10 * s.beta) - np.log1p(10 * beta)))


def tradeoff(view: ZooView, dataset: str, beta=1.0, large: bool = False) -> TradeOff:
    """The sweep's model nearest to `beta` on `dataset`: its latent map, decoded plane, holes map, and the curve."""
    step = nearest(view, dataset, beta)
    sweep = steps(view, dataset)
    extent = max(MIN_EXTENT, maps.extents(view, [step.name], "fit each")[0])
    lmap = maps.latent_map(view, step.name, extent=extent, options=maps.MapOptions(large=large))
    holes = holes_map(view, step.name, extent, large)
    table = [[s.beta, s.name, _round(s.rate), _round(s.distortion), round(prior_share(view, s.name), 3) if s.trained else None]
             for s in sweep]
    curve = view.cached(("rd", dataset, step.name, tuple(sweep), bool(large)), lambda: rate_distortion_plot(
        [(s.beta, s.rate, s.distortion) for s in sweep], step.beta, title=f"the β sweep on {dataset}",
        width=maps.SIZES[bool(large)], large=large))
    return TradeOff(step, lmap.image, decoded_plane(view, step.name), curve, holes, table)


def _round(value):
    return None if value is None else round(float(value), 2)


def _classifier(view: ZooView, dataset: str):
    def load():
        try:
            return load_classifier(dataset, device=view.device)
        except FileNotFoundError as exc:
            raise InputError(f"no classifier to judge {dataset} images: {exc}") from exc

    return view.cached(("classifier", dataset), load)


@torch.inference_mode()
def _confidence(view: ZooView, name: str, z: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """The classifier's class and probability for each code of `z` (M, 2) decoded by `name`."""
    model = view.model(name)
    classifier = _classifier(view, view.spec(name).dataset)
    device = next(model.parameters()).device
    classes, probs = [], []
    for start in range(0, len(z), 500):
        images = model.decode(z[start:start + 500].to(device))
        p = torch.softmax(classifier(images.to(next(classifier.parameters()).device)), dim=1)
        best = p.max(dim=1)
        classes.append(best.indices.cpu().numpy())
        probs.append(best.values.cpu().numpy())
    return np.concatenate(classes), np.concatenate(probs)


def prior_share(view: ZooView, name: str) -> float:
    """The share of the prior N(0, I)'s mass that `name` decodes to an image its dataset's classifier
    recognises with p ≥ CONFIDENT (PRIOR_DRAWS seeded draws)."""

    def measure():
        model = view.model(name)
        z = model.sample_prior(PRIOR_DRAWS, generator=torch.Generator(device="cpu").manual_seed(0))
        return float((_confidence(view, name, z)[1] >= CONFIDENT).mean())

    return view.cached(("prior_share", name), measure)


def holes_map(view: ZooView, name: str, extent: float, large: bool = False) -> Holes:
    """A HOLES_GRID² grid over [-extent, extent]² decoded, each cell shaded by the class the classifier sees
    (its colour) and how sure it is (pale below CONFIDENT: a hole)."""

    def draw():
        ticks = np.linspace(-extent, extent, HOLES_GRID)
        zx, zy = np.meshgrid(ticks, ticks[::-1])  # rows from the top (high z1) down
        z = torch.tensor(np.stack([zx.ravel(), zy.ravel()], axis=1), dtype=torch.float32)
        classes, probs = _confidence(view, name, z)
        share = prior_share(view, name)
        names = view.label_names(view.spec(name).dataset)
        image = holes_plot(classes.reshape(HOLES_GRID, HOLES_GRID), probs.reshape(HOLES_GRID, HOLES_GRID), extent, names,
                           CONFIDENT, title=f"{name}\n{share:.0%} of the prior's mass decodes to a sure class",
                           size=maps.SIZES[bool(large)], large=large)
        return Holes(image, share, float((probs >= CONFIDENT).mean()))

    return view.cached(("holes", name, float(extent), bool(large)), draw)
