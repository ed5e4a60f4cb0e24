"""Small CNN classifiers per dataset: the judges of a CVAE's label swaps and prior samples.

`python -m zoo eval` decodes test images under other labels and asks a classifier what it sees.
A judge the project trains can be tuned until its own models look good, so every dataset has two,
with one architecture and two recipes (JUDGES):
  - "project": trained with blur and shifts, so that it reads a decoded image's shape rather than its
    sharpness (`weights/_classifiers/<dataset>/`);
  - "plain": the same network trained on the images as they are, no augmentation at all
    (`weights/_classifiers/<dataset>-plain/`). Decoded images are smoother than real ones, so this
    judge is the harder one to please.
They ship like the zoo's models (config.json + model.safetensors + card);
`python -m zoo train-classifier DATASET [--judge plain]` rebuilds one.
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
RECIPE = {"epochs": 12, "batch_size": 128, "lr": 1e-3, "seed": 0, "blur_p": 0.5, "shift": 0.07}
JUDGES = {"project": RECIPE, "plain": RECIPE | {"blur_p": 0.0, "shift": 0.0}}  # same network, same seed


def augmentation(blur_p: float, shift: float):
    """`blur_p` of the batches blurred: decoded images are smooth, and the judge should read their
    shape, not their sharpness. Plus a small shift, as hand-drawn and decoded images are not centred
    to the pixel. Nothing at all for the plain judge."""
    from torchvision.transforms import v2

    steps = []
    if blur_p > 0:
        steps.append(v2.RandomApply([v2.GaussianBlur(kernel_size=5, sigma=(0.3, 1.2))], p=blur_p))
    if shift > 0:
        steps.append(v2.RandomAffine(degrees=0, translate=(shift, shift)))
    return v2.Compose(steps) if steps else nn.Identity()


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


JUDGE_NOTES = {
    "project": "Trained with blur (half the batches) and small shifts, to read a decoded image's shape, not its sharpness.",
    "plain": "Trained on the images as they are, no augmentation: a judge nobody tuned for decoded images.",
}


def check_judge(judge: str) -> str:
    if judge not in JUDGES:
        raise ValueError(f"unknown judge {judge!r}: choose one of {', '.join(JUDGES)}")
    return judge


def classifier_dir(dataset: str, judge: str = "project") -> Path:
    suffix = "" if check_judge(judge) == "project" else f"-{judge}"
    return BUNDLED_WEIGHTS_DIR / "_classifiers" / f"{dataset}{suffix}"


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


def train_classifier(dataset: str, epochs: int | None = None, device=None, out: Path | None = None, progress: bool = True,
                     judge: str = "project") -> Path:
    recipe = JUDGES[check_judge(judge)]
    dev = resolve_device(device)
    epochs = epochs or recipe["epochs"]
    info = get_dataset(dataset)
    train, test = info.load("train"), info.load("test")
    train_images, train_labels = train
    torch.manual_seed(recipe["seed"])
    model = Classifier(info.num_classes, info.input_shape).to(dev)
    optimizer = torch.optim.Adam(model.parameters(), lr=recipe["lr"])
    shuffle = torch.Generator().manual_seed(recipe["seed"])
    augment = augmentation(recipe["blur_p"], recipe["shift"])
    for epoch in range(1, epochs + 1):
        model.train()
        start = time.perf_counter()
        order = torch.randperm(len(train_labels), generator=shuffle)
        for i in tqdm(range(0, len(train_labels), recipe["batch_size"]), desc=f"classifier {dataset} {epoch}/{epochs}",
                      disable=None if progress else True, leave=False):
            idx = order[i:i + recipe["batch_size"]]
            images = augment(train_images[idx].to(dev))  # (B, C, H, W); one draw of the transform per batch
            loss = nn.functional.cross_entropy(model(images), train_labels[idx].to(dev))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        log.info("classifier %s epoch %d: test accuracy %.4f (%.1fs)", dataset, epoch,
                 accuracy(model, test, dev), time.perf_counter() - start)
    test_accuracy = accuracy(model, test, dev)
    folder = Path(out) if out else classifier_dir(dataset, judge)
    model.eval().to("cpu").save_pretrained(folder)
    ModelCard(
        f"---\nlibrary_name: vae-zoo\nlicense: mit\ntags: [image-classification, vae-zoo]\n---\n\n"
        f"# Classifier for {dataset} ({judge} judge)\n\nA small CNN that judges the zoo's label swaps and prior "
        f"samples (`python -m zoo eval`). {JUDGE_NOTES[judge]}\n\n"
        f"- Data: {info.source('train')}\n- Recipe: {recipe | {'epochs': epochs}}\n"
        f"- Test accuracy: {test_accuracy:.4f} on {len(test[1])} test images\n\n"
        f"Rebuild with `python -m zoo train-classifier {dataset} --judge {judge}`.\n"
    ).save(folder / "README.md")
    return folder


def load_classifier(dataset: str, device=None, judge: str = "project") -> Classifier:
    folder = classifier_dir(dataset, judge)
    if not (folder / "model.safetensors").is_file():
        raise FileNotFoundError(f"no {judge} classifier for {dataset} at {folder}; "
                                f"run `python -m zoo train-classifier {dataset} --judge {judge}`")
    dev = resolve_device(device)
    model = Classifier(**json.loads((folder / "config.json").read_text()))
    load_safetensors(model, str(folder / "model.safetensors"), strict=True, device=str(dev))
    return model.to(dev).eval().requires_grad_(False)
