"""Training: `python -m zoo train NAME` fits a zoo entry with its recipe and writes its weights folder.

Seeded and reproducible on a given device: parameter init, shuffling and the reparameterisation
noise all draw from generators seeded by the recipe. The same command runs under torchrun
(`torchrun --nproc_per_node N -m zoo train NAME`) with DistributedDataParallel; see `train`.
"""

from __future__ import annotations

import dataclasses
import inspect
import logging
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.distributed as dist
from torch import Tensor, nn
from torch.utils.data import BatchSampler, DistributedSampler
from tqdm.auto import tqdm

from . import cards
from .augment import Restyle
from .datasets import get_dataset
from .device import resolve_device
from .errors import InputError
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


@dataclass(frozen=True)
class Processes:
    """This process's place in a run: one process, or one of `world` under torchrun (ranks 0 .. world - 1)."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        """Rank 0: the only process that logs, evaluates and writes the weights, card and history."""
        return self.rank == 0

    @classmethod
    def from_env(cls) -> "Processes":
        """torchrun's RANK, WORLD_SIZE and LOCAL_RANK; a plain `python -m zoo train` is one process."""
        return cls(int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1)), int(os.environ.get("LOCAL_RANK", 0)))


def start_processes(device: str | torch.device | None) -> tuple[Processes, torch.device]:
    """Join torchrun's process group (gloo on the CPU, nccl on CUDA) and pick this process's device:
    cuda:LOCAL_RANK on CUDA, so each process of a machine drives its own GPU."""
    procs = Processes.from_env()
    dev = resolve_device(device)
    if procs.world == 1:
        return procs, dev
    if dev.type == "cuda":
        dev = torch.device("cuda", procs.local_rank)
        torch.cuda.set_device(dev)
    elif dev.type != "cpu":
        raise InputError(f"distributed training runs on cuda (nccl) or cpu (gloo), not {dev.type}; pass --device cpu or cuda")
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if dev.type == "cuda" else "gloo", device_id=dev if dev.type == "cuda" else None)
    return procs, dev


class Partners:
    """Pairs for a recipe's `pair_by`: for image i, a random *other* image with the same factor value
    (glyphs: another character of the same face). values: (N,) the factor of each image of the split."""

    def __init__(self, values: Tensor):
        self.order = torch.argsort(values, stable=True)  # images grouped by value
        _, counts = torch.unique_consecutive(values[self.order], return_counts=True)
        starts = counts.cumsum(0) - counts
        group = torch.repeat_interleave(torch.arange(len(counts)), counts)  # of each grouped position
        self.position = torch.empty_like(self.order)
        self.position[self.order] = torch.arange(len(values))  # image -> its grouped position
        self.start, self.count = starts[group[self.position]], counts[group[self.position]]

    def __call__(self, idx: Tensor, generator: torch.Generator) -> Tensor:
        """Partners of the images `idx`: uniform over the rest of each one's group (itself when alone in it)."""
        others = (self.count[idx] - 1).clamp(min=1)
        pick = self.start[idx] + (torch.rand(len(idx), generator=generator) * others).long()
        pick += (pick >= self.position[idx]) & (self.count[idx] > 1)  # step over the image itself
        return self.order[pick]


class _Objective(nn.Module):
    """The model's loss as a forward pass: DistributedDataParallel syncs gradients of what its forward computed."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, x: Tensor, y: Tensor, beta: float, generator: torch.Generator, partner=None, **options):
        if partner is not None:
            options["partner"] = partner
        return self.model.loss(x, y, beta=beta, generator=generator, **options)


def train(
    name: str,
    epochs: int | None = None,
    seed: int | None = None,
    device: str | torch.device | None = None,
    out: str | Path | None = None,
    limit: int | None = None,
    progress: bool = True,
    train_split: tuple[Tensor, Tensor] | None = None,
    test_split: tuple[Tensor, Tensor] | None = None,
    data_source: str | None = None,
    bf16: bool = False,
    train_factors: Tensor | None = None,
) -> TrainResult:
    """Train `name` with its recipe (`epochs` and `seed` override the recipe's) and save it to `out`.

    `out` defaults to the entry's bundled weights folder. `limit` caps the images per epoch and
    per evaluation (for smoke tests). Splits (images, labels) may be passed in, with `data_source`,
    the sentence the card records; otherwise they are loaded from the entry's dataset.

    Under `torchrun --nproc_per_node N` the same call trains with DistributedDataParallel: the
    recipe's batch size is the global one (each of the N processes takes batch_size / N of it, by a
    DistributedSampler), and rank 0 alone evaluates and writes. One process sees exactly the batches
    that N processes see together, so a deterministic model (an AE) ends with the same weights.
    `bf16` runs forward passes under bfloat16 autocast (CUDA only). A recipe with `pair_by` reads
    that factor of the training split from the dataset, or from `train_factors` (N, F) when the
    split is passed in.
    """
    spec = get_spec(name)
    overrides = {key: value for key, value in (("epochs", epochs), ("seed", seed)) if value is not None}
    recipe = dataclasses.replace(spec.recipe, **overrides)
    joined = not dist.is_initialized()  # the group this call starts, it also ends
    procs, dev = start_processes(device)
    if bf16 and dev.type != "cuda":
        raise InputError(f"bf16 autocast is for CUDA, and this run is on {dev}; drop --bf16 or pass --device cuda")
    if recipe.batch_size % procs.world:
        raise InputError(f"{name}: the batch size {recipe.batch_size} does not split over {procs.world} processes; "
                         f"use a number of processes that divides it")
    folder = Path(out) if out is not None else spec.bundled_dir
    dataset = get_dataset(spec.dataset)
    if train_split is None:
        train_split, data_source = dataset.load("train"), dataset.source("train")
    test_split = test_split if test_split is not None else dataset.load("test")
    data_source = data_source or f"{len(train_split[1])} {spec.dataset} images passed to train()"
    partners = _partners(spec, recipe, dataset, train_split, train_factors)
    progress = progress and procs.main

    restyle = Restyle(**recipe.restyle) if recipe.restyle is not None else None

    torch.manual_seed(recipe.seed)
    model = spec.model_class()(**spec.config)
    run = {}  # what the card records of this run beyond the recipe
    if recipe.init:
        start = _init_weights(spec, recipe.init)
        model.load_state_dict(start.state_dict())
        run["init_weights"] = _weights_record(start.weights_location)
    model = model.to(dev)
    objective = _Objective(model)
    if procs.world > 1:
        objective = nn.parallel.DistributedDataParallel(objective, device_ids=[dev.index] if dev.type == "cuda" else None)
    optimizer = torch.optim.Adam(model.parameters(), lr=recipe.lr)
    noise = torch.Generator(device=dev).manual_seed(recipe.seed + 1 + procs.rank)  # each process its own draws
    pairing = torch.Generator().manual_seed(recipe.seed + 2 + procs.rank)  # the partners' draws, on the CPU
    styling = torch.Generator().manual_seed(recipe.seed + 3 + procs.rank)  # the restyling's draws, on the CPU
    beta = recipe.beta if model.variational else 0.0

    images, labels = train_split
    n_train = len(labels) if limit is None else min(limit, len(labels))
    sampler = DistributedSampler(range(n_train), num_replicas=procs.world, rank=procs.rank, shuffle=True, seed=recipe.seed)
    loss_options = _tc_options(spec, recipe, model, n_train)
    per_process = recipe.batch_size // procs.world
    steps = math.ceil(len(sampler) / per_process)
    schedule = (torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=recipe.epochs * steps)
                if recipe.lr_schedule == "cosine" else None)
    history = []
    if procs.main:
        log.info("training %s on %s%s for %d epochs (%s)", name, dev,
                 f" × {procs.world} processes" if procs.world > 1 else "", recipe.epochs, data_source)
    for epoch in range(1, recipe.epochs + 1):
        model.train()
        sampler.set_epoch(epoch)
        start, sums = time.perf_counter(), torch.zeros(4)
        bar = tqdm(BatchSampler(sampler, per_process, drop_last=False), total=steps,
                   desc=f"{name} {epoch}/{recipe.epochs}", disable=None if progress else True, leave=False)
        for idx in bar:
            x, y = images[idx].to(dev), labels[idx].to(dev)
            partner = None
            if partners is not None:
                other = partners(torch.as_tensor(idx), pairing)
                partner = (images[other].to(dev), labels[other].to(dev))
            if restyle is not None:  # one draw per image, shared with its partner
                if partner is None:
                    (x,) = restyle(x, generator=styling)
                else:
                    x, x2 = restyle(x, partner[0], generator=styling)
                    partner = (x2, partner[1])
            with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=bf16):
                parts = objective(x, y, beta, noise, partner, **loss_options)
            optimizer.zero_grad(set_to_none=True)
            parts.total.backward()
            optimizer.step()
            if schedule is not None:
                schedule.step()
            sums += torch.tensor([*(p.detach().float().item() for p in parts), 1.0]) * len(x)
            bar.set_postfix(loss=f"{parts.total.item():.1f}")
        if procs.world > 1:
            dist.all_reduce(sums)  # the epoch's loss over every process's images
        train_loss, train_recon, train_kl = (sums[:3] / sums[3]).tolist()
        if not procs.main:
            continue
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

    if procs.main:
        run |= {"processes": procs.world, "bf16": bf16} if procs.world > 1 or bf16 else {}
        save(model.eval(), spec, folder, recipe=recipe, history=history, data_source=data_source, device=dev, **run)
    if procs.world > 1:
        dist.barrier()  # the others wait until rank 0 has written
        if joined:  # a gloo process that exits with its group alive can abort the others ("terminate called ...")
            dist.destroy_process_group()
    return TrainResult(name, folder, history, data_source)


def _partners(spec: ModelSpec, recipe, dataset, train_split, train_factors: Tensor | None) -> Partners | None:
    """The recipe's pairing (`pair_by`), checked: a conditional model, a factor the dataset has."""
    if not recipe.pair_by:
        return None
    if not spec.conditional:
        raise InputError(f"{spec.name}: pair_by={recipe.pair_by!r} decodes an image's code under its partner's label, "
                         f"so it needs a conditional model, and {spec.family} is not one; drop pair_by from the recipe")
    if recipe.pair_by not in dataset.factor_names:
        raise InputError(f"{spec.name}: pair_by={recipe.pair_by!r} is not a factor of {spec.dataset} "
                         f"(its factors: {', '.join(dataset.factor_names) or 'none'})")
    factors = train_factors if train_factors is not None else dataset.factors("train")
    if len(factors) != len(train_split[1]):
        raise InputError(f"{spec.name}: {len(factors)} rows of factors for {len(train_split[1])} training images")
    return Partners(factors[:, dataset.factor_names.index(recipe.pair_by)])


def _init_weights(spec: ModelSpec, init: str) -> nn.Module:
    """The recipe's `init`, checked: an entry of the same architecture, its weights loaded (bundled or Hub) on the CPU."""
    from .weights import create_model

    start = get_spec(init)
    if (start.family, start.model_args) != (spec.family, spec.model_args):
        raise InputError(f"{spec.name}: init={init!r} is a {start.family} with {start.model_args}, and {spec.name} is a "
                         f"{spec.family} with {spec.model_args}; fine-tuning starts from the same architecture")
    return create_model(init, pretrained=True, device="cpu")


def _weights_record(location) -> dict:
    """Which weights a fine-tuning started from: where they came from and model.safetensors' sha256."""
    from .download import sha256_of
    from .weights import WEIGHTS_FILE

    return {"source": location.source, "sha256": sha256_of(location.folder / WEIGHTS_FILE)}


def _tc_options(spec: ModelSpec, recipe, model: nn.Module, n_train: int) -> dict:
    """The loss's β-TCVAE arguments for a recipe with `tc_beta`, checked: a family whose loss takes them."""
    if recipe.tc_beta is None:
        return {}
    if "tc_beta" not in inspect.signature(model.loss).parameters:
        raise InputError(f"{spec.name}: tc_beta={recipe.tc_beta} weighs the total correlation of a VAE's code, and the "
                         f"{spec.family} family's loss has no such term; drop tc_beta from the recipe or use the vae family")
    return {"tc_beta": recipe.tc_beta, "dataset_size": n_train}


def save(model, spec: ModelSpec, folder: Path, *, recipe, history: list[dict], data_source: str, device, **run) -> None:
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
        **run,  # init_weights for a fine-tuning; processes and bf16 for a torchrun or mixed-precision run
    }
    cards.write_card(spec, folder, training=info)
