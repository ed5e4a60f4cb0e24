"""Latent map: the shipped test examples encoded and coloured by class; click a point to decode it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ...errors import InputError
from .. import images as im
from ..links import Field, LinkSchema
from ..plots import MapFrame, latent_scatter, with_marker
from ..view import ZooView

LINK = LinkSchema("latent_map", dataset=Field("str", check="dataset"), left=Field("str", check="models"),
                  right=Field("str", check="models"), ellipses=Field("bool"))


@dataclass(frozen=True)
class LatentMap:
    """A latent map drawn once per model: the picture and how to go back from a pixel to a code."""

    image: np.ndarray  # (H, W, 3) uint8
    frame: MapFrame
    points: np.ndarray  # (N, 2) the examples in the map's plane
    center: np.ndarray  # (D,) the plane's origin in latent space
    basis: np.ndarray  # (D, 2) the plane's axes in latent space (identity for a 2-D model)
    projected: bool


@dataclass(frozen=True)
class MapPoint:
    image: np.ndarray  # uint8, the decoded point, enlarged
    code: np.ndarray  # (D,) float32 latent code
    caption: str
    point: tuple[float, float]  # in the map's plane
    marked: np.ndarray  # the map with a cross at the point


def default_pair(view: ZooView, dataset: str) -> tuple[str, str]:
    """The two models a dataset's maps show first: its 2-D models (AE beside VAE), else any two."""
    pair = view.models(latent_dim=2, dataset=dataset) or view.models(dataset=dataset)
    return pair[0], pair[min(1, len(pair) - 1)]


def check_pair(view: ZooView, dataset: str, names) -> None:
    for name in names:
        if view.spec(name).dataset != dataset:
            raise InputError(f"{name} is trained on {view.spec(name).dataset}, not {dataset}: choose models of one dataset")


def latent_map(view: ZooView, name: str, ellipses: bool = False) -> LatentMap:
    """The examples' codes as a scatter coloured by class: 2-D codes directly, larger ones
    projected onto their first two principal components. Drawn once per model and `ellipses`."""
    view.spec(name)
    return view.cached(("map", name, bool(ellipses)), lambda: _draw(view, name, bool(ellipses)))


def _draw(view: ZooView, name: str, ellipses: bool) -> LatentMap:
    spec, enc = view.spec(name), view.encoded(name)
    d = spec.latent_dim
    if d == 2:
        center, basis, projected = np.zeros(2), np.eye(2), False
    else:
        center = enc.mean.mean(0)
        _, _, vt = np.linalg.svd(enc.mean - center, full_matrices=False)
        basis, projected = vt[:2].T, True  # (D, 2)
    points = (enc.mean - center) @ basis  # (N, 2)
    extent = max(2.5, float(np.quantile(np.abs(points), 0.995)) * 1.08)
    covariances = None
    if ellipses and spec.variational:
        covariances = np.einsum("di,nd,dj->nij", basis, enc.std**2, basis)  # (N, 2, 2) = Bᵀ diag(σ²) B
    axes = ("PC1", "PC2") if projected else ("z0", "z1")
    title = f"{name} ({'PCA of ' + str(d) + '-D codes' if projected else '2-D codes'})"
    image, frame = latent_scatter(points, enc.labels, extent, title, axes, covariances, view.label_names(spec.dataset))
    return LatentMap(image, frame, points, center, basis, projected)


def page_projection(view: ZooView, name: str, ellipses: bool = False) -> dict:
    """What the page needs to do `decode_point` itself (JSON): the map's frame, its plane in latent
    space, and, for a conditional model, the examples' points and labels (the nearest one's label is used)."""
    lmap = latent_map(view, name, ellipses)
    frame = {key: float(getattr(lmap.frame, key)) for key in ("lo", "hi", "left", "top", "side")}
    out = dict(name=name, frame=frame, center=lmap.center.tolist(), basis=lmap.basis.tolist(), points=None, labels=None)
    if view.spec(name).conditional:
        out.update(points=np.round(lmap.points, 4).tolist(), labels=view.encoded(name).labels.astype(int).tolist())
    return out


@torch.inference_mode()
def decode_point(view: ZooView, name: str, x, y, ellipses: bool = False) -> MapPoint:
    """Decode the latent map of `name` at pixel (x, y) of its picture (as a click reports it)."""
    lmap = latent_map(view, name, ellipses)
    try:
        x, y = float(x), float(y)
    except (TypeError, ValueError, OverflowError):
        raise InputError(f"pixel ({x!r}, {y!r}) is not a point on the map; click inside the frame") from None
    if not lmap.frame.contains(x, y):
        raise InputError(f"pixel ({x}, {y}) is outside the plot area of the map; click inside the frame")
    u, v = lmap.frame.to_latent(x, y)
    z = lmap.center + lmap.basis @ np.array([u, v])  # (D,)
    spec, model = view.spec(name), view.model(name)
    label = None
    if spec.conditional:  # the class of the nearest example, so the decoder is told something plausible
        label = int(view.encoded(name).labels[np.argmin(((lmap.points - [u, v]) ** 2).sum(1))])
    device = next(model.parameters()).device
    image = model.decode(torch.as_tensor(z, dtype=torch.float32, device=device)[None], view.labels(label, 1, model))
    where = f"({u:.2f}, {v:.2f})" + (" in the PCA plane" if lmap.projected else "")
    caption = f"{name} decoded at {where}" + (f", label {spec.label_names[label]}" if label is not None else "")
    return MapPoint(im.enlarge(image[0, 0].cpu().numpy()), z.astype(np.float32), caption, (u, v),
                    with_marker(lmap.image, lmap.frame, u, v))
