"""Sample: draws from the prior, decoded; a 2-D model also shows its decoded latent plane."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .. import images as im
from ..links import AUTO, EACH, Field, LinkSchema
from ..view import ZooView

LINK = LinkSchema("sample", model=Field("str", check="model"), n=Field("int", "grid_size", bounds=(1, 16)),
                  seed=Field("int", bounds=(0, 2**31 - 1)), temp=Field("float", "temperature", bounds=(0.0, 3.0)),
                  label=Field("str", check="label"))
MANIFOLD_SIZE = 16  # tiles per side of a 2-D model's decoded plane


@dataclass(frozen=True)
class Samples:
    grid: np.ndarray  # uint8, the decoded draws
    caption: str
    manifold: np.ndarray | None  # uint8, the decoded latent plane (2-D models only)


@dataclass(frozen=True)
class Draws:
    z: torch.Tensor  # (N, D) codes from N(0, I), before the temperature scales them
    y: torch.Tensor | None  # (N,) labels of a conditional model
    columns: int
    seed: int

    def as_json(self, name: str) -> dict:
        """For decoding the same draws at any temperature in the page (ui/live.py)."""
        return dict(name=name, z=self.z.cpu().tolist(), y=None if self.y is None else self.y.cpu().tolist(),
                    columns=self.columns)


@torch.inference_mode()
def prior_draws(view: ZooView, name: str, grid_size=8, seed=0, label=EACH) -> Draws:
    """The seeded draws `sample` decodes, at temperature 1: a conditional model's "each" repeats n
    codes once per label (row r is label r), anything else draws n² codes."""
    spec, model = view.spec(name), view.model(name)
    n, seed = LINK["n"].number(grid_size), LINK["seed"].number(seed)
    generator = torch.Generator(device="cpu").manual_seed(seed)
    if spec.conditional and label in (EACH, None, "", AUTO):
        k = len(spec.label_names)
        z = model.sample_prior(n, generator=generator).repeat(k, 1)  # (K*n, D): row r is label r
        y = torch.arange(k, device=z.device).repeat_interleave(n)
    else:
        z = model.sample_prior(n * n, generator=generator)
        y = view.labels(view.parse_label(name, label), n * n, model) if spec.conditional else None
    return Draws(z, y, n, seed)


@torch.inference_mode()
def sample(view: ZooView, name: str, grid_size=8, seed=0, temperature=1.0, label=EACH) -> Samples:
    """Draws from the prior N(0, T²I), decoded. A conditional model draws one row per label
    (label="each", the same code in every column) or all under one label."""
    spec, model = view.spec(name), view.model(name)
    n, temperature = LINK["n"].number(grid_size), LINK["temp"].number(temperature)
    draws = prior_draws(view, name, grid_size, seed, label)
    z, y = draws.z * temperature, draws.y
    if spec.conditional and label in (EACH, None, "", AUTO):
        caption = f"one row per label ({', '.join(spec.label_names)}); each column shares its code z"
    else:
        caption = f"{n * n} draws" + (f" of {spec.label_names[int(y[0])]}" if y is not None else "")
    seed = draws.seed
    images = view.images(model.decode(z, y))
    manifold = None
    if spec.latent_dim == 2:
        first = None if y is None else int(y[0])
        manifold = decoded_plane(view, name, temperature, first)
    return Samples(im.grid(images, columns=n, scale=2), f"{caption}; seed {seed}, temperature {temperature:g}", manifold)


def decoded_plane(view: ZooView, name: str, temperature: float = 1.0, label: int | None = None) -> np.ndarray:
    """A 2-D model's decoded latent plane (uint8), computed once per model, temperature and label."""
    return view.cached(("manifold", name, temperature, label), lambda: _manifold(view, name, temperature, label))


@torch.inference_mode()
def _manifold(view: ZooView, name: str, temperature: float, label: int | None) -> np.ndarray:
    """The Keras example's picture: decode a grid over the latent plane, spaced by Gaussian
    quantiles (5% to 95%) so it covers where the prior puts its mass."""
    model = view.model(name)
    q = torch.special.ndtri(torch.linspace(0.05, 0.95, MANIFOLD_SIZE)) * max(temperature, 1e-3)
    zx, zy = torch.meshgrid(q, q.flip(0), indexing="xy")  # rows from high z1 (top) to low
    z = torch.stack([zx.reshape(-1), zy.reshape(-1)], dim=1)  # (S*S, 2)
    device = next(model.parameters()).device
    images = view.images(model.decode(z.to(device), view.labels(label, len(z), model)))
    return im.grid(images, columns=MANIFOLD_SIZE, pad=0, scale=1)
