"""The style metrics on constructed models: one that draws the class mean scores 0, one that draws the truth 1."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from zoo import Dataset, Framing
from zoo.evaluate import style_metrics_of
from zoo.style_metrics import NearestFace, class_means, style_swap_metrics

K = 6  # labels


def random_faces(n: int, seed: int = 0) -> torch.Tensor:
    """(n, K, 1, 16, 16): each face a style (a stroke width) drawn over each label's shape (a bar position)."""
    g = torch.Generator().manual_seed(seed)
    faces = torch.zeros(n, K, 1, 16, 16)
    for f in range(n):
        width = 1 + f % 4
        for label in range(K):
            faces[f, label, 0, 2 + label: 2 + label + width, 2:14] = 0.5 + 0.5 * torch.rand(1, generator=g)
    return faces


class ClassMeanModel(torch.nn.Module):
    """Ignores the style: draws the mean image of the asked label."""

    def __init__(self, means):
        super().__init__()
        self.register_buffer("means", means)

    def encode(self, x, y):
        return SimpleNamespace(mean=torch.zeros(len(x), 2))

    def decode(self, z, y):
        return self.means[y]


def test_a_model_that_ignores_the_style_scores_zero():
    train, test = random_faces(8, 0), random_faces(5, 1)
    means = class_means(train.flatten(0, 1), torch.arange(K).repeat(8), K)
    metrics = style_swap_metrics(ClassMeanModel(means), test, means)
    assert metrics["style_gain"] == pytest.approx(0.0, abs=1e-6)
    assert metrics["face_code_gain"] == pytest.approx(0.0, abs=1e-6)
    assert metrics["swap_mse"] == pytest.approx(metrics["class_mean_mse"])
    assert metrics["style_faces"] == 5


def test_a_model_that_draws_the_truth_scores_one():
    test = random_faces(5, 1)
    means = class_means(random_faces(8, 0).flatten(0, 1), torch.arange(K).repeat(8), K)
    metrics = style_swap_metrics(NearestFace(test), test, means)
    assert metrics["style_gain"] == pytest.approx(1.0) and metrics["face_code_gain"] == pytest.approx(1.0)
    assert metrics["swap_mse"] == 0
    assert metrics["swap_ssim"] == pytest.approx(1.0) and metrics["recon_ssim"] == pytest.approx(1.0)


def test_a_blurred_truth_scores_in_between():
    test = random_faces(5, 1)
    means = class_means(random_faces(8, 0).flatten(0, 1), torch.arange(K).repeat(8), K)
    oracle = NearestFace(test)
    blurred = SimpleNamespace(encode=oracle.encode,
                              decode=lambda z, y: 0.5 * oracle.decode(z, y) + 0.5 * means[y])
    metrics = style_swap_metrics(blurred, test, means)
    assert 0.5 < metrics["style_gain"] < 1 and metrics["swap_ssim"] < 1
    assert 0.5 < metrics["face_code_gain"] < 1


def test_the_nearest_training_face_is_a_lookup_between_the_class_mean_and_the_truth():
    """The training faces have the test faces' stroke widths but other inks: the nearest one draws the right
    width in a wrong ink, better than the class mean, short of the truth."""
    train, test = random_faces(8, 0), random_faces(5, 1)
    means = class_means(train.flatten(0, 1), torch.arange(K).repeat(8), K)
    lookup = NearestFace(train)
    widths = lambda faces: (faces > 0).flatten(2).sum(2)[:, 0] // 12  # noqa: E731 (each face's stroke width)
    assert widths(lookup.decode(lookup.encode(test[:, 0], torch.zeros(5, dtype=torch.long)).mean, torch.zeros(5, dtype=torch.long))).tolist() \
        == widths(test).tolist()
    metrics = style_swap_metrics(lookup, test, means)
    assert 0.5 < metrics["style_gain"] < 1


def test_the_whole_face_code_averages_out_what_one_glyph_gets_wrong():
    """Each glyph's code is its face's style plus an error that differs by label: its own swaps carry the
    error, the face's average code does not."""
    test = random_faces(4, 1)
    means = class_means(random_faces(8, 0).flatten(0, 1), torch.arange(K).repeat(8), K)
    styles = torch.arange(4).float()[:, None] * 2 + 1  # a face's true code
    error = torch.linspace(-2, 2, K)[:, None]  # the one-glyph reading's error, by label (up to a face away); sums to 0

    class Noisy:
        def encode(self, x, y):
            face = next(f for f in range(4) if torch.equal(x, test[f]))
            return SimpleNamespace(mean=styles[face] + error[y])

        def decode(self, z, y):
            face = ((z[:, 0] - 1) / 2).round().clamp(0, 3).long()  # the nearest face's code
            return test[face, y]

    metrics = style_swap_metrics(Noisy(), test, means)
    assert metrics["face_code_gain"] == pytest.approx(1.0) and metrics["style_gain"] < 1


def test_class_means_average_each_label():
    images = torch.arange(6.0).view(6, 1, 1, 1)
    means = class_means(images, torch.tensor([0, 1, 0, 1, 2, 2]), 4)
    assert means.flatten().tolist() == [1.0, 2.0, 4.5, 0.0]


def test_evaluate_groups_a_face_dataset_into_complete_sets():
    """Faces stored in any order are regrouped by their face factor and label before they are scored."""
    train, test = random_faces(8, 0), random_faces(5, 1)
    order = torch.randperm(5 * K, generator=torch.Generator().manual_seed(3))
    labels = torch.arange(K).repeat(5)
    face_ids = torch.arange(5).repeat_interleave(K)

    def loader(split):
        if split == "train":
            return train.flatten(0, 1), torch.arange(K).repeat(8)
        return test.flatten(0, 1)[order], labels[order]

    dataset = Dataset(name="faces", input_shape=(1, 16, 16), label_names=tuple("abcdef"), description="constructed faces",
                      framing=Framing(box=12, centring="box"), loader=loader, factor_names=("face",),
                      factor_loader=lambda split: torch.arange(8).repeat_interleave(K)[:, None] if split == "train"
                      else face_ids[order, None])
    metrics = style_metrics_of(NearestFace(test), dataset, max_faces=3)
    assert metrics["style_faces"] == 3 and metrics["style_gain"] == pytest.approx(1.0)
    assert 0 < metrics["nearest_face_style_gain"] < 1  # the lookup over the training faces, beside it


def test_label_swap_accuracy_reads_every_batch_of_the_split():
    """A split that is not a whole number of batches, with a model whose swaps are always right: 1.0."""
    from zoo.evaluate import label_swap_accuracy

    class Swapper:
        num_classes = 4

        def encode(self, x, y):
            assert len(x) == len(y)  # the images of the batch, with their labels
            return SimpleNamespace(mean=x.flatten(1)[:, :1])

        def decode(self, z, y):
            return torch.nn.functional.one_hot(y, 4).float().view(-1, 1, 2, 2)  # the label, drawn as a pixel

    images, labels = torch.rand(7, 1, 2, 2), torch.arange(7) % 4
    assert label_swap_accuracy(Swapper(), lambda x: x.flatten(1), (images, labels), "cpu", batch_size=3) == 1.0


def bar_dataset() -> Dataset:
    """A rendered dataset: factor (label, position); the label sets a bar's rows, the position its columns."""

    def render(factors):
        images = torch.zeros(len(factors), 1, 16, 16)
        for image, (label, position) in zip(images, factors.tolist()):
            image[0, 2 + 4 * label: 5 + 4 * label, position: position + 3] = 1.0
        return images

    grid = torch.cartesian_prod(torch.arange(3), torch.arange(12))  # (36, 2)
    splits = {"train": grid[::2], "test": grid[1::2]}
    return Dataset(name="bars", input_shape=(1, 16, 16), label_names=("top", "middle", "bottom"), description="bars",
                   framing=Framing(box=12, centring="box"), loader=lambda split: (render(splits[split]), splits[split][:, 0]),
                   factor_names=("shape", "position"), factor_loader=lambda split: splits[split], render=render,
                   label_factor="shape")


class BarOracle(torch.nn.Module):
    """Reads the bar's position off the image and renders it under the asked label."""

    def __init__(self, dataset):
        super().__init__()
        self.dataset = dataset

    def encode(self, x, y):
        return SimpleNamespace(mean=x.sum(dim=(1, 2)).argmax(1, keepdim=True).float())  # (B, 1): the first inked column

    def decode(self, z, y):
        return self.dataset.render(torch.stack([y, z[:, 0].long()], dim=1))


def test_a_rendered_dataset_scores_swaps_against_its_true_renderings():
    from zoo.evaluate import rendered_swap_metrics

    dataset = bar_dataset()
    truth = rendered_swap_metrics(BarOracle(dataset), dataset, count=10)
    assert truth["style_faces"] == 10 and truth["swap_mse"] == 0 and truth["style_gain"] == pytest.approx(1.0)
    means = class_means(*dataset.load("train"), 3)
    ignorant = rendered_swap_metrics(ClassMeanModel(means), dataset, count=10)
    assert ignorant["style_gain"] == pytest.approx(0.0, abs=1e-6)
    wrong_place = SimpleNamespace(encode=BarOracle(dataset).encode,
                                  decode=lambda z, y: BarOracle(dataset).decode((z + 3).clamp(max=11), y))
    assert rendered_swap_metrics(wrong_place, dataset, count=10)["style_gain"] < 0.5  # the style (position) missed
