"""Evaluation on the test split: `python -m zoo eval NAME`, results written into the model card.

Metrics (nats per image, Bernoulli likelihood on grey [0, 1] pixels, no binarisation):
  recon_nats, mse_per_pixel, kl_nats, neg_elbo_nats = recon + KL (one z sample per image);
  nll_iw_nats, the importance-weighted estimate of −log p(x) with k samples (Burda et al. 2015,
  https://arxiv.org/abs/1509.00519), for VAE and CVAE; active_units, dimensions whose posterior
  mean varies across the data (Cov > 0.01); and for a CVAE:
  - label_swap_accuracy: every test image's style decoded under every label, judged by the project's
    classifier; label_swap_accuracy_plain, the same swaps judged by the plain classifier (trained with
    no augmentation, zoo/classifier.py), where one is shipped;
  - prior_sample_accuracy (and _plain): codes from the prior N(0, I) decoded under each label;
  - cycle_mse_per_pixel, a style measure with no judge: swap x to label t, encode that under t,
    decode under x's own label, and compare with x (next to mse_per_pixel, the plain reconstruction's);
  - on a dataset whose images come in complete sets per face (glyphs), the swaps against the true
    glyphs (zoo/style_metrics.py: style gain, swap MSE and SSIM next to the reconstructions' SSIM);
  - on a rendered dataset whose label is one of its factors (shapes), the same against the true
    renderings: seeded test images re-rendered under every label, the other factors kept.
And on a rendered dataset with known factors (shapes, shapes_rgb), for every family: MIG and the
FactorVAE score (zoo/disentanglement.py, disentanglement_lib's definitions) and, for each latent
dimension, the factor it carries most (`dimension_factors`, which the app's Traverse tab shows).
"""

from __future__ import annotations

import logging
import math

import torch

from . import cards
from .classifier import JUDGES, accuracy, load_classifier
from .datasets import get_dataset
from .distributions import standard_normal_log_prob
from .layers import bernoulli_nll
from .registry import get_spec
from .style_metrics import in_chunks
from .train import batches
from .weights import create_model

log = logging.getLogger(__name__)
ACTIVE_UNIT_THRESHOLD = 0.01


@torch.inference_mode()
def evaluate(name: str, k: int = 64, device=None, limit: int | None = None, batch_size: int = 250,
             write_card: bool = True, test_split: tuple[torch.Tensor, torch.Tensor] | None = None, seed: int = 0,
             test_source: str | None = None, style_faces: int = 24, swap_sets: int = 1000) -> dict:
    """Measure `name` on its test split. `k` importance samples for the NLL; `limit` takes that many images, evenly spaced.

    `test_split` (images, labels) replaces the dataset's test split, `test_source` says where it came from.
    `style_faces`: how many held-out faces (seeded) the style metrics of a face dataset use; `swap_sets`:
    how many test images (seeded) a rendered dataset's true label swaps re-render under every label."""
    own_test_split = test_split is None
    spec = get_spec(name)
    model = create_model(name, device=device)
    location = model.weights_location  # the folder the model came from: its card gets the results
    dev = next(model.parameters()).device
    dataset = get_dataset(spec.dataset)
    if test_split is None:
        test_split, test_source = dataset.load("test"), dataset.source("test")
    images, labels = test_split
    test_source = test_source or f"{len(labels)} {spec.dataset} images passed to evaluate()"
    chosen = torch.arange(len(labels))
    if limit is not None and limit < len(labels):  # evenly spaced, so a split stored class by class (or face by face) is all seen
        chosen = torch.linspace(0, len(labels) - 1, limit).round().long()
        images, labels = images[chosen], labels[chosen]
        test_source += f"; {limit} of its {len(test_split[1])} images, evenly spaced (--limit)"
    n = len(labels)
    generator = torch.Generator(device=dev).manual_seed(seed)
    variational = model.variational

    sums = {"recon": 0.0, "mse": 0.0, "kl": 0.0, "nll": 0.0}
    means = []
    for start in range(0, n, batch_size):
        x = images[start:min(start + batch_size, n)].to(dev)
        y = labels[start:min(start + batch_size, n)].to(dev)
        posterior = model.encode(x, y)
        means.append(posterior.mean.cpu())
        z = posterior.sample(generator) if variational else posterior.mean
        sums["recon"] += bernoulli_nll(model.decode_logits(z, y), x).sum().item()
        sums["mse"] += (model.decode(posterior.mean, y) - x).square().mean(dim=(1, 2, 3)).sum().item()
        if variational:
            sums["kl"] += posterior.kl().sum().item()
            sums["nll"] += importance_weighted_nll(model, posterior, x, y, k, generator).sum().item()

    codes = torch.cat(means)  # (N, latent_dim)
    metrics = {
        "recon_nats": sums["recon"] / n,
        "mse_per_pixel": sums["mse"] / n,
        "kl_nats": sums["kl"] / n if variational else None,
        "neg_elbo_nats": (sums["recon"] + sums["kl"]) / n if variational else None,
        "nll_iw_nats": sums["nll"] / n if variational else None,
        "nll_iw_samples": k if variational else None,
        "active_units": int((codes.var(dim=0) > ACTIVE_UNIT_THRESHOLD).sum()),
        "test_images": n,
        "test_source": test_source,
        "weights": location.source,
    }
    if spec.conditional:
        subset = (images[:n], labels[:n])
        for judge in JUDGES:
            suffix = "" if judge == "project" else f"_{judge}"
            try:
                classifier = load_classifier(spec.dataset, device=dev, judge=judge)
            except FileNotFoundError:
                # A rendered dataset has the truth itself (the true label swap below): no judge is needed.
                if judge == "project" and not (dataset.render is not None and dataset.label_factor):
                    raise
                log.info("no %s classifier for %s: its accuracies are left out", judge, spec.dataset)
                continue
            metrics[f"classifier_accuracy{suffix}"] = accuracy(classifier, subset, dev)
            metrics[f"label_swap_accuracy{suffix}"] = label_swap_accuracy(model, classifier, subset, dev, batch_size)
            metrics[f"prior_sample_accuracy{suffix}"] = prior_sample_accuracy(model, classifier, dev, seed=seed)
        metrics["cycle_mse_per_pixel"] = cycle_mse(model, subset, dev, batch_size)
        if own_test_split and "face" in dataset.factor_names:
            metrics.update(style_metrics_of(model, dataset, style_faces, seed, dev))
        elif own_test_split and dataset.render is not None and dataset.label_factor:
            metrics.update(rendered_swap_metrics(model, dataset, swap_sets, seed, dev))
    if own_test_split and dataset.render is not None and dataset.factor_names:
        from .disentanglement import disentanglement_metrics

        factors = dataset.factors("test")[chosen].numpy()
        metrics.update(disentanglement_metrics(codes.numpy(), factors, dataset.factor_names, seed=seed))
    metrics = {key: (round(v, 5) if isinstance(v, float) else v) for key, v in metrics.items() if v is not None}
    if write_card:
        cards.write_card(spec, location.folder, metrics=metrics)
    return metrics


def style_metrics_of(model, dataset, max_faces: int, seed: int = 0, device="cpu") -> dict:
    """The style metrics (zoo/style_metrics.py) on a seeded choice of `max_faces` test faces of a face
    dataset (one image of every label per face), with the training split's class means; and, on the same
    faces, those of `NearestFace` over the training faces (keys `nearest_face_*`), the lookup to beat."""
    from .style_metrics import NearestFace, class_means, style_swap_metrics

    test_faces = face_sets(dataset, "test")
    chosen = torch.randperm(len(test_faces), generator=torch.Generator().manual_seed(seed))[:max_faces].sort().values
    sets = test_faces[chosen]
    train = dataset.load("train")  # once: the class means and the lookup's faces
    means = class_means(*train, dataset.num_classes)
    result = style_swap_metrics(model, sets, means, device)
    lookup = style_swap_metrics(NearestFace(face_sets(dataset, "train", train)), sets, means, "cpu")
    reference = {f"nearest_face_{key}": lookup[key] for key in ("style_gain", "swap_mse", "swap_ssim")}
    return result | reference | {"style_faces_seed": seed}


def face_sets(dataset, split: str, loaded: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
    """(F, K, C, H, W): every face of `split` that has one image of each of the K labels, in face order, each
    face's images in label order (glyph k has label k). `loaded`: the split's (images, labels), if already loaded."""
    images, labels = loaded or dataset.load(split)
    face_ids = dataset.factors(split)[:, dataset.factor_names.index("face")]
    sets = []
    for face in face_ids.unique().tolist():  # sorted
        rows = torch.nonzero(face_ids == face).flatten()
        order = labels[rows].argsort()
        if labels[rows][order].tolist() == list(range(dataset.num_classes)):  # a complete set
            sets.append(images[rows[order]])
    return torch.stack(sets)


def rendered_swap_metrics(model, dataset, count: int, seed: int = 0, device="cpu") -> dict:
    """The style metrics (zoo/style_metrics.py) against the truth a renderer draws: `count` seeded test
    images, each rendered under every label with its other factors kept (its scale, orientation,
    position and colours for shapes), as a face of glyphs is drawn in every character."""
    from .style_metrics import class_means, style_swap_metrics

    factors = dataset.factors("test")
    chosen = torch.randperm(len(factors), generator=torch.Generator().manual_seed(seed))[:count].sort().values
    sets = dataset.render_every_label(factors[chosen])  # (count, K, C, H, W)
    train_images, train_labels = dataset.load("train")
    result = style_swap_metrics(model, sets, class_means(train_images, train_labels, dataset.num_classes), device)
    return result | {"style_faces_seed": seed}


def importance_weighted_nll(model, posterior, x, y, k: int, generator=None) -> torch.Tensor:
    """−log p(x) ≈ −log (1/k) Σⱼ p(x|zⱼ) p(zⱼ) / q(zⱼ|x), zⱼ ~ q(z|x). Returns (B,), nats."""
    log_weights = []
    for _ in range(k):
        z = posterior.sample(generator)  # (B, D)
        log_px_z = -bernoulli_nll(model.decode_logits(z, y), x)
        log_weights.append(log_px_z + standard_normal_log_prob(z) - posterior.log_prob(z))
    log_w = torch.stack(log_weights)  # (k, B)
    return -(torch.logsumexp(log_w, dim=0) - math.log(k))


def label_swap_accuracy(model, classifier, split: tuple[torch.Tensor, torch.Tensor], device, batch_size: int = 250) -> float:
    """Encode each image of `split` (images, labels) with its own label, decode its style under every
    label, and count how often the classifier sees the label that was asked for. Chance is 1 / num_classes."""
    num_classes = model.num_classes
    correct, total = 0, 0
    for x, y in batches(split, batch_size):  # in order
        x, y = x.to(device), y.to(device)
        style = model.encode(x, y).mean  # (B, D)
        targets = torch.arange(num_classes, device=device).repeat_interleave(len(x))  # (L*B,)
        right = in_chunks(lambda z, t: classifier(model.decode(z, t)).argmax(1) == t, style.repeat(num_classes, 1), targets)
        correct += right.sum().item()  # the L*B decodings a chunk at a time: 62 labels × 250 glyphs would be 15,500 at once
        total += len(targets)
    return correct / max(total, 1)


def prior_sample_accuracy(model, classifier, device, per_label: int = 500, seed: int = 0, batch_size: int = 1000) -> float:
    """Decode `per_label` codes from the prior N(0, I) under every label (the same codes for each label),
    and count how often the classifier sees the label that was asked for."""
    codes = model.sample_prior(per_label, torch.Generator().manual_seed(seed))  # (P, D)
    targets = torch.arange(model.num_classes, device=device).repeat_interleave(per_label)  # (L*P,)
    all_codes = codes.repeat(model.num_classes, 1)  # (L*P, D)
    correct = 0
    for start in range(0, len(targets), batch_size):
        t = targets[start:start + batch_size]
        correct += (classifier(model.decode(all_codes[start:start + batch_size], t)).argmax(1) == t).sum().item()
    return correct / len(targets)


def cycle_mse(model, split: tuple[torch.Tensor, torch.Tensor], device, batch_size: int = 250) -> float:
    """The label-swap cycle, a style measure with no judge: encode x under its label y, decode under every
    other label t, encode that image under t, decode under y, and compare with x. Mean squared error per
    pixel over all (x, t ≠ y). A model that keeps the style comes back close to its plain reconstruction's
    error; one that drops it on the way comes back as its class's average."""
    num_classes = model.num_classes
    total, count = 0.0, 0
    for x, y in batches(split, batch_size):  # in order
        x, y = x.to(device), y.to(device)
        offsets = torch.arange(1, num_classes, device=device).repeat_interleave(len(x))  # (L-1)*B
        own = y.repeat(num_classes - 1)  # ((L-1)*B,)
        other = (own + offsets) % num_classes  # every label but the image's own
        style = model.encode(x, y).mean.repeat(num_classes - 1, 1)
        cycle = lambda z, t, y0: model.decode(model.encode(model.decode(z, t), t).mean, y0)  # x -> t -> back to y
        back = in_chunks(cycle, style, other, own)
        total += (back - x.repeat(num_classes - 1, 1, 1, 1)).square().mean(dim=(1, 2, 3)).sum().item()
        count += len(own)
    return total / max(count, 1)
