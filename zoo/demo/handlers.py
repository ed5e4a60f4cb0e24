"""What each tab of the app computes, as plain methods on `Demo`: numpy/PIL in, numpy/PIL out.

A `Demo` is a read-only view of the zoo (optionally limited by a name pattern) plus caches that
every user shares: the loaded models (the zoo's cache), the shipped test examples and, per model,
those examples encoded (for latent maps and for ordering dimensions by KL). Per-user data (the
frames of an interpolation, the code being traversed) is returned to the caller to keep.

Models are chosen by what they can do (conditional or not, latent size), never by family name,
so a new plugin appears wherever it fits. Every error a user can cause is a ValueError that says
what was wrong.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from .. import create_model, get_spec, list_models, resolve_weights
from ..cards import METRICS, read_record
from . import images as im
from .examples import Examples, load_examples

log = logging.getLogger(__name__)

SOURCES = ("example", "upload", "draw")
PATHS = ("linear", "spherical")
AUTO = "auto"
EACH = "each"
LIMITS = {  # parameter -> (min, max), inclusive; checked before any model runs
    "grid_size": (1, 16),
    "seed": (0, 2**31 - 1),
    "temperature": (0.0, 3.0),
    "steps": (2, 64),
    "t": (0.0, 1.0),
}
_LINK_LIMITS = {"n": "grid_size", "seed": "seed", "temp": "temperature", "steps": "steps", "t": "t"}  # link key -> LIMITS
MAX_TRAVERSE_DIMS = 16  # the app has this many sliders; further dimensions stay at μ
TRAVERSE_COLUMNS = 9
MANIFOLD_SIZE = 16  # tiles per side of a 2-D model's decoded manifold


@dataclass(frozen=True)
class Picked:
    """The input a tab works on: the image the models see, and its label if known."""

    image: np.ndarray  # (28, 28) float32 in [0, 1]
    label: int | None  # known for test examples; None for uploads and drawings
    description: str  # "example 3 (label 3)", "upload", "drawing"
    dataset: str  # whose framing it was prepared with, and whose label it carries


@dataclass(frozen=True)
class Encoded:
    """A model's posterior over the shipped examples of its dataset, computed once per model."""

    mean: np.ndarray  # (N, D)
    std: np.ndarray  # (N, D)
    labels: np.ndarray  # (N,)
    order: np.ndarray  # (D,) dimensions, most active first
    activity: np.ndarray  # (D,) mean KL per dimension in nats, or the variance of μ when σ = 0 (an AE)
    activity_name: str  # "KL" or "var"


@dataclass(frozen=True)
class LatentMap:
    """A latent map drawn once per model: the picture and how to go back from a pixel to a code."""

    image: np.ndarray  # (H, W, 3) uint8
    frame: im.MapFrame
    points: np.ndarray  # (N, 2) the examples in the map's plane
    center: np.ndarray  # (D,) the plane's origin in latent space
    basis: np.ndarray  # (D, 2) the plane's axes in latent space (identity for a 2-D model)
    projected: bool


def check_range(name: str, value, cast=float):
    """`value` as `cast`, within LIMITS[name]; otherwise a ValueError naming the parameter and range."""
    lo, hi = LIMITS[name]
    try:
        number = cast(value)
        if cast is int and float(value) != number:
            raise ValueError
    except (TypeError, ValueError, OverflowError):  # OverflowError: int(inf)
        raise ValueError(f"{name} must be a number between {lo} and {hi}, got {value!r}") from None
    if not (lo <= number <= hi) or (isinstance(number, float) and math.isnan(number)):
        raise ValueError(f"{name} must be between {lo} and {hi}, got {value!r}")
    return number


def check_choice(name: str, value, choices) -> str:
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(str, choices))}; got {value!r}")
    return value


class Demo:
    """The app's computations over the models matching `pattern`, on `device`."""

    def __init__(self, pattern: str = "*", device: str | None = None, examples_dir=None):
        self.names, self.left_out = [], {}
        for name in list_models(pattern):
            try:
                get_spec(name)
                self.names.append(name)
            except Exception as exc:  # a plugin's broken entry must not take the app down with it
                self.left_out[name] = f"{type(exc).__name__}: {exc}"
                log.error("leaving %s out of the app: %s", name, self.left_out[name])
        if not self.names:
            raise ValueError(f"no model in the zoo matches {pattern!r}; see `python -m zoo list`")
        self.device = device
        self.examples_dir = examples_dir
        self._encoded: dict[str, Encoded] = {}
        self._maps: dict[str, LatentMap] = {}
        self._manifolds: dict[tuple, np.ndarray] = {}
        self._info: dict[tuple, str] = {}
        self._galleries: dict[tuple, list] = {}
        self._locations: dict[str, object] = {}  # name -> zoo.weights.WeightsLocation
        self._styles: dict[str, tuple] = {}
        self._lock = threading.Lock()

    # -----------------------------------------------------------------------------------------
    # Which models can do what

    def models(self, *, conditional: bool | None = None, latent_dim: int | None = None, dataset: str | None = None) -> list[str]:
        """Names of the models with these capabilities (None: any)."""
        out = []
        for name in self.names:
            spec = get_spec(name)
            if conditional is not None and spec.conditional != conditional:
                continue
            if latent_dim is not None and spec.latent_dim != latent_dim:
                continue
            if dataset is not None and spec.dataset != dataset:
                continue
            out.append(name)
        return out

    def datasets(self) -> list[str]:
        return sorted({get_spec(n).dataset for n in self.names})

    @staticmethod
    def label_names(dataset: str) -> list[str]:
        return _label_names(dataset)

    def spec(self, name: str):
        if name not in self.names:
            hint = ", ".join(self.names)
            raise ValueError(f"unknown model {name!r}; this app serves: {hint}")
        return get_spec(name)

    def model(self, name: str) -> torch.nn.Module:
        spec = self.spec(name)
        try:
            return create_model(spec.name, device=self.device)
        except FileNotFoundError as exc:
            raise ValueError(f"{name} has no trained weights yet ({exc})") from exc

    def model_info(self, name: str) -> str:
        """A short Markdown description: family, dataset, latent size, card metrics, weights source.
        Cached until the model card changes (`zoo eval` rewrites it)."""
        spec = self.spec(name)
        with self._lock:
            location = self._locations.get(name)
        if location is None:  # where the weights come from is decided once (it may ask the Hub)
            try:
                location = resolve_weights(spec)
            except FileNotFoundError:
                return _describe(spec, f"missing (train them with `python -m zoo train {name}`)", {})
            with self._lock:
                self._locations[name] = location
        card = location.folder / "README.md"
        key = (name, card.stat().st_mtime_ns if card.is_file() else 0)
        if key not in self._info:
            metrics = read_record(location.folder).get("metrics") or read_record(spec.bundled_dir).get("metrics") or {}
            self._info[key] = _describe(spec, location.source, metrics)
        return self._info[key]

    def clean_link(self, tab: str, params: dict) -> tuple[dict, list[str]]:
        """The settings of a link (see links.read_link) that this app can apply, and a note on
        each one it cannot: unknown or unfit models, values out of range, bad example indices."""
        kept, notes = {}, []
        fits = {"swap_labels": dict(conditional=True)}.get(tab, {})
        model = params.get("model")
        if model is not None:
            if model not in self.models(**fits):
                notes.append(f"model {model!r} is not one this tab can use here")
                params = {k: v for k, v in params.items() if k not in ("model", "label", "z")}
            else:
                kept["model"] = model
        dataset = get_spec(model).dataset if "model" in kept else params.get("dataset")
        for key, value in params.items():
            try:
                if key in ("model",):
                    continue
                if key == "dataset":
                    check_choice("dataset", value, self.datasets())
                elif key in ("models", "left", "right"):
                    for name in value if key == "models" else [value]:
                        if name not in self.models(dataset=dataset):
                            raise ValueError(f"model {name!r} is not a {dataset} model of this app")
                elif key in ("a", "b"):
                    if dataset is None or not 0 <= value < len(self.examples(dataset)):
                        raise ValueError(f"example {value} does not exist")
                elif key in _LINK_LIMITS:
                    check_range(_LINK_LIMITS[key], value, int if key in ("n", "seed", "steps") else float)
                elif key == "path":
                    check_choice("path", value, PATHS)
                elif key == "label" and value not in (AUTO, EACH):
                    if "model" in kept:
                        parse_label(get_spec(kept["model"]), value)
                    elif dataset and value not in _label_names(dataset):
                        raise ValueError(f"label {value!r} is not one of {dataset}'s")
                kept[key] = value
            except ValueError as exc:
                notes.append(f"{key}: {exc}")
        return kept, notes

    # -----------------------------------------------------------------------------------------
    # Inputs

    def examples(self, dataset: str) -> Examples:
        return load_examples(dataset, self.examples_dir)

    def example_gallery(self, dataset: str, count: int = 40) -> list[tuple[str, str]]:
        """The first `count` examples (all classes, interleaved) as (PNG path, caption) for a picker.
        The PNGs are written once per dataset into the temp folder, so every picker and every
        page load shares them."""
        key = (dataset, count)
        with self._lock:
            if key in self._galleries:
                return self._galleries[key]
        ex = self.examples(dataset)
        names = _label_names(dataset)
        folder = Path(tempfile.gettempdir()) / "vae-zoo-examples" / dataset
        folder.mkdir(parents=True, exist_ok=True)
        items = []
        for i in range(min(count, len(ex))):
            path = folder / f"{i}.png"
            if not path.is_file():
                tmp = folder / f"{i}.{os.getpid()}.tmp.png"
                Image.fromarray(im.enlarge(ex.images[i], 2)).save(tmp)
                tmp.replace(path)
            items.append((str(path), f"{i}: {names[int(ex.labels[i])]}"))
        with self._lock:
            return self._galleries.setdefault(key, items)

    def pick(self, dataset: str, source: str = "example", example_index=0, upload=None, sketch=None) -> Picked:
        """The input chosen by `source`: a shipped test example, an uploaded image or a drawing."""
        check_choice("source", source, SOURCES)
        check_choice("dataset", dataset, self.datasets())
        if source == "example":
            ex = self.examples(dataset)
            try:
                index = int(example_index)
                if float(example_index) != index:
                    raise ValueError
            except (TypeError, ValueError, OverflowError):
                raise ValueError(f"example index must be a whole number, got {example_index!r}") from None
            if not 0 <= index < len(ex):
                raise ValueError(f"example index must be between 0 and {len(ex) - 1}, got {index}")
            label = int(ex.labels[index])
            return Picked(np.array(ex.images[index]), label, f"example {index} ({_label_names(dataset)[label]})", dataset)
        if source == "upload":
            if upload is None:
                raise ValueError("no image uploaded: upload one, or pick an example")
            return Picked(im.prepare(im.read_upload(upload), dataset), None, "upload", dataset)
        return Picked(im.prepare(im.read_sketch(sketch), dataset), None, "drawing", dataset)

    def label_for(self, name: str, picked: Picked, label=AUTO) -> int | None:
        """The label a conditional model encodes `picked` with: the one asked for, else the example's
        own, else the model's best guess (the label giving the lowest −ELBO). None when unconditional."""
        spec = self.spec(name)
        if picked.dataset != spec.dataset:
            raise ValueError(f"{name} reads {spec.dataset} images, but this input was picked from {picked.dataset}")
        if not spec.conditional:
            return None
        if label not in (None, "", AUTO):
            return parse_label(spec, label)
        if picked.label is not None:
            return picked.label
        return self.best_label(name, picked.image)

    @torch.inference_mode()
    def best_label(self, name: str, image: np.ndarray) -> int:
        model = self.model(name)
        k = model.num_classes
        x = self._tensor(image, model).expand(k, -1, -1, -1)  # (K, 1, 28, 28)
        y = torch.arange(k, device=x.device)
        posterior = model.encode(x, y)
        probs = model.decode(posterior.mean, y).clamp(1e-6, 1 - 1e-6)
        recon = torch.nn.functional.binary_cross_entropy(probs, x, reduction="none").flatten(1).sum(1)  # (K,) nats
        return int((recon + posterior.kl()).argmin())

    def _tensor(self, image: np.ndarray, model) -> torch.Tensor:
        device = next(model.parameters()).device
        return torch.as_tensor(np.asarray(image, dtype=np.float32), device=device)[None, None]  # (1, 1, 28, 28)

    # -----------------------------------------------------------------------------------------
    # Reconstruct

    @torch.inference_mode()
    def reconstruct(self, names: list[str], picked: Picked, label=AUTO) -> dict:
        """Each model's reconstruction of `picked`, its loss parts and its posterior.

        Returns dict(gallery=[(image uint8, caption)], table=[[model, latent, recon, KL, total]],
        posterior=RGB uint8 plot).
        """
        if not names:
            raise ValueError("choose at least one model")
        gallery, table, rows = [], [], []
        for name in names:
            spec, model = self.spec(name), self.model(name)
            y_int = self.label_for(name, picked, label)
            x = self._tensor(picked.image, model)
            y = None if y_int is None else torch.tensor([y_int], device=x.device)
            posterior = model.encode(x, y)
            recon_image = model.decode(posterior.mean, y)[0, 0].cpu().numpy()
            generator = torch.Generator(device=x.device).manual_seed(0)  # one z sample: fixed, so links reproduce
            parts = model.loss(x, y, generator=generator)
            suffix = f", label {spec.label_names[y_int]}" if y_int is not None else ""
            gallery.append((im.enlarge(recon_image), f"{name}: recon {parts.recon:.1f}, KL {parts.kl:.1f} nats{suffix}"))
            table.append([name, spec.latent_dim, round(float(parts.recon), 2), round(float(parts.kl), 2), round(float(parts.total), 2)])
            rows.append((f"{name}  (μ ± σ per dimension{suffix})", posterior.mean[0].cpu().numpy(), posterior.std[0].cpu().numpy()))
        return dict(gallery=gallery, table=table, posterior=im.posterior_plot(rows))

    # -----------------------------------------------------------------------------------------
    # Sample

    @torch.inference_mode()
    def sample(self, name: str, grid_size=8, seed=0, temperature=1.0, label=EACH) -> dict:
        """Draws from the prior N(0, T²I), decoded. A conditional model draws one row per label
        (label="each", the same code in every column) or all under one label.

        Returns dict(grid=uint8 image, manifold=uint8 image or None (2-D models only), caption=str).
        """
        spec, model = self.spec(name), self.model(name)
        n = check_range("grid_size", grid_size, int)
        seed = check_range("seed", seed, int)
        temperature = check_range("temperature", temperature)
        device = next(model.parameters()).device
        generator = torch.Generator(device="cpu").manual_seed(seed)
        if spec.conditional and label in (EACH, None, "", AUTO):
            k = len(spec.label_names)
            z = (torch.randn(1, n, spec.latent_dim, generator=generator) * temperature).expand(k, -1, -1).reshape(k * n, -1)
            y = torch.arange(k).repeat_interleave(n)
            caption = f"one row per label ({', '.join(spec.label_names)}); each column shares its code z"
        else:
            z = torch.randn(n * n, spec.latent_dim, generator=generator) * temperature
            y = torch.full((n * n,), parse_label(spec, label)) if spec.conditional else None
            caption = f"{n * n} draws" + (f" of {spec.label_names[int(y[0])]}" if y is not None else "")
        images = model.decode(z.to(device), None if y is None else y.to(device))[:, 0].cpu().numpy()
        manifold = None
        if spec.latent_dim == 2:
            manifold = self._manifold(name, temperature, None if y is None else int(y[0]))
        return dict(grid=im.grid(images, columns=n, scale=2), manifold=manifold,
                    caption=f"{caption}; seed {seed}, temperature {temperature:g}")

    def _manifold(self, name: str, temperature: float, label: int | None) -> np.ndarray:
        """The Keras example's picture: decode a grid over the latent plane, spaced by Gaussian
        quantiles (5% to 95%) so it covers where the prior puts its mass. Cached: it depends on
        nothing else."""
        key = (name, temperature, label)
        with self._lock:
            if key in self._manifolds:
                return self._manifolds[key]
        model = self.model(name)
        q = torch.special.ndtri(torch.linspace(0.05, 0.95, MANIFOLD_SIZE)) * max(temperature, 1e-3)
        zx, zy = torch.meshgrid(q, q.flip(0), indexing="xy")  # rows from high z1 (top) to low
        z = torch.stack([zx.reshape(-1), zy.reshape(-1)], dim=1)  # (S*S, 2)
        device = next(model.parameters()).device
        y = None if label is None else torch.full((len(z),), label, device=device)
        images = model.decode(z.to(device), y)[:, 0].cpu().numpy()
        picture = im.grid(images, columns=MANIFOLD_SIZE, pad=0, scale=1)
        with self._lock:
            if len(self._manifolds) > 256:
                self._manifolds.clear()
            return self._manifolds.setdefault(key, picture)

    # -----------------------------------------------------------------------------------------
    # Interpolate

    @torch.inference_mode()
    def interpolate(self, name: str, a: Picked, b: Picked, path="linear", steps=16, label_a=AUTO, label_b=AUTO,
                    cached: dict | None = None, gif_folder: Path | None = None) -> dict:
        """Decoded frames along the path from A's code to B's (posterior means), computed once per
        pair: pass the previous result's `state` as `cached` and an unchanged pair is not recomputed.

        A conditional model decodes with A's label for t < 0.5 and B's from there on. With a
        `gif_folder`, an animated GIF of the frames is written there (once per pair).
        Returns dict(frames=(T, 28, 28) float32, strip=uint8 image, gif=path or None, state=dict(key, frames, gif)).
        """
        spec, model = self.spec(name), self.model(name)
        check_choice("path", path, PATHS)
        steps = check_range("steps", steps, int)
        ya, yb = self.label_for(name, a, label_a), self.label_for(name, b, label_b)
        key = _digest(name, path, steps, ya, yb, a.image, b.image)
        gif = None
        if cached and cached.get("key") == key:
            frames = np.asarray(cached["frames"], dtype=np.float32)
            gif = cached.get("gif")
        else:
            xa, xb = self._tensor(a.image, model), self._tensor(b.image, model)
            device = xa.device
            za = model.encode(xa, None if ya is None else torch.tensor([ya], device=device)).mean[0]
            zb = model.encode(xb, None if yb is None else torch.tensor([yb], device=device)).mean[0]
            ts = torch.linspace(0, 1, steps, device=device)
            z = torch.stack([_lerp(za, zb, t) if path == "linear" else _slerp(za, zb, t) for t in ts])  # (T, D)
            y = None if ya is None else torch.tensor([ya if t < 0.5 else yb for t in ts.tolist()], device=device)
            frames = model.decode(z, y)[:, 0].cpu().numpy()
        if gif_folder is not None and (gif is None or not Path(gif).is_file()):
            gif = str(im.save_gif(frames, gif_folder))
        return dict(frames=frames, strip=im.grid(frames, columns=len(frames), scale=2), gif=gif,
                    state=dict(key=key, frames=frames, gif=gif))

    @staticmethod
    def frame_at(frames, t=0.5) -> np.ndarray:
        """The frame nearest to t in [0, 1]: a lookup, no model call. (H, W) uint8, enlarged."""
        t = check_range("t", t)
        if frames is None or len(frames) == 0:
            raise ValueError("no frames yet: run the interpolation first")
        return im.enlarge(np.asarray(frames)[int(round(t * (len(frames) - 1)))])

    # -----------------------------------------------------------------------------------------
    # Label swap

    @torch.inference_mode()
    def swap_labels(self, name: str, a: Picked, label_a=AUTO, b: Picked | None = None, label_b=AUTO) -> dict:
        """Encode A's style with A's label, decode it under every label (one row); and, given B,
        A's style under B's label.

        Also the lecture's picture at larger scale: A and one test example per class (rows), each
        style decoded under every label (columns).

        Returns dict(row=[(image, label name)], swapped=uint8 image or None, grid=RGB uint8, caption=str).
        """
        spec, model = self.spec(name), self.model(name)
        if not spec.conditional:
            raise ValueError(f"{name} is not conditional: label swapping needs a model that is given the label "
                             f"(one of {', '.join(self.models(conditional=True)) or 'none in this app'})")
        ya = self.label_for(name, a, label_a)
        x = self._tensor(a.image, model)
        device = x.device
        style = model.encode(x, torch.tensor([ya], device=device)).mean  # (1, D)
        k = len(spec.label_names)
        decoded = model.decode(style.expand(k, -1), torch.arange(k, device=device))[:, 0].cpu().numpy()
        row = [(im.enlarge(image), spec.label_names[i]) for i, image in enumerate(decoded)]
        swapped, caption = None, f"A ({a.description}) encoded as {spec.label_names[ya]}"
        if b is not None:
            yb = self.label_for(name, b, label_b)
            swapped = im.enlarge(model.decode(style, torch.tensor([yb], device=device))[0, 0].cpu().numpy())
            caption += f"; decoded with B's label, {spec.label_names[yb]}"
        # More styles: A's row, then one test example of every class (the same every time: cached).
        originals, rows = self._example_styles(name)
        grid = im.analogy_grid(np.concatenate([a.image[None], originals]), np.concatenate([decoded[None], rows]), spec.label_names)
        return dict(row=row, swapped=swapped, caption=caption, grid=grid)

    @torch.inference_mode()
    def _example_styles(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """One test example of every class (the second set, 10 to 19, so that example 0 as A is not
        repeated), each decoded under every label: (K, 28, 28) and (K, K, 28, 28). Once per model."""
        with self._lock:
            if name in self._styles:
                return self._styles[name]
        spec, model = self.spec(name), self.model(name)
        k = len(spec.label_names)
        ex = self.examples(spec.dataset)
        device = next(model.parameters()).device
        originals = np.array(ex.images[k: 2 * k])  # (K, 28, 28)
        styles = model.encode(torch.as_tensor(originals, device=device)[:, None],
                              torch.as_tensor(np.array(ex.labels[k: 2 * k]), device=device)).mean  # (K, D)
        labels = torch.arange(k, device=device).repeat(k)  # (K * K,)
        rows = model.decode(styles.repeat_interleave(k, 0), labels)[:, 0].cpu().numpy().reshape(k, k, 28, 28)
        with self._lock:
            return self._styles.setdefault(name, (originals, rows))

    # -----------------------------------------------------------------------------------------
    # Latent maps

    @torch.inference_mode()
    def encoded(self, name: str) -> Encoded:
        """`name`'s posterior over its dataset's shipped examples, computed once (shared, read-only)."""
        with self._lock:
            if name in self._encoded:
                return self._encoded[name]
        spec, model = self.spec(name), self.model(name)
        ex = self.examples(spec.dataset)
        device = next(model.parameters()).device
        means, stds = [], []
        for start in range(0, len(ex), 400):
            x = torch.tensor(ex.images[start: start + 400], device=device)[:, None]  # (B, 1, 28, 28)
            y = torch.tensor(ex.labels[start: start + 400], device=device) if spec.conditional else None
            posterior = model.encode(x, y)
            means.append(posterior.mean.cpu().numpy())
            stds.append(posterior.std.cpu().numpy())
        mean, std = np.concatenate(means), np.concatenate(stds)
        if (std > 0).all():
            var = std**2
            activity, activity_name = (0.5 * (var + mean**2 - np.log(var) - 1)).mean(0), "KL"
        else:  # a point encoder (AE): no KL; rank by how much μ varies across inputs
            activity, activity_name = mean.var(0), "var"
        order = np.argsort(-activity, kind="stable")
        encoded = Encoded(mean, std, np.asarray(ex.labels), order, activity, activity_name)
        with self._lock:
            self._encoded.setdefault(name, encoded)
            return self._encoded[name]

    def latent_map(self, name: str, ellipses: bool = False, marker: tuple[float, float] | None = None) -> LatentMap:
        """The examples' codes as a scatter coloured by class: 2-D codes directly, larger ones
        projected onto their first two principal components. Drawn once per model (and per
        `ellipses`); with a `marker`, a copy with a cross there."""
        key = f"{name}|{bool(ellipses)}"
        with self._lock:
            cached = self._maps.get(key)
        if cached is None:
            spec, enc = self.spec(name), self.encoded(name)
            d = spec.latent_dim
            if d == 2:
                center, basis, projected = np.zeros(2), np.eye(2), False
            else:
                center = enc.mean.mean(0)
                _, _, vt = np.linalg.svd(enc.mean - center, full_matrices=False)
                basis, projected = vt[:2].T, True  # (D, 2)
            points = (enc.mean - center) @ basis if projected else enc.mean  # (N, 2)
            extent = max(2.5, float(np.quantile(np.abs(points), 0.995)) * 1.08)
            frame = im.MapFrame(-extent, extent)
            covariances = None
            if ellipses and (enc.std > 0).any():
                covariances = np.einsum("di,nd,dj->nij", basis, enc.std**2, basis)  # (N, 2, 2) = Bᵀ diag(σ²) B
            axes = ("PC1", "PC2") if projected else ("z0", "z1")
            title = f"{name} ({'PCA of ' + str(d) + '-D codes' if projected else '2-D codes'})"
            names = _label_names(spec.dataset)
            image = im.latent_scatter(points, enc.labels, frame, title, axes, covariances, names)
            cached = LatentMap(image, frame, points, center, basis, projected)
            with self._lock:
                cached = self._maps.setdefault(key, cached)
        if marker is None:
            return cached
        image = _with_marker(cached, marker)
        return LatentMap(image, cached.frame, cached.points, cached.center, cached.basis, cached.projected)

    @torch.inference_mode()
    def decode_map_point(self, name: str, x: float, y: float, ellipses: bool = False) -> dict:
        """Decode the latent map of `name` at pixel (x, y) of its picture (as `.select` reports it).

        Returns dict(image=uint8 (enlarged), code=(D,) latent, caption=str).
        """
        lmap = self.latent_map(name, ellipses)
        try:
            x, y = float(x), float(y)
        except (TypeError, ValueError, OverflowError):
            raise ValueError(f"pixel ({x!r}, {y!r}) is not a point on the map; click inside the frame") from None
        if not lmap.frame.contains(x, y):
            raise ValueError(f"pixel ({x}, {y}) is outside the plot area of the map; click inside the frame")
        u, v = lmap.frame.to_latent(x, y)
        z = lmap.center + lmap.basis @ np.array([u, v])  # (D,)
        spec, model = self.spec(name), self.model(name)
        device = next(model.parameters()).device
        label = None
        if spec.conditional:  # the class of the nearest example, so the decoder is told something plausible
            label = int(self.encoded(name).labels[np.argmin(((lmap.points - [u, v]) ** 2).sum(1))])
        with torch.inference_mode():
            y_t = None if label is None else torch.tensor([label], device=device)
            image = model.decode(torch.as_tensor(z, dtype=torch.float32, device=device)[None], y_t)[0, 0].cpu().numpy()
        where = f"({u:.2f}, {v:.2f})" + (" in the PCA plane" if lmap.projected else "")
        caption = f"{name} decoded at {where}" + (f", label {spec.label_names[label]}" if label is not None else "")
        return dict(image=im.enlarge(image), code=z.astype(np.float32), caption=caption, point=(u, v))

    # -----------------------------------------------------------------------------------------
    # Traverse

    @torch.inference_mode()
    def traverse(self, name: str, picked: Picked, label=AUTO) -> dict:
        """Encode `picked`; report its dimensions ordered by activity (KL, active units first), the
        slider settings to start from, the decoded code, and a traversal grid of the top dimensions.

        Returns dict(decoded=uint8, grid=uint8, sliders=[dict(dim, label, value, minimum, maximum)],
        state=dict(name, label, mean (D,), dims (up to 16,))).
        """
        spec, model = self.spec(name), self.model(name)
        y_int = self.label_for(name, picked, label)
        x = self._tensor(picked.image, model)
        device = x.device
        y = None if y_int is None else torch.tensor([y_int], device=device)
        mean = model.encode(x, y).mean[0].cpu().numpy()  # (D,)
        enc = self.encoded(name)
        dims = enc.order[:MAX_TRAVERSE_DIMS]
        sliders = []
        for d in dims:
            lo, hi = _slider_range(enc.mean[:, d])
            sliders.append(dict(dim=int(d), value=round(float(np.clip(mean[d], lo, hi)), 3), minimum=lo, maximum=hi,
                                label=f"z{d} · {enc.activity_name} {enc.activity[d]:.2f}"))
        top = dims[:8]
        rows = []
        for d in top:
            lo, hi = _slider_range(enc.mean[:, d])
            z = np.repeat(mean[None], TRAVERSE_COLUMNS, 0)
            z[:, d] = np.linspace(lo, hi, TRAVERSE_COLUMNS)
            rows.append(z)
        z_all = torch.as_tensor(np.concatenate(rows), dtype=torch.float32, device=device)
        y_all = None if y is None else y.expand(len(z_all))
        tiles = model.decode(z_all, y_all)[:, 0].cpu().numpy()
        decoded = model.decode(torch.as_tensor(mean, device=device)[None], y)[0, 0].cpu().numpy()
        state = dict(name=name, label=y_int, mean=mean.astype(np.float32), dims=[int(d) for d in dims])
        return dict(decoded=im.enlarge(decoded), grid=im.grid(tiles, columns=TRAVERSE_COLUMNS, scale=2), sliders=sliders, state=state)

    @torch.inference_mode()
    def traverse_decode(self, state: dict | None, values) -> np.ndarray:
        """Decode the traversed code with the slider values set on its ordered dimensions."""
        if not state:
            raise ValueError("nothing to traverse yet: encode an input first")
        name, model = state["name"], self.model(state["name"])
        z = np.array(state["mean"], dtype=np.float32)
        values = list(values)[: len(state["dims"])]
        for d, value in zip(state["dims"], values):
            try:
                z[d] = float(value)
            except (TypeError, ValueError, OverflowError):
                z[d] = math.nan
            if not math.isfinite(z[d]):
                raise ValueError(f"slider for z{d} has no valid value: {value!r}")
        device = next(model.parameters()).device
        y = None if state.get("label") is None else torch.tensor([state["label"]], device=device)
        return im.enlarge(model.decode(torch.as_tensor(z, device=device)[None], y)[0, 0].cpu().numpy())


def _describe(spec, source: str, metrics: dict) -> str:
    head = (f"**{spec.name}** · {spec.family.upper()} · {spec.dataset} · {spec.latent_dim}-D latent"
            + (f" · conditional on {len(spec.label_names)} labels" if spec.conditional else "") + f" · weights: {source}")
    shown = [(METRICS[k][0], v) for k, v in metrics.items() if k in METRICS and isinstance(v, (int, float))]
    measured = (" · ".join(f"{label}: {_fmt(value)}" for label, value in shown) if shown
                else f"metrics: not measured yet (`python -m zoo eval {spec.name}`)")
    return f"{head}\n\n{spec.description} {measured}"


def parse_label(spec, label) -> int:
    """A label given as a name ("Sneaker"), a number (7, "7" for MNIST digits), -> its index."""
    names = spec.label_names
    if isinstance(label, str) and label in names:
        return names.index(label)
    try:
        index = int(label)
        if 0 <= index < len(names) and float(label) == index:
            return index
    except (TypeError, ValueError):
        pass
    raise ValueError(f"label must be one of {', '.join(names)} (or its index 0-{len(names) - 1}); got {label!r}")


def _label_names(dataset: str) -> list[str]:
    from ..data import DATASETS

    return list(DATASETS[dataset].label_names)


def _slider_range(values: np.ndarray) -> tuple[float, float]:
    """Where a slider for one latent dimension should reach: the prior's ±3 and the examples' spread."""
    lo = min(-3.0, float(np.quantile(values, 0.005)))
    hi = max(3.0, float(np.quantile(values, 0.995)))
    return round(lo - 0.05 * (hi - lo), 1), round(hi + 0.05 * (hi - lo), 1)


def _with_marker(lmap: LatentMap, marker: tuple[float, float]) -> np.ndarray:
    from PIL import Image, ImageDraw

    image = Image.fromarray(lmap.image)
    draw = ImageDraw.Draw(image)
    mx, my = lmap.frame.to_pixel(np.float64(marker[0]), np.float64(marker[1]))
    for width, colour in ((5, "white"), (2, "black")):
        draw.line([(mx - 8, my), (mx + 8, my)], fill=colour, width=width)
        draw.line([(mx, my - 8), (mx, my + 8)], fill=colour, width=width)
    return np.asarray(image)


def _lerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    return (1 - t) * a + t * b


def _slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Spherical interpolation: along the great circle, with the norm interpolated linearly, so
    the path stays where the prior N(0, I) puts its mass instead of cutting through the origin."""
    na, nb = a.norm(), b.norm()
    if na < 1e-8 or nb < 1e-8:
        return _lerp(a, b, t)
    cos = torch.clamp((a / na) @ (b / nb), -1.0, 1.0)
    omega = torch.arccos(cos)
    if omega < 1e-4:
        return _lerp(a, b, t)
    direction = (torch.sin((1 - t) * omega) * a / na + torch.sin(t * omega) * b / nb) / torch.sin(omega)
    return direction * ((1 - t) * na + t * nb)


def _digest(*parts) -> str:
    h = hashlib.sha1()
    for part in parts:
        h.update(part.tobytes() if isinstance(part, np.ndarray) else repr(part).encode())
    return h.hexdigest()


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) < 1 else f"{value:.2f}"
    return str(value)
