"""Traverse: encode an input, then move one latent dimension at a time (most active first)."""

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
    sliders, rows = [], []
    for d in dims:
        lo, hi = _slider_range(enc.mean[:, d])
        sliders.append(Slider(int(d), f"z{d} · {enc.activity_name} {enc.activity[d]:.2f}",
                              round(float(np.clip(mean[d], lo, hi)), 3), lo, hi))
        if len(rows) < SWEPT:
            z = np.repeat(mean[None], COLUMNS, 0)
            z[:, d] = np.linspace(lo, hi, COLUMNS)
            rows.append(z)
    z_all = torch.as_tensor(np.concatenate(rows), dtype=torch.float32, device=x.device)
    tiles = model.decode(z_all, view.labels(y_int, len(z_all), model))[:, 0].cpu().numpy()
    decoded = model.decode(torch.as_tensor(mean, device=x.device)[None], y)[0, 0].cpu().numpy()
    state = dict(name=name, label=y_int, mean=mean.astype(np.float32), dims=[int(d) for d in dims])
    return Traversal(im.enlarge(decoded), im.grid(tiles, columns=COLUMNS, scale=2), tuple(sliders), state)


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
    return im.enlarge(decoded[0, 0].cpu().numpy())


def _slider_range(values: np.ndarray) -> tuple[float, float]:
    """Where a slider for one latent dimension should reach: the prior's ±3 and the examples' spread."""
    lo = min(-3.0, float(np.quantile(values, 0.005)))
    hi = max(3.0, float(np.quantile(values, 0.995)))
    return round(lo - 0.05 * (hi - lo), 1), round(hi + 0.05 * (hi - lo), 1)
