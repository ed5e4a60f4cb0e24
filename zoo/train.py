"""Training: `python -m zoo train NAME` fits a zoo entry with its recipe and writes its weights folder.

Seeded and reproducible on a given device: parameter init, shuffling and the reparameterisation
noise all draw from generators seeded by the recipe.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from tqdm.auto import tqdm

from torch import Tensor

from . import cards
from .datasets import get_dataset
from .device import resolve_device
from .locations import stamp_config
from .registry import ModelSpec, get_spec

log = logging.getLogger(__name__)


@dataclass
class TrainResult:
    name: str
    folder: Path
    history: list[dict]  # one row per epoch: epoch, train_loss, train_recon, train_kl, test_loss, seconds
    data_source: str


def batches(split: tuple[Tensor, Tensor], batch_size: int, generator: torch.Generator | None = None, limit: int | None = None):
    """(images, labels) mini-batches of a split (images, labels); shuffled when a generator is given."""
    images, labels = split
    n = len(labels) if limit is None else min(limit, len(labels))
    order = torch.randperm(len(labels), generator=generator)[:n] if generator is not None else torch.arange(n)
    for start in range(0, n, batch_size):
        idx = order[start:start + batch_size]
        yield images[idx], labels[idx]


@torch.inference_mode()
def evaluate_loss(model, split: tuple[Tensor, Tensor], beta: float, device: torch.device, batch_size: int = 500,
                  limit: int | None = None, seed: int = 0) -> dict:
    """Mean loss parts over a split (images, labels) (one z sample per image, from a fixed seed), nats per image."""
    model.eval()
    generator = torch.Generator(device=device).manual_seed(seed)
    sums, n = torch.zeros(3), 0
    for x, y in batches(split, batch_size, limit=limit):
        parts = model.loss(x.to(device), y.to(device), beta=beta, generator=generator)
        sums += torch.stack([p.detach().float().cpu() for p in parts]) * len(x)
        n += len(x)
    total, recon, kl = (sums / max(n, 1)).tolist()
    return {"loss": total, "recon": recon, "kl": kl}


def train(
    name: str,
    epochs: int | None = None,
    device: str | torch.device | None = None,
    out: str | Path | None = None,
    limit: int | None = None,
    progress: bool = True,
    train_split: tuple[Tensor, Tensor] | None = None,
    test_split: tuple[Tensor, Tensor] | None = None,
    data_source: str | None = None,
) -> TrainResult:
    """Train `name` with its recipe (`epochs` overrides the recipe's) and save it to `out`.

    `out` defaults to the entry's bundled weights folder. `limit` caps the images per epoch and
    per evaluation (for smoke tests). Splits (images, labels) may be passed in, with `data_source`,
    the sentence the card records; otherwise they are loaded from the entry's dataset.
    """
    spec = get_spec(name)
    recipe = spec.recipe if epochs is None else dataclasses.replace(spec.recipe, epochs=epochs)
    dev = resolve_device(device)
    folder = Path(out) if out is not None else spec.bundled_dir
    dataset = get_dataset(spec.dataset)
    if train_split is None:
        train_split, data_source = dataset.load("train"), dataset.source("train")
    test_split = test_split if test_split is not None else dataset.load("test")
    data_source = data_source or f"{len(train_split[1])} {spec.dataset} images passed to train()"

    torch.manual_seed(recipe.seed)
    model = spec.model_class()(**spec.config).to(dev)
    optimizer = torch.optim.Adam(model.parameters(), lr=recipe.lr)
    shuffle = torch.Generator().manual_seed(recipe.seed)
    noise = torch.Generator(device=dev).manual_seed(recipe.seed + 1)
    beta = recipe.beta if model.variational else 0.0

    history = []
    n_train = len(train_split[1]) if limit is None else min(limit, len(train_split[1]))
    steps = math.ceil(n_train / recipe.batch_size)
    log.info("training %s on %s for %d epochs (%s)", name, dev, recipe.epochs, data_source)
    for epoch in range(1, recipe.epochs + 1):
        model.train()
        start, sums = time.perf_counter(), torch.zeros(3)
        bar = tqdm(batches(train_split, recipe.batch_size, shuffle, limit), total=steps,
                   desc=f"{name} {epoch}/{recipe.epochs}", disable=None if progress else True, leave=False)
        for x, y in bar:
            x, y = x.to(dev), y.to(dev)
            parts = model.loss(x, y, beta=beta, generator=noise)
            optimizer.zero_grad(set_to_none=True)
            parts.total.backward()
            optimizer.step()
            sums += torch.stack([p.detach().float().cpu() for p in parts]) * len(x)
            bar.set_postfix(loss=f"{parts.total.item():.1f}")
        train_loss, train_recon, train_kl = (sums / n_train).tolist()
        test = evaluate_loss(model, test_split, beta, dev, limit=limit, seed=recipe.seed)
        row = {"epoch": epoch, "train_loss": round(train_loss, 3), "train_recon": round(train_recon, 3),
               "train_kl": round(train_kl, 3), "test_loss": round(test["loss"], 3),
               "seconds": round(time.perf_counter() - start, 1)}
        history.append(row)
        message = (f"{name} epoch {epoch}/{recipe.epochs}: train {train_loss:.2f} (recon {train_recon:.2f}, "
                   f"kl {train_kl:.2f}), test {test['loss']:.2f} nats/image, {row['seconds']}s")
        if progress:
            tqdm.write(message)  # above the progress bar, not through it
        else:
            log.info(message)

    save(model.eval(), spec, folder, recipe=recipe, history=history, data_source=data_source, device=dev)
    return TrainResult(name, folder, history, data_source)


def save(model, spec: ModelSpec, folder: Path, *, recipe, history: list[dict], data_source: str, device) -> None:
    """Write config.json + model.safetensors (the mixin's format) and the model card."""
    folder.mkdir(parents=True, exist_ok=True)
    model.to("cpu").save_pretrained(folder)
    stamp_config(folder, spec.family)  # config.json says which family builds it: hf-hub:OWNER/REPO needs no plugin
    info = {
        "data_source": data_source,
        "recipe": dataclasses.asdict(recipe),
        "trained_on": str(device),
        "torch_version": str(torch.__version__),
        "history": history,
    }
    cards.write_card(spec, folder, training=info)
