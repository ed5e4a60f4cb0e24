"""Latent map: the shipped test examples encoded and coloured by class; click a point to decode it.

Two maps side by side on one scale by default, so that an AE's scattered points and a VAE's
regions packed around the origin are seen at their true sizes, over the prior's density. On
demand, each map also shows the Sample tab's draws from the prior (on an AE's map they cover a small
patch of its codes; a draw that lands where no example is, in a hole, is circled), an interpolation
path from example A to B, and A's posterior q(z|x) as its σ ellipses and a cloud of draws (an AE's
cloud is a single point).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch

from ...errors import InputError
from .. import images as im
from ..links import Field, LinkSchema
from ..plots import MapFrame, Overlays, fit_extent, latent_scatter, with_marker
from ..view import ZooView

SCALES = ("shared", "fit each")
SIZES = {False: 440, True: 520}  # map width in pixels: normal, and presentation mode (with larger text)
LINK = LinkSchema("latent_map", dataset=Field("str", check="dataset"), left=Field("str", check="models"),
                  right=Field("str", check="models"), ellipses=Field("bool"), scale=Field("str", choices=SCALES),
                  draws=Field("bool"), path=Field("bool"), posterior=Field("bool"),
                  a=Field("int", "a_index", check="example"), b=Field("int", "b_index", check="example"),
                  seed=Field("int", bounds=(0, 2**31 - 1)))
DRAWS_SIDE = 8  # the prior draws shown: 8 × 8, the Sample tab's default grid
POSTERIOR_DRAWS = 200
PATH_STEPS = 16  # the Interpolate tab's default


@dataclass(frozen=True)
class MapOptions:
    """What a latent map shows besides the examples' codes (all off: the plain map)."""

    ellipses: bool = False  # each example's σ ellipse (variational models)
    draws: bool = False  # the Sample tab's draws from the prior (seed `seed`, 8 × 8, temperature 1)
    path: bool = False  # the Interpolate tab's linear path from example `a` to example `b`
    posterior: bool = False  # example `a`'s q(z|x): σ ellipses and draws
    a: int = 0
    b: int = 1
    seed: int = 0
    large: bool = False  # presentation mode: a larger picture

    @property
    def size(self) -> int:
        return SIZES[bool(self.large)]


@dataclass(frozen=True)
class Plane:
    """The plane a model's map is drawn in: its codes' own plane for a 2-D model, else the first two
    principal components of the examples' codes."""

    points: np.ndarray  # (N, 2) the examples in the plane
    center: np.ndarray  # (D,) the plane's origin in latent space
    basis: np.ndarray  # (D, 2) the plane's axes in latent space (identity for a 2-D model)
    projected: bool

    def project(self, z: np.ndarray) -> np.ndarray:
        """(M, D) codes -> (M, 2) points in the plane."""
        return (np.asarray(z, dtype=float) - self.center) @ self.basis


@dataclass(frozen=True)
class LatentMap:
    """A latent map drawn once per model and options: the picture and how to go back from a pixel to a code."""

    image: np.ndarray  # (H, W, 3) uint8
    frame: MapFrame
    points: np.ndarray  # (N, 2) the examples in the map's plane
    center: np.ndarray  # (D,) the plane's origin in latent space
    basis: np.ndarray  # (D, 2) the plane's axes in latent space (identity for a 2-D model)
    projected: bool
    draws_in_holes: tuple[int, int] | None = None  # (in holes, drawn) when the prior draws are shown


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


def plane(view: ZooView, name: str) -> Plane:
    """The plane `name`'s map is drawn in (computed once per model)."""
    view.spec(name)
    return view.cached(("plane", name), lambda: _plane(view, name))


def _plane(view: ZooView, name: str) -> Plane:
    enc = view.encoded(name)
    if view.spec(name).latent_dim == 2:
        return Plane(enc.mean.astype(float), np.zeros(2), np.eye(2), False)
    center = enc.mean.mean(0)
    _, _, vt = np.linalg.svd(enc.mean - center, full_matrices=False)
    basis = vt[:2].T  # (D, 2)
    return Plane((enc.mean - center) @ basis, center, basis, True)


def extents(view: ZooView, names, scale: str = "shared") -> list[float]:
    """Each map's half-width: one for all (the widest fit) when `scale` is "shared", else each its own."""
    scale = LINK["scale"].choice(scale)
    fits = [fit_extent(plane(view, name).points) for name in names]
    return [max(fits)] * len(fits) if scale == "shared" else fits


SHOW = ("draws", "path", "posterior")  # the overlays a request may name


def options_from(ellipses=False, show=None, a=0, b=1, seed=0, large=False) -> MapOptions:
    """MapOptions from an endpoint's values: `show` names the overlays (any of SHOW)."""
    shown = [show] if isinstance(show, str) else show if show is not None else []
    if not isinstance(shown, (list, tuple)) or any(not isinstance(s, str) or s not in SHOW for s in shown):
        raise InputError(f"show must be a list of {', '.join(SHOW)}; got {show!r}"[:200])
    return MapOptions(bool(ellipses), "draws" in shown, "path" in shown, "posterior" in shown,
                      0 if a is None else a, 1 if b is None else b, 0 if seed is None else seed, bool(large))


def check_options(view: ZooView, dataset: str, options: MapOptions) -> MapOptions:
    """`options` with its example indices and seed checked (an InputError says which is wrong)."""
    count = len(view.examples(dataset))
    for key in ("a", "b"):
        index = _index(getattr(options, key), key)
        if not 0 <= index < count:
            raise InputError(f"{LINK[key].param} must be between 0 and {count - 1}, got {index}")
        options = replace(options, **{key: index})
    return replace(options, seed=LINK["seed"].number(options.seed))


def _index(value, key: str) -> int:
    try:
        index = int(value)
        if isinstance(value, bool) or float(value) != index:
            raise ValueError
    except (TypeError, ValueError, OverflowError):
        raise InputError(f"{LINK[key].param} must be a whole number, got {value!r}"[:200]) from None
    return index


def latent_map(view: ZooView, name: str, ellipses: bool = False, extent: float | None = None,
               options: MapOptions | None = None) -> LatentMap:
    """The examples' codes as a scatter coloured by class on [-extent, extent]² (None: fitted to
    this model's codes): 2-D codes directly, larger ones projected onto their first two principal
    components. Drawn once per model, extent and options."""
    view.spec(name)
    options = replace(options or MapOptions(), ellipses=bool(ellipses or (options and options.ellipses)))
    extent = float(extent) if extent is not None else fit_extent(plane(view, name).points)
    return view.cached(("map", name, extent, options), lambda: _draw(view, name, extent, options))


def maps(view: ZooView, dataset: str, names, scale: str = "shared", options: MapOptions | None = None) -> list[LatentMap]:
    """The maps of `names` (models of `dataset`), on one scale or each fitted (`scale`)."""
    check_pair(view, dataset, names)
    options = check_options(view, dataset, options or MapOptions())
    return [latent_map(view, name, extent=extent, options=options) for name, extent in zip(names, extents(view, names, scale))]


def _draw(view: ZooView, name: str, extent: float, options: MapOptions) -> LatentMap:
    spec, enc, flat = view.spec(name), view.encoded(name), plane(view, name)
    covariances = None
    if options.ellipses and spec.variational:
        covariances = np.einsum("di,nd,dj->nij", flat.basis, enc.std**2, flat.basis)  # (N, 2, 2) = Bᵀ diag(σ²) B
    overlays, holes = _overlays(view, name, flat, options)
    d = spec.latent_dim
    axes = ("PC1", "PC2") if flat.projected else ("z0", "z1")
    title = f"{name}\n{'PCA of ' + str(d) + '-D codes' if flat.projected else '2-D codes'}"
    if not flat.projected:  # the prior's 2σ circle holds 86% of its mass: a VAE puts about as much of its codes there
        title += f" · {np.mean((flat.points**2).sum(1) <= 4):.0%} in the prior's 2σ"
    image, frame = latent_scatter(flat.points, enc.labels, extent, title, axes, covariances, view.label_names(spec.dataset),
                                  size=options.size, overlays=overlays, large=options.large)
    return LatentMap(image, frame, flat.points, flat.center, flat.basis, flat.projected, holes)


def on_map(view: ZooView, dataset: str, names, side: int, x, y, scale: str = "shared",
           options: MapOptions | None = None) -> bool:
    """Whether pixel (x, y) of map number `side` (as `maps` drew it) is inside its plot area: a click
    there decodes, a click on the margin does nothing."""
    check_pair(view, dataset, names)
    options = check_options(view, dataset, options or MapOptions())
    lmap = latent_map(view, names[side], extent=extents(view, names, scale)[side], options=options)
    try:
        return lmap.frame.contains(float(x), float(y))
    except (TypeError, ValueError, OverflowError):
        return False


def page_projections(view: ZooView, dataset: str, names, scale: str = "shared", options: MapOptions | None = None) -> list[dict]:
    """What the page needs to do `click` itself (JSON), for each map `maps` draws: the map's frame, its
    plane in latent space, and, for a conditional model, the examples' points and labels (a decoded
    point takes the nearest example's label)."""
    out = []
    for name, lmap in zip(names, maps(view, dataset, names, scale, options)):
        frame = {key: float(getattr(lmap.frame, key)) for key in ("lo", "hi", "left", "top", "side")}
        entry = dict(name=name, frame=frame, center=lmap.center.tolist(), basis=lmap.basis.tolist(), points=None, labels=None)
        if view.spec(name).conditional:
            entry.update(points=np.round(lmap.points, 4).tolist(), labels=view.encoded(name).labels.astype(int).tolist())
        out.append(entry)
    return out


@torch.inference_mode()
def _overlays(view: ZooView, name: str, flat: Plane, options: MapOptions) -> tuple[Overlays, tuple[int, int] | None]:
    spec, model = view.spec(name), view.model(name)
    found, holes = {}, None
    if options.draws:
        generator = torch.Generator(device="cpu").manual_seed(options.seed)  # the Sample tab's draws for this seed
        draws = flat.project(model.sample_prior(DRAWS_SIDE**2, generator=generator).cpu().numpy())
        found["draws"] = draws
        found["in_holes"] = in_holes(flat.points, draws)
        holes = (int(found["in_holes"].sum()), len(draws))
    if options.path or options.posterior:
        ex = view.examples(spec.dataset)
        posteriors = []
        for index in (options.a, options.b):
            x = view.tensor(ex.images[index], model)
            y = view.labels(int(ex.labels[index]), 1, model) if spec.conditional else None
            posteriors.append(model.encode(x, y))
        if options.path:
            ts = np.linspace(0, 1, PATH_STEPS)[:, None]
            za, zb = (p.mean[0].cpu().numpy() for p in posteriors)
            found["path"] = flat.project((1 - ts) * za + ts * zb)
        if options.posterior:
            q = posteriors[0]
            found["posterior_mean"] = flat.project(q.mean.cpu().numpy())[0]
            if spec.variational:
                std = q.std[0].cpu().numpy()
                found["posterior_cov"] = flat.basis.T @ np.diag(std**2) @ flat.basis
            generator = torch.Generator(device=q.mean.device).manual_seed(options.seed)
            cloud = torch.cat([q.sample(generator) for _ in range(POSTERIOR_DRAWS)])  # (K, D); an AE's are all μ
            found["posterior_draws"] = flat.project(cloud.cpu().numpy())
    return Overlays(**found), holes


def in_holes(points: np.ndarray, draws: np.ndarray, quantile: float = 0.99) -> np.ndarray:
    """Which `draws` (M, 2) lie in a hole of the examples' codes `points` (N, 2): farther from every
    example than 99% of the examples are from their own nearest neighbour. (M,) bool."""
    points = np.asarray(points, dtype=float)
    between = np.sqrt(((points[:, None] - points[None]) ** 2).sum(-1))  # (N, N)
    np.fill_diagonal(between, np.inf)
    spacing = np.quantile(between.min(1), quantile)
    nearest = np.sqrt(((np.asarray(draws, dtype=float)[:, None] - points[None]) ** 2).sum(-1)).min(1)  # (M,)
    return nearest > spacing


@torch.inference_mode()
def decode_point(view: ZooView, name: str, x, y, ellipses: bool = False, extent: float | None = None,
                 options: MapOptions | None = None) -> MapPoint:
    """Decode the latent map of `name` at pixel (x, y) of its picture (as a click reports it)."""
    lmap = latent_map(view, name, ellipses, extent, options)
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
    return MapPoint(im.enlarge(view.images(image)[0]), z.astype(np.float32), caption, (u, v),
                    with_marker(lmap.image, lmap.frame, u, v))



def click(view: ZooView, dataset: str, names, side: int, x, y, scale: str = "shared",
          options: MapOptions | None = None) -> MapPoint:
    """Decode map number `side` of the pair `names` (drawn by `maps` with `scale` and `options`) at pixel (x, y)."""
    check_pair(view, dataset, names)
    options = check_options(view, dataset, options or MapOptions())
    return decode_point(view, names[side], x, y, extent=extents(view, names, scale)[side], options=options)
