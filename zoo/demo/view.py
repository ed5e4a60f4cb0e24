"""What every tab of the app shares: a read-only view of the zoo, its inputs and its caches.

A `ZooView` is the zoo limited by a name pattern, on one device, plus what every user shares
(`Memo` caches, bounded and thread-safe): the loaded models (the zoo's own cache), the shipped
test examples, and per model those examples encoded (for latent maps and for ordering dimensions
by KL). Per-user data (the frames of an interpolation, the code being traversed) is returned to
the caller to keep.

Models are chosen by what they can do (conditional or not, latent size), never by family name,
so a new plugin appears wherever it fits. Every error a user can cause is an `InputError`.
"""

from __future__ import annotations

import io
import logging
import shutil
import tempfile
import weakref
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from .. import create_model, get_dataset, get_spec, list_models
from ..cards import CARD_FILE, METRICS, read_record
from ..errors import InputError, WeightsError
from ..memo import Memo
from . import images as im
from .examples import Examples, load_examples
from .links import AUTO, scrub_paths, short_repr

log = logging.getLogger(__name__)

SOURCES = ("example", "upload", "draw")


@dataclass(frozen=True)
class Picked:
    """The input a tab works on: the image the models see, and its label if known."""

    image: np.ndarray  # (H, W) float32 in [0, 1], the dataset's input size
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
    activity: np.ndarray  # (D,) mean KL per dimension in nats, or the variance of μ for a point encoder (an AE)
    activity_name: str  # "KL" or "var"


class ZooView:
    """The models matching `pattern`, on `device`, and what the tabs share about them."""

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
            raise InputError(f"no model in the zoo matches {pattern!r}; see `vae-zoo list`")
        self.device = device
        self.examples_dir = examples_dir
        # This view's own temporary folder (example thumbnails, GIFs), removed with it: never shared
        # with another process, another checkout or another app in this process.
        self.scratch = Path(tempfile.mkdtemp(prefix="vae-zoo-"))
        weakref.finalize(self, shutil.rmtree, self.scratch, ignore_errors=True)
        self.memo = {kind: Memo(capacity) for kind, capacity in
                     (("encoded", 64), ("info", 256), ("record", 256), ("gallery", 16), ("tab", 512))}

    # -----------------------------------------------------------------------------------------
    # Which models can do what

    def models(self, *, conditional: bool | None = None, latent_dim: int | None = None, dataset: str | None = None,
               study: str = "") -> list[str]:
        """Names of the models with these capabilities (None: any). The models of a study (the β
        sweep) are offered only by the tab that shows it: ask for them by `study`."""
        out = []
        for name in self.names:
            spec = get_spec(name)
            if spec.study != study:
                continue
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
        return list(get_dataset(dataset).label_names)

    @staticmethod
    def input_shape(dataset: str) -> tuple[int, int, int]:
        return tuple(get_dataset(dataset).input_shape)

    def spec(self, name):
        if not isinstance(name, str) or name not in self.names:
            raise InputError(f"unknown model {short_repr(name)}; this app serves: {', '.join(self.names)}")
        return get_spec(name)

    def model(self, name: str) -> torch.nn.Module:
        spec = self.spec(name)
        try:
            return create_model(spec.name, device=self.device)
        except FileNotFoundError as exc:
            raise InputError(f"{name} has no trained weights yet ({exc})") from exc
        except WeightsError as exc:  # a broken weights folder: say which, and keep serving the other models
            raise InputError(f"{name} cannot be loaded: {exc}") from exc

    def model_info(self, name: str) -> str:
        """A short Markdown description: family, dataset, latent size, card metrics, weights source.
        Cached until the model card changes (`vae-zoo eval` rewrites it)."""
        spec = self.spec(name)
        try:  # the location the model was loaded from, resolved once by create_model
            location = self.model(name).weights_location
        except InputError as exc:
            return scrub_paths(_describe(spec, f"not usable: {exc}", {}))
        key = (name, _card_version(location.folder))

        def describe():
            record, bundled = self.record(location.folder), self.record(spec.bundled_dir)
            metrics = record.get("metrics") or bundled.get("metrics") or {}
            trained_on = (record.get("training") or bundled.get("training") or {}).get("data_source")
            return _describe(spec, location.source, metrics, trained_on)

        return scrub_paths(self.memo["info"].get(key, describe))

    def broken(self, name: str) -> str | None:
        """Why model `name` cannot be used here (its weights do not load), or None when it can."""
        try:
            self.model(name)
            return None
        except InputError as exc:
            return str(exc)

    def metrics(self, name: str) -> dict:
        """What `vae-zoo eval` recorded in the card of `name`'s weights ({} when nothing, or no weights)."""
        try:
            folder = self.model(name).weights_location.folder
        except InputError:
            return {}
        return dict(self.record(folder).get("metrics") or {})

    def record(self, folder: Path) -> dict:
        """The `vae_zoo` record of the card in `folder` ({} when none, or unreadable), parsed once
        until the card changes: a card's YAML takes milliseconds to parse, and tabs ask on every request."""
        return self.memo["record"].get((str(folder), _card_version(folder)), lambda: _record(folder))

    def parse_label(self, name: str, label) -> int:
        """A label given as a name ("Sneaker") or a number (7, "7"), -> its index for model `name`."""
        names = self.spec(name).label_names
        if isinstance(label, str) and label in names:
            return names.index(label)
        try:
            index = int(label)
            if 0 <= index < len(names) and float(label) == index and not isinstance(label, bool):
                return index
        except (TypeError, ValueError, OverflowError):
            pass
        raise InputError(f"label must be one of {', '.join(names)} (or its index 0-{len(names) - 1}); got {short_repr(label)}")

    # -----------------------------------------------------------------------------------------
    # Inputs

    def examples(self, dataset: str) -> Examples:
        return load_examples(dataset, self.examples_dir)

    def example_gallery(self, dataset: str, count: int = 40) -> list[tuple[str, str]]:
        """The first `count` examples (all classes, interleaved) as (PNG path, caption) for a picker.
        The PNGs are written once per dataset into this view's scratch folder, so every picker and
        every page load shares them."""

        def write():
            ex = self.examples(dataset)
            names = self.label_names(dataset)
            folder = self.scratch / "examples" / dataset
            items = []
            for i in range(min(count, len(ex))):
                png = io.BytesIO()
                Image.fromarray(im.enlarge(ex.images[i], 2)).save(png, format="PNG")
                path = im.write_once(folder / f"{i}.png", png.getvalue())
                items.append((str(path), f"{i}: {names[int(ex.labels[i])]}"))
            return items

        return self.memo["gallery"].get((dataset, count), write)

    def pick(self, dataset: str, source: str = "example", example_index=0, upload=None, sketch=None) -> Picked:
        """The input chosen by `source`: a shipped test example, an uploaded image or a drawing."""
        if source not in SOURCES:
            raise InputError(f"source must be one of {', '.join(SOURCES)}; got {short_repr(source)}")
        if dataset not in self.datasets():
            raise InputError(f"dataset must be one of {', '.join(self.datasets())}; got {short_repr(dataset)}")
        if source == "example":
            ex = self.examples(dataset)
            try:
                index = int(example_index)
                if float(example_index) != index or isinstance(example_index, bool):
                    raise ValueError
            except (TypeError, ValueError, OverflowError):
                raise InputError(f"example index must be a whole number, got {short_repr(example_index)}") from None
            if not 0 <= index < len(ex):
                raise InputError(f"example index must be between 0 and {len(ex) - 1}, got {index}")
            label = int(ex.labels[index])
            return Picked(np.array(ex.images[index]), label, f"example {index} ({self.label_names(dataset)[label]})", dataset)
        if source == "upload":
            if upload is None:
                raise InputError("no image uploaded: upload one, or pick an example")
            return Picked(im.as_input(im.prepare(im.read_upload(upload), dataset), dataset), None, "upload", dataset)
        return Picked(im.as_input(im.prepare(im.read_sketch(sketch), dataset), dataset), None, "drawing", dataset)

    def label_for(self, name: str, picked: Picked, label=AUTO) -> int | None:
        """The label a conditional model encodes `picked` with: the one asked for, else the example's
        own, else the model's best guess (the label giving the lowest −ELBO). None when unconditional."""
        spec = self.spec(name)
        if picked.dataset != spec.dataset:
            raise InputError(f"{name} reads {spec.dataset} images, but this input was picked from {picked.dataset}")
        if not spec.conditional:
            return None
        if label not in (None, "", AUTO):
            return self.parse_label(name, label)
        if picked.label is not None:
            return picked.label
        return self.best_label(name, picked.image)

    @torch.inference_mode()
    def best_label(self, name: str, image: np.ndarray) -> int:
        model = self.model(name)
        k = model.num_classes
        x = self.tensor(image, model).expand(k, -1, -1, -1)  # (K, 1, H, W)
        y = torch.arange(k, device=x.device)
        posterior = model.encode(x, y)
        probs = model.decode(posterior.mean, y).clamp(1e-6, 1 - 1e-6)
        recon = torch.nn.functional.binary_cross_entropy(probs, x, reduction="none").flatten(1).sum(1)  # (K,) nats
        return int((recon + posterior.kl()).argmin())

    @staticmethod
    def tensor(image: np.ndarray, model) -> torch.Tensor:
        """One grey (H, W) or colour (H, W, 3) image -> (1, C, H, W) on the model's device."""
        return ZooView.batch(np.asarray(image)[None], model)

    @staticmethod
    def batch(images: np.ndarray, model) -> torch.Tensor:
        """Grey (N, H, W) or colour (N, H, W, 3) images -> (N, C, H, W) float32 on the model's device."""
        device = next(model.parameters()).device
        x = torch.as_tensor(np.array(images, dtype=np.float32), device=device)  # a copy: examples are read-only
        return x[:, None] if x.ndim == 3 else x.permute(0, 3, 1, 2).contiguous()  # channels first

    @staticmethod
    def images(x: torch.Tensor) -> np.ndarray:
        """Decoded (N, C, H, W) -> numpy (N, H, W) for grey, (N, H, W, 3) for colour: what images.py draws."""
        x = x.detach().float().cpu()
        return (x[:, 0] if x.shape[1] == 1 else x.permute(0, 2, 3, 1)).numpy()

    @staticmethod
    def labels(y: int | None, n: int, model) -> torch.Tensor | None:
        """The label `y` for a batch of `n` on the model's device; None stays None (unconditional)."""
        return None if y is None else torch.full((n,), int(y), device=next(model.parameters()).device)

    # -----------------------------------------------------------------------------------------
    # Shared per-model computations

    def encoded(self, name: str) -> Encoded:
        """`name`'s posterior over its dataset's shipped examples, computed once (shared, read-only)."""
        self.spec(name)
        return self.memo["encoded"].get(name, lambda: self._encode_examples(name))

    @torch.inference_mode()
    def _encode_examples(self, name: str) -> Encoded:
        spec, model = self.spec(name), self.model(name)
        ex = self.examples(spec.dataset)
        device = next(model.parameters()).device
        means, stds = [], []
        for start in range(0, len(ex), 400):
            x = self.batch(ex.images[start: start + 400], model)  # (B, C, H, W)
            y = torch.tensor(ex.labels[start: start + 400], device=device) if spec.conditional else None
            posterior = model.encode(x, y)
            means.append(posterior.mean.cpu().numpy())
            stds.append(posterior.std.cpu().numpy())
        mean, std = np.concatenate(means), np.concatenate(stds)
        if spec.variational:
            var = np.maximum(std, 1e-12) ** 2
            activity, activity_name = (0.5 * (var + mean**2 - np.log(var) - 1)).mean(0), "KL"
        else:  # a point encoder (AE): no KL; rank by how much μ varies across inputs
            activity, activity_name = mean.var(0), "var"
        order = np.argsort(-activity, kind="stable")
        return Encoded(mean, std, np.asarray(ex.labels), order, activity, activity_name)

    def cached(self, key: tuple, build):
        """A tab's own shared result (e.g. a latent map), built once per key; bounded."""
        return self.memo["tab"].get(key, build)


def _card_version(folder) -> int:
    """Changes when the card in `folder` is rewritten (`vae-zoo eval`); 0 when there is none."""
    card = Path(folder) / CARD_FILE
    return card.stat().st_mtime_ns if card.is_file() else 0


def _record(folder) -> dict:
    """A card's record, or {} when the card cannot be read (its front matter is not YAML, ...): a
    broken card loses its metrics, never the model."""
    try:
        return read_record(folder)
    except Exception as exc:  # huggingface_hub raises whatever its YAML parser raised
        log.warning("cannot read the model card in %s: %s: %s", folder, type(exc).__name__, exc)
        return {}


def _describe(spec, source: str, metrics: dict, trained_on: str | None = None) -> str:
    head = (f"**{spec.name}** · {spec.family.upper()} · {spec.dataset} · {spec.latent_dim}-D latent"
            + (f" · conditional on {len(spec.label_names)} labels" if spec.conditional else "") + f" · weights: {source}"
            + f" · trained on: {trained_on or 'not recorded'}")
    shown = [(METRICS[k][0], v) for k, v in metrics.items() if k in METRICS and isinstance(v, (int, float))]
    measured = (" · ".join(f"{label}: {_fmt(value)}" for label, value in shown) if shown
                else f"metrics: not measured yet (`vae-zoo eval {spec.name}`)")
    return f"{head}\n\n{spec.description} {measured}"


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) < 1 else f"{value:.2f}"
    return str(value)
