"""Label swap (conditional models): encode A's style, decode it under every label and under B's.

On a dataset of whole faces (glyphs), a test example's face also has its true glyphs, and on a rendered
dataset whose label is a factor (shapes), a test example can be rendered under every label with its
other factors kept: that truth is shown next to the swaps. And any text made of label names one character long can be written in A's style
(`write`): a glyph CVAE writes a sentence, a digit CVAE a number.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ...datasets import get_dataset
from ...errors import InputError
from .. import images as im
from ..links import AUTO, Field, LinkSchema
from ..view import Picked, ZooView

MAX_STYLE_ROWS = 10  # rows of the "more styles" grid besides A: one example of each class when there are this few
MAX_TEXT = 200  # characters `write` draws

LINK = LinkSchema("swap_labels", fits=dict(conditional=True), model=Field("str", check="model"),
                  a=Field("int", "a_index", check="example"), b=Field("int", "b_index", check="example"),
                  label=Field("str", check="label"))


@dataclass(frozen=True)
class LabelSwap:
    row: list  # [(uint8 image, label name)]: A's style under every label
    swapped: np.ndarray | None  # uint8: A's style under B's label (when B is given)
    grid: np.ndarray  # RGB uint8: A and one test example per class (rows) under every label (columns)
    caption: str
    truth: list | None = None  # [(uint8 image, label name)]: A's truth under every label (true glyphs, true renderings)


SWAPS_RIGHT = 0.9  # a model whose swaps the judge reads as the asked label this often draws the right class


def default_model(view: ZooView) -> str | None:
    """The conditional model the tab opens on: the one with the best measured style fidelity; None when there is none.

    Fidelity is read from the cards: among models whose swaps the project's judge reads as the asked label at
    least SWAPS_RIGHT of the time, the one that loses least of its input around the swap cycle (swap to another
    label, back to its own: `cycle_mse_per_pixel` over a plain reconstruction's `mse_per_pixel`). A swap that
    draws the right class but a generic style (a high cycle error) loses to one that keeps the style."""
    conditional = view.models(conditional=True)

    def fidelity(name):
        metrics = view.metrics(name)
        accuracy = metrics.get("label_swap_accuracy") or 0.0
        cycle, plain = metrics.get("cycle_mse_per_pixel"), metrics.get("mse_per_pixel")
        kept = plain / cycle if cycle and plain else 0.0  # 1 when a swap and back returns the reconstruction
        return (accuracy >= SWAPS_RIGHT, kept, accuracy)

    return max(conditional, key=fidelity) if conditional else None


@torch.inference_mode()
def swap_labels(view: ZooView, name: str, a: Picked, label_a=AUTO, b: Picked | None = None, label_b=AUTO) -> LabelSwap:
    """Encode A's style with A's label, decode it under every label (one row); and, given B, A's
    style under B's label. Also the lecture's picture at a larger scale: A and one test example
    per class (rows), each style decoded under every label (columns)."""
    spec, model = view.spec(name), view.model(name)
    if not spec.conditional:
        raise InputError(f"{name} is not conditional: label swapping needs a model that is given the label "
                         f"(one of {', '.join(view.models(conditional=True)) or 'none in this app'})")
    ya = view.label_for(name, a, label_a)
    x = view.tensor(a.image, model)
    style = model.encode(x, view.labels(ya, 1, model)).mean  # (1, D)
    k = len(spec.label_names)
    decoded = view.images(model.decode(style.expand(k, -1), torch.arange(k, device=x.device)))  # (K, H, W[, 3])
    row = [(im.enlarge(image), spec.label_names[i]) for i, image in enumerate(decoded)]
    swapped, caption = None, f"A ({a.description}) encoded as {spec.label_names[ya]}"
    if b is not None:
        yb = view.label_for(name, b, label_b)
        swapped = im.enlarge(view.images(model.decode(style, view.labels(yb, 1, model)))[0])
        caption += f"; decoded with B's label, {spec.label_names[yb]}"
    originals, rows = view.cached(("styles", name), lambda: _example_styles(view, name))
    grid = im.analogy_grid(np.concatenate([a.image[None], originals]), np.concatenate([decoded[None], rows]), spec.label_names,
                           scale=2 if k <= MAX_STYLE_ROWS else 1)
    return LabelSwap(row, swapped, grid, caption, true_gallery(view, name, a))


def true_gallery(view: ZooView, name: str, a: Picked) -> list | None:
    """[(uint8 image, label name)]: A under every label as it truly is, when A is a shipped example of a
    face dataset (its face's glyphs) or of a rendered one (A's factors rendered under each label); else None."""
    spec = view.spec(name)
    truth = true_images(view, spec.dataset, a.image)
    return None if truth is None else [(im.enlarge(image), spec.label_names[i]) for i, image in enumerate(truth)]


def true_images(view: ZooView, dataset: str, image: np.ndarray) -> np.ndarray | None:
    """(K, H, W[, 3]): `image` under every label, if it is a shipped example of a face dataset or a rendered one."""
    info = get_dataset(dataset)
    if info.render is not None and info.label_factor:
        return true_renderings(view, dataset, image)
    return true_glyphs(view, dataset, image)


def true_renderings(view: ZooView, dataset: str, image: np.ndarray) -> np.ndarray | None:
    """(K, H, W[, 3]): a shipped example of a rendered dataset drawn under every label, its other factors
    kept (a square's scale, orientation and position as an ellipse and a heart); None for an upload."""
    info, ex = get_dataset(dataset), view.examples(dataset)
    if ex.factors is None:
        return None
    matches = np.flatnonzero((ex.images == image).reshape(len(ex), -1).all(axis=1))
    if not len(matches):
        return None  # an upload or a drawing
    return view.images(info.render_every_label(torch.as_tensor(np.array(ex.factors[matches[:1]])))[0])


def true_glyphs(view: ZooView, dataset: str, image: np.ndarray) -> np.ndarray | None:
    """(K, H, W): every label of the face `image` is drawn from, if it is a shipped example of a face dataset
    (whose examples are whole faces, face by face in label order); else None."""
    if "face" not in get_dataset(dataset).factor_names:
        return None
    ex, k = view.examples(dataset), len(view.label_names(dataset))
    matches = np.flatnonzero((ex.images == image).all(axis=(1, 2)))
    if not len(matches):
        return None  # an upload or a drawing
    start = matches[0] - matches[0] % k
    face = ex.images[start:start + k]
    return np.array(face) if ex.labels[start:start + k].tolist() == list(range(k)) else None


@dataclass(frozen=True)
class Written:
    image: np.ndarray  # uint8 (H, W): the text, light on dark
    caption: str


@torch.inference_mode()
def write(view: ZooView, name: str, a: Picked, text: str, label_a=AUTO) -> Written:
    """`text` drawn in A's style: A is encoded with its label, and each character is decoded under the
    label of that name (a line break starts a new line, a space leaves a gap). Glyphs are cropped to
    their ink and set side by side."""
    spec, model = view.spec(name), view.model(name)
    if not spec.conditional:
        raise InputError(f"{name} is not conditional: writing needs a model that is given the label "
                         f"(one of {', '.join(view.models(conditional=True)) or 'none in this app'})")
    names = spec.label_names
    text = str(text or "").strip("\n")
    unknown = sorted({c for c in text if c not in names and c not in " \n"})
    if not text.strip():
        raise InputError("type some text to write, e.g. " + repr("".join(names[:5])))
    if len(text) > MAX_TEXT:
        raise InputError(f"text is {len(text)} characters long; write at most {MAX_TEXT}")
    if unknown:
        raise InputError(f"{name} cannot draw {''.join(unknown)!r}: it knows {''.join(names) if max(map(len, names)) == 1 else ', '.join(names)}")
    ya = view.label_for(name, a, label_a)
    style = model.encode(view.tensor(a.image, model), view.labels(ya, 1, model)).mean  # (1, D)
    wanted = sorted({c for c in text if c in names})
    decoded = model.decode(style.expand(len(wanted), -1),
                           torch.tensor([names.index(c) for c in wanted], device=style.device))[:, 0].cpu().numpy()
    glyph = dict(zip(wanted, decoded))
    side = decoded.shape[-1]
    lines = []
    for line in text.split("\n"):
        pieces = []
        for c in line:
            if c == " ":
                pieces.append(np.zeros((side, side // 3), np.float32))
                continue
            ink = np.flatnonzero(glyph[c].max(axis=0) > 0.25)  # columns with ink
            left, right = (ink[0], ink[-1] + 1) if len(ink) else (side // 3, 2 * side // 3)
            pieces += [glyph[c][:, left:right], np.zeros((side, max(2, side // 16)), np.float32)]
        lines.append(np.concatenate(pieces, axis=1) if pieces else np.zeros((side, side // 3), np.float32))
    width = max(line.shape[1] for line in lines)
    page = np.concatenate([np.pad(line, ((0, 0), (0, width - line.shape[1]))) for line in lines])  # (lines * side, width)
    caption = f"{len(text)} characters in the style of A ({a.description}) encoded as {names[ya]}"
    return Written(im.enlarge(page, 2), caption)


@torch.inference_mode()
def _example_styles(view: ZooView, name: str) -> tuple[np.ndarray, np.ndarray]:
    """One test example of every class (the second set, K to 2K - 1, so that example 0 as A is
    not repeated), each decoded under every label: (R, H, W) and (R, K, H, W). With more than
    MAX_STYLE_ROWS classes, R = MAX_STYLE_ROWS examples spread over the shipped ones."""
    spec, model = view.spec(name), view.model(name)
    k = len(spec.label_names)
    ex = view.examples(spec.dataset)
    device = next(model.parameters()).device
    picks = np.arange(k, 2 * k) if k <= MAX_STYLE_ROWS else np.linspace(k, len(ex) - 1, MAX_STYLE_ROWS).round().astype(int)
    originals = np.array(ex.images[picks])  # (R, H, W)
    styles = model.encode(view.batch(originals, model),
                          torch.as_tensor(np.array(ex.labels[picks]), device=device)).mean  # (R, D)
    labels = torch.arange(k, device=device).repeat(len(picks))  # (R * K,)
    rows = view.images(model.decode(styles.repeat_interleave(k, 0), labels))  # (R * K, H, W[, 3])
    return originals, rows.reshape(len(picks), k, *rows.shape[1:])
