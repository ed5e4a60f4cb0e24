"""A small CNN classifier per dataset: the judge of a CVAE's label swaps.

`python -m zoo eval` decodes test images under other labels and asks this classifier what it
sees. It ships like the zoo's models (config.json + model.safetensors + card) under
`weights/_classifiers/<dataset>/`; `python -m zoo train-classifier DATASET` rebuilds it.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import torch
from huggingface_hub import ModelCard, PyTorchModelHubMixin
from safetensors.torch import load_model as load_safetensors
from torch import Tensor, nn
from tqdm.auto import tqdm

from .datasets import get_dataset
from .device import resolve_device
from .registry import BUNDLED_WEIGHTS_DIR

log = logging.getLogger(__name__)
RECIPE = {"epochs": 12, "batch_size": 128, "lr": 1e-3, "seed": 0, "blur_p": 0.5}


def augmentation(p: float):
    """Half the batches blurred: decoded images are smooth, and the judge should read their shape,
    not their sharpness. Plus a small shift, as hand-drawn and decoded images are not centred to
    the pixel."""
    from torchvision.transforms import v2

    return v2.Compose([
        v2.RandomApply([v2.GaussianBlur(kernel_size=5, sigma=(0.3, 1.2))], p=p),
        v2.RandomAffine(degrees=0, translate=(0.07, 0.07)),
    ])


class Classifier(nn.Module, PyTorchModelHubMixin, library_name="vae-zoo", tags=["image-classification", "vae-zoo"]):
    def __init__(self, num_classes: int, input_shape: tuple[int, int, int]):
        super().__init__()
        c, h, w = input_shape
        shrink = max(1, h // 32)  # larger images (glyphs, 64×64) are averaged down to about 32 pixels first
        self.shrink = nn.AvgPool2d(shrink)  # (B, C, H/s, W/s); no parameters: 28×28 classifiers load as before
        self.net = nn.Sequential(
            nn.Conv2d(c, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # (B, 32, H/2s, W/2s)
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # (B, 64, H/4s, W/4s)
            nn.Flatten(), nn.Dropout(0.3),
            nn.Linear(64 * (h // shrink // 4) * (w // shrink // 4), 128), nn.ReLU(), nn.Dropout(0.3),
            nn.Linear(128, num_classes),
        )

    def forward(self, x: Tensor) -> Tensor:
        """x: (B, C, H, W) in [0, 1] -> logits (B, num_classes)."""
        return self.net(self.shrink(x))


def classifier_dir(dataset: str) -> Path:
    return BUNDLED_WEIGHTS_DIR / "_classifiers" / dataset


@torch.inference_mode()
def accuracy(model: Classifier, split: tuple[Tensor, Tensor], device: torch.device, batch_size: int = 1000) -> float:
    """The fraction of `split` (images, labels) that `model` labels right."""
    model.eval()
    images, labels = split
    correct = 0
    for start in range(0, len(labels), batch_size):
        x, y = images[start:start + batch_size].to(device), labels[start:start + batch_size].to(device)
        correct += (model(x).argmax(1) == y).sum().item()
    return correct / max(len(labels), 1)


def train_classifier(dataset: str, epochs: int | None = None, device=None, out: Path | None = None, progress: bool = True) -> Path:
    dev = resolve_device(device)
    epochs = epochs or RECIPE["epochs"]
    info = get_dataset(dataset)
    train, test = info.load("train"), info.load("test")
    train_images, train_labels = train
    torch.manual_seed(RECIPE["seed"])
    model = Classifier(info.num_classes, info.input_shape).to(dev)
    optimizer = torch.optim.Adam(model.parameters(), lr=RECIPE["lr"])
    shuffle = torch.Generator().manual_seed(RECIPE["seed"])
    augment = augmentation(RECIPE["blur_p"])
    for epoch in range(1, epochs + 1):
        model.train()
        start = time.perf_counter()
        order = torch.randperm(len(train_labels), generator=shuffle)
        for i in tqdm(range(0, len(train_labels), RECIPE["batch_size"]), desc=f"classifier {dataset} {epoch}/{epochs}",
                      disable=None if progress else True, leave=False):
            idx = order[i:i + RECIPE["batch_size"]]
            images = augment(train_images[idx].to(dev))  # (B, C, H, W); one draw of the transform per batch
            loss = nn.functional.cross_entropy(model(images), train_labels[idx].to(dev))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        log.info("classifier %s epoch %d: test accuracy %.4f (%.1fs)", dataset, epoch,
                 accuracy(model, test, dev), time.perf_counter() - start)
    test_accuracy = accuracy(model, test, dev)
    folder = Path(out) if out else classifier_dir(dataset)
    model.eval().to("cpu").save_pretrained(folder)
    ModelCard(
        f"---\nlibrary_name: vae-zoo\nlicense: mit\ntags: [image-classification, vae-zoo]\n---\n\n"
        f"# Classifier for {dataset}\n\nA small CNN that judges the zoo's label swaps (`python -m zoo eval`).\n\n"
        f"- Data: {info.source('train')}\n- Recipe: {RECIPE | {'epochs': epochs}}\n"
        f"- Test accuracy: {test_accuracy:.4f} on {len(test[1])} test images\n\n"
        f"Rebuild with `python -m zoo train-classifier {dataset}`.\n"
    ).save(folder / "README.md")
    return folder


def load_classifier(dataset: str, device=None) -> Classifier:
    folder = classifier_dir(dataset)
    if not (folder / "model.safetensors").is_file():
        raise FileNotFoundError(f"no classifier for {dataset} at {folder}; run `python -m zoo train-classifier {dataset}`")
    dev = resolve_device(device)
    model = Classifier(**json.loads((folder / "config.json").read_text()))
    load_safetensors(model, str(folder / "model.safetensors"), strict=True, device=str(dev))
    return model.to(dev).eval().requires_grad_(False)
