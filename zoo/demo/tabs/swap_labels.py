"""Label swap (conditional models): encode A's style, decode it under every label and under B's."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ...errors import InputError
from .. import images as im
from ..links import AUTO, Field, LinkSchema
from ..view import Picked, ZooView

LINK = LinkSchema("swap_labels", fits=dict(conditional=True), model=Field("str", check="model"),
                  a=Field("int", "a_index", check="example"), b=Field("int", "b_index", check="example"),
                  label=Field("str", check="label"))


@dataclass(frozen=True)
class LabelSwap:
    row: list  # [(uint8 image, label name)]: A's style under every label
    swapped: np.ndarray | None  # uint8: A's style under B's label (when B is given)
    grid: np.ndarray  # RGB uint8: A and one test example per class (rows) under every label (columns)
    caption: str


def default_model(view: ZooView) -> str | None:
    """The conditional model the tab opens on: the one with the best measured style fidelity (its card's
    label-swap accuracy: the swaps a classifier reads as the asked label); None when there is none."""
    conditional = view.models(conditional=True)

    def fidelity(name):
        metrics = view.metrics(name)
        return metrics.get("label_swap_accuracy") or 0.0

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
    decoded = model.decode(style.expand(k, -1), torch.arange(k, device=x.device))[:, 0].cpu().numpy()  # (K, H, W)
    row = [(im.enlarge(image), spec.label_names[i]) for i, image in enumerate(decoded)]
    swapped, caption = None, f"A ({a.description}) encoded as {spec.label_names[ya]}"
    if b is not None:
        yb = view.label_for(name, b, label_b)
        swapped = im.enlarge(model.decode(style, view.labels(yb, 1, model))[0, 0].cpu().numpy())
        caption += f"; decoded with B's label, {spec.label_names[yb]}"
    originals, rows = view.cached(("styles", name), lambda: _example_styles(view, name))
    grid = im.analogy_grid(np.concatenate([a.image[None], originals]), np.concatenate([decoded[None], rows]), spec.label_names)
    return LabelSwap(row, swapped, grid, caption)


@torch.inference_mode()
def _example_styles(view: ZooView, name: str) -> tuple[np.ndarray, np.ndarray]:
    """One test example of every class (the second set, K to 2K - 1, so that example 0 as A is
    not repeated), each decoded under every label: (K, H, W) and (K, K, H, W)."""
    spec, model = view.spec(name), view.model(name)
    k = len(spec.label_names)
    ex = view.examples(spec.dataset)
    device = next(model.parameters()).device
    originals = np.array(ex.images[k: 2 * k])  # (K, H, W)
    styles = model.encode(torch.as_tensor(originals, device=device)[:, None],
                          torch.as_tensor(np.array(ex.labels[k: 2 * k]), device=device)).mean  # (K, D)
    labels = torch.arange(k, device=device).repeat(k)  # (K * K,)
    rows = model.decode(styles.repeat_interleave(k, 0), labels)[:, 0].cpu().numpy()  # (K * K, H, W)
    return originals, rows.reshape(k, k, *rows.shape[1:])
