"""Traverse: encode an input, then move one latent dimension at a time (most active first).

On a dataset with known factors (shapes), each slider also names the factor its dimension carries
most, by normalised mutual information I(z_j; v_k) / H(v_k) over the test split: `vae-zoo eval`
measures it (zoo/disentanglement.py) and records it in the model card as `dimension_factors`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from ...errors import InputError
from .. import images as im
from ..links import AUTO, Field, LinkSchema
from ..view import Picked, ZooView

LINK = LinkSchema("traverse", model=Field("str", check="model"), a=Field("int", "example_index", check="example"),
                  label=Field("str", check="label"), z=Field("floats"))
MAX_DIMS = 16  # sliders at most; further dimensions stay at μ
COLUMNS = 9  # steps across each swept dimension in the grid
SWEPT = 8  # dimensions in the grid


@dataclass(frozen=True)
class Slider:
    dim: int
    label: str
    value: float  # μ of the input, within the range
    minimum: float
    maximum: float
    factor: str = ""  # the factor the dimension carries most (a dataset with known factors, once evaluated), else ""


@dataclass(frozen=True)
class Traversal:
    decoded: np.ndarray  # uint8, the code at μ decoded
    grid: np.ndarray  # uint8, one row per swept dimension
    sliders: tuple[Slider, ...]  # most active first
    state: dict  # what a user keeps (gr.State): name, label, mean (D,), dims


@torch.inference_mode()
def traverse(view: ZooView, name: str, picked: Picked, label=AUTO) -> Traversal:
    """Encode `picked`; its dimensions ordered by activity (KL, active units first), the slider
    settings to start from, the decoded code, and a grid sweeping the most active dimensions."""
    model = view.model(name)
    y_int = view.label_for(name, picked, label)
    x = view.tensor(picked.image, model)
    y = view.labels(y_int, 1, model)
    mean = model.encode(x, y).mean[0].cpu().numpy()  # (D,)
    enc = view.encoded(name)
    dims = enc.order[:MAX_DIMS]
    factors = dimension_factors(view, name)
    sliders, rows = [], []
    for d in dims:
        lo, hi = _slider_range(enc.mean[:, d])
        factor = factors[d] if d < len(factors) else ""
        named = f"z{d} ({factor})" if factor else f"z{d}"  # "z3 (x)": dimension 3 carries the x position most
        sliders.append(Slider(int(d), f"{named} · {enc.activity_name} {enc.activity[d]:.2f}",
                              round(float(np.clip(mean[d], lo, hi)), 3), lo, hi, factor))
        if len(rows) < SWEPT:
            z = np.repeat(mean[None], COLUMNS, 0)
            z[:, d] = np.linspace(lo, hi, COLUMNS)
            rows.append(z)
    z_all = torch.as_tensor(np.concatenate(rows), dtype=torch.float32, device=x.device)
    tiles = view.images(model.decode(z_all, view.labels(y_int, len(z_all), model)))
    decoded = view.images(model.decode(torch.as_tensor(mean, device=x.device)[None], y))[0]
    state = dict(name=name, label=y_int, mean=mean.astype(np.float32), dims=[int(d) for d in dims])
    scale = 2 if tiles.shape[1] < 56 else 1  # tiles of 56 pixels or more (the page enlarges them, pixelated): a
    # 64×64 colour sweep at 2× is a 1,042×1,172 picture whose PNG alone took 45 ms to encode
    return Traversal(im.enlarge(decoded), im.grid(tiles, columns=COLUMNS, scale=scale), tuple(sliders), state)


@torch.inference_mode()
def traverse_decode(view: ZooView, state: dict | None, values) -> np.ndarray:
    """Decode the traversed code with the slider values set on its ordered dimensions."""
    if not isinstance(state, dict) or not {"name", "mean", "dims"} <= set(state):
        raise InputError("nothing to traverse yet: encode an input first")
    model = view.model(state["name"])
    z = np.array(state["mean"], dtype=np.float32)
    for d, value in zip(state["dims"], list(values)[: len(state["dims"])]):
        try:
            z[d] = float(value)
        except (TypeError, ValueError, OverflowError):
            z[d] = math.nan
        if not math.isfinite(z[d]):
            raise InputError(f"slider for z{d} has no valid value: {value!r}")
    device = next(model.parameters()).device
    decoded = model.decode(torch.as_tensor(z, device=device)[None], view.labels(state.get("label"), 1, model))
    return im.enlarge(view.images(decoded)[0])


def dimension_factors(view: ZooView, name: str) -> list[str]:
    """For each latent dimension of `name`, the factor it carries most ("" for none), as its card records
    them (`vae-zoo eval` on a dataset with known factors); [] when the card has none."""
    names = view.metrics(name).get("dimension_factors")
    spec = view.spec(name)
    if not isinstance(names, list) or len(names) != spec.latent_dim:
        return []
    return [str(n) if isinstance(n, str) else "" for n in names]


def _slider_range(values: np.ndarray) -> tuple[float, float]:
    """Where a slider for one latent dimension should reach: the prior's ±3 and the examples' spread."""
    lo = min(-3.0, float(np.quantile(values, 0.005)))
    hi = max(3.0, float(np.quantile(values, 0.995)))
    return round(lo - 0.05 * (hi - lo), 1), round(hi + 0.05 * (hi - lo), 1)
