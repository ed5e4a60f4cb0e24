"""Interpolate: decoded frames along a path between the codes of two inputs."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ...errors import InputError
from .. import images as im
from ..links import AUTO, Field, LinkSchema
from ..view import Picked, ZooView

PATHS = ("linear", "spherical")
LINK = LinkSchema("interpolate", model=Field("str", check="model"), a=Field("int", "a_index", check="example"),
                  b=Field("int", "b_index", check="example"), path=Field("str", choices=PATHS),
                  steps=Field("int", bounds=(2, 64)), t=Field("float", bounds=(0.0, 1.0)))


@dataclass(frozen=True)
class Interpolation:
    frames: np.ndarray  # (T, H, W) float32
    strip: np.ndarray  # uint8, every frame side by side
    gif: str | None  # path of the animated GIF
    key: str  # what the frames were computed from: an unchanged pair is not recomputed
    ends: dict | None = None  # the path's ends, for decoding any t in the page: name, path, za, zb (D,), ya, yb

    @property
    def state(self) -> dict:
        """What a user keeps between calls (gr.State): small, and enough to look frames up."""
        return dict(key=self.key, frames=self.frames, gif=self.gif, ends=self.ends)


def default_model(view: ZooView) -> str:
    """The model the tab opens on: a VAE (unconditional, so the path never cuts from one label to another)
    of the first dataset the app serves, the richest one (largest latent) if there are several; else any model."""
    plain = [n for n in view.models(conditional=False) if view.spec(n).variational]
    first = view.datasets()[0]
    return sorted(plain or view.models(), key=lambda n: (view.spec(n).dataset != first, -view.spec(n).latent_dim, n))[0]


@torch.inference_mode()
def interpolate(view: ZooView, name: str, a: Picked, b: Picked, path="linear", steps=16, label_a=AUTO, label_b=AUTO,
                cached: dict | None = None, gif_folder: Path | None = None) -> Interpolation:
    """Decoded frames along the path from A's code to B's (posterior means), computed once per
    pair: pass the previous result's `state` as `cached` and an unchanged pair is not recomputed.

    A conditional model decodes with A's label for t < 0.5 and B's from there on. With a
    `gif_folder`, an animated GIF of the frames is written there (once per pair).
    """
    model = view.model(name)
    path, steps = LINK["path"].choice(path), LINK["steps"].number(steps)
    ya, yb = view.label_for(name, a, label_a), view.label_for(name, b, label_b)
    key = _digest(name, path, steps, ya, yb, a.image, b.image)
    gif = None
    if isinstance(cached, dict) and cached.get("key") == key and cached.get("ends"):
        frames = np.asarray(cached["frames"], dtype=np.float32)
        gif, ends = cached.get("gif"), cached["ends"]
    else:
        xa, xb = view.tensor(a.image, model), view.tensor(b.image, model)
        za = model.encode(xa, view.labels(ya, 1, model)).mean[0]
        zb = model.encode(xb, view.labels(yb, 1, model)).mean[0]
        ts = torch.linspace(0, 1, steps, device=xa.device)
        z = torch.stack([_lerp(za, zb, t) if path == "linear" else _slerp(za, zb, t) for t in ts])  # (T, D)
        y = None if ya is None else torch.tensor([ya if t < 0.5 else yb for t in ts.tolist()], device=xa.device)
        frames = view.images(model.decode(z, y))
        ends = dict(name=name, path=path, za=za.cpu().tolist(), zb=zb.cpu().tolist(), ya=ya, yb=yb)
    if gif_folder is not None and (gif is None or not Path(gif).is_file()):
        gif = str(im.save_gif(frames, gif_folder))
    return Interpolation(frames, im.grid(frames, columns=len(frames), scale=2), gif, key, ends)


def frame_at(frames, t=0.5) -> np.ndarray:
    """The frame nearest to t in [0, 1]: a lookup, no model call. (H, W) uint8 ((H, W, 3) in colour), enlarged."""
    t = LINK["t"].number(t)
    try:
        frames = None if frames is None else np.asarray(frames, dtype=np.float32)
    except (TypeError, ValueError):
        frames = None
    colour = frames is not None and frames.ndim == 4 and frames.shape[-1] == 3  # (T, H, W, 3)
    if frames is None or (frames.ndim != 3 and not colour) or len(frames) == 0:
        raise InputError("no frames yet: run the interpolation first")
    return im.enlarge(frames[int(round(t * (len(frames) - 1)))])


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
