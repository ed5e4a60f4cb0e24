"""Reconstruct: one input through several models of a dataset, with each one's loss parts and posterior.

Region, not point: beside each model's decoding of μ come decodings of a few codes drawn from
q(z|x). A VAE's draws differ a little (the input is a region of codes); an AE's are all μ (a point).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ...errors import InputError
from .. import images as im
from ..links import Field, LinkSchema
from ..plots import posterior_plot
from ..view import Picked, ZooView

LINK = LinkSchema("reconstruct", dataset=Field("str", check="dataset"), models=Field("list", check="models"),
                  a=Field("int", "example_index", check="example"), label=Field("str", check="label"))
MAX_MODELS = 16  # more names than this in one request is a mistake (or an attack), not a comparison
REGION_DRAWS = 6  # codes drawn from q(z|x) and decoded beside μ's decoding


@dataclass(frozen=True)
class Reconstruction:
    gallery: list  # [(uint8 image, caption)], one per model
    table: list  # [[model, latent size, recon nats, KL nats, total nats]]
    posterior: np.ndarray  # RGB uint8 plot: μ ± σ per dimension, one panel per model
    regions: np.ndarray  # RGB uint8: per model a caption, then μ decoded and REGION_DRAWS draws from q(z|x) decoded


def model_names(view: ZooView, dataset: str, models) -> list[str]:
    """The models a request names (a name, a list of names, or none: every model of `dataset`)."""
    models = [models] if isinstance(models, str) else models
    if models and not isinstance(models, (list, tuple)):
        raise InputError(f"models must be a list of model names, got {type(models).__name__}")
    names = list(dict.fromkeys(models or view.models(dataset=dataset)))  # each model once
    if len(names) > MAX_MODELS:
        raise InputError(f"choose at most {MAX_MODELS} models, got {len(names)}")
    return names


@torch.inference_mode()
def reconstruct(view: ZooView, names: list[str], picked: Picked, label="auto") -> Reconstruction:
    """Each model's reconstruction of `picked` (μ decoded), its loss parts and its posterior."""
    if not names:
        raise InputError("choose at least one model")
    gallery, table, rows, regions = [], [], [], []
    for name in names:
        spec, model = view.spec(name), view.model(name)
        y_int = view.label_for(name, picked, label)
        x = view.tensor(picked.image, model)
        y = view.labels(y_int, 1, model)
        posterior = model.encode(x, y)
        recon_image = view.images(model.decode(posterior.mean, y))[0]
        generator = torch.Generator(device=x.device).manual_seed(0)  # one z sample: fixed, so links reproduce
        parts = model.loss(x, y, generator=generator)
        suffix = f", label {spec.label_names[y_int]}" if y_int is not None else ""
        gallery.append((im.enlarge(recon_image), f"{name}{suffix}"))  # short: a caption lies over its image; numbers: the table
        table.append([name, spec.latent_dim, round(float(parts.recon), 2), round(float(parts.kl), 2), round(float(parts.total), 2)])
        rows.append((f"{name}{suffix}", posterior.mean[0].cpu().numpy(), posterior.std[0].cpu().numpy()))
        regions.append(_region(model, posterior, y, name, recon_image))
    return Reconstruction(gallery, table, posterior_plot(rows), captioned_rows(regions))


def captioned_rows(rows: list[tuple[np.ndarray, str]], pad: int = 6, size: int = 15) -> np.ndarray:
    """Grey strips (uint8) stacked, each under its caption (15 px text, wrapped to the widest strip). RGB uint8."""
    from PIL import Image, ImageDraw

    f = im.font(size)
    width = max(strip.shape[1] for strip, _ in rows) + 2 * pad
    blocks = []
    for strip, caption in rows:
        lines, line = [], ""
        for word in caption.split(" "):  # wrap by measured width, never past the picture's edge
            trial = f"{line} {word}".strip()
            if line and f.getlength(trial) > width - 2 * pad:
                lines.append(line)
                trial = word
            line = trial
        lines.append(line)
        block = Image.new("RGB", (width, pad + len(lines) * (size + 4) + strip.shape[0] + pad), "white")
        draw = ImageDraw.Draw(block)
        for i, text in enumerate(lines):
            draw.text((pad, pad + i * (size + 4)), text, fill=(30, 30, 30), font=f)
        block.paste(Image.fromarray(strip).convert("RGB"), (pad, pad + len(lines) * (size + 4)))
        blocks.append(np.asarray(block))
    return np.concatenate(blocks, axis=0)


def _region(model, posterior, y, name: str, recon_image: np.ndarray) -> tuple[np.ndarray, str]:
    """μ decoded, then REGION_DRAWS codes drawn from q(z|x) decoded (seeded: a link shows the same draws)."""
    generator = torch.Generator(device=posterior.mean.device).manual_seed(0)
    z = torch.cat([posterior.sample(generator) for _ in range(REGION_DRAWS)])  # (K, D)
    draws = ZooView.images(model.decode(z, None if y is None else y.expand(len(z))))
    strip = im.grid(np.concatenate([recon_image[None], draws]), columns=REGION_DRAWS + 1, scale=3)
    if model.variational:
        spread = float(np.abs(draws - recon_image).mean())
        caption = f"{name}: μ, then {REGION_DRAWS} draws from q(z|x), a region (mean |draw − μ's| {spread:.3f})"
    else:
        caption = f"{name}: μ, then {REGION_DRAWS} 'draws': a point, every one is μ"
    return strip, caption
