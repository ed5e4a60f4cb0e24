"""`zoo eval` on a few test images: every metric present, finite and consistent."""

import math

import pytest
import torch

import zoo
from zoo.classifier import JUDGES, classifier_dir
from zoo.evaluate import cycle_mse, evaluate, importance_weighted_nll, prior_sample_accuracy

NAMES = zoo.list_models()


def shipped_or_loaded_test_split(dataset: str, n: int = 64) -> tuple[torch.Tensor, torch.Tensor]:
    images, labels = zoo.get_dataset(dataset).load("test")
    return images[:n], labels[:n]


@pytest.mark.parametrize("name", NAMES)
def test_evaluate_metrics(name):
    spec = zoo.get_spec(name)
    try:
        test = shipped_or_loaded_test_split(spec.dataset)
    except RuntimeError as exc:
        pytest.skip(f"no offline copy of {spec.dataset}: {exc}")
    metrics = evaluate(name, k=8, write_card=False, test_split=test)
    assert metrics["test_images"] == 64
    assert 0 < metrics["recon_nats"] < math.prod(spec.input_shape) * math.log(2) * 2  # under 2 ln 2 nats a pixel
    assert 0 <= metrics["mse_per_pixel"] < 0.1
    assert 0 <= metrics["active_units"] <= spec.latent_dim
    if not spec.variational:
        assert "kl_nats" not in metrics and "nll_iw_nats" not in metrics
    else:
        assert metrics["kl_nats"] > 0
        assert metrics["neg_elbo_nats"] == pytest.approx(metrics["recon_nats"] + metrics["kl_nats"], abs=1e-3)
        assert metrics["nll_iw_nats"] <= metrics["neg_elbo_nats"] + 1.0  # a tighter bound than the ELBO
    if spec.conditional and not zoo.get_dataset(spec.dataset).render:  # a rendered dataset has the truth, not a judge
        assert metrics["classifier_accuracy"] > 0.8
        assert 0.1 < metrics["label_swap_accuracy"] <= 1.0
        assert 0.1 < metrics["prior_sample_accuracy"] <= 1.0
        assert 0 <= metrics["cycle_mse_per_pixel"] < 0.2
        for judge in JUDGES:  # every judge shipped for the dataset reports; the project's always is
            suffix = "" if judge == "project" else f"_{judge}"
            shipped = (classifier_dir(spec.dataset, judge) / "model.safetensors").is_file()
            assert (f"label_swap_accuracy{suffix}" in metrics) == shipped
            assert (f"prior_sample_accuracy{suffix}" in metrics) == shipped


class TemplateCVAE(torch.nn.Module):
    """A made-up CVAE on 4×4 images: a class is a template, the style one number (a brightness
    added everywhere). `keeps_style=False` decodes the template alone, dropping the code."""

    def __init__(self, keeps_style: bool):
        super().__init__()
        self.templates = torch.eye(16)[:4].reshape(4, 1, 4, 4)  # class c lights pixel c
        self.num_classes, self.latent_dim, self.keeps_style = 4, 1, keeps_style
        self.anchor = torch.nn.Parameter(torch.zeros(1))  # sample_prior finds the device through parameters

    def encode(self, x, y):
        return zoo.distributions.DiagonalGaussian((x - self.templates[y]).mean(dim=(1, 2, 3))[:, None], torch.ones(len(x), 1))

    def decode(self, z, y):
        return self.templates[y] + (z[:, :, None, None] if self.keeps_style else 0)

    def sample_prior(self, n, generator=None):
        return torch.randn(n, 1, generator=generator) * 0.1


def template_classifier(x):
    """Logits that pick the template whose pixel is brightest relative to the image's mean."""
    return (x - x.mean(dim=(1, 2, 3), keepdim=True)).flatten(1)[:, :4]


@torch.inference_mode()
def test_the_swap_cycle_sees_a_dropped_style():
    y = torch.arange(4).repeat(8)
    x = TemplateCVAE(True).templates[y] + torch.linspace(0, 0.5, 32)[:, None, None, None]  # (32, 1, 4, 4): 32 styles
    assert cycle_mse(TemplateCVAE(True), (x, y), "cpu") == pytest.approx(0, abs=1e-12)  # the style comes back
    dropped = cycle_mse(TemplateCVAE(False), (x, y), "cpu")
    assert dropped == pytest.approx(torch.linspace(0, 0.5, 32).square().mean().item(), rel=1e-5)  # it never does


@torch.inference_mode()
def test_prior_samples_are_judged_by_the_label_asked_for():
    assert prior_sample_accuracy(TemplateCVAE(True), template_classifier, "cpu", per_label=50) == 1.0

    class IgnoresLabel(TemplateCVAE):
        def decode(self, z, y):
            return super().decode(z, torch.zeros_like(y))  # always draws class 0

    assert prior_sample_accuracy(IgnoresLabel(True), template_classifier, "cpu", per_label=50) == 0.25


@pytest.mark.parametrize("name", [n for n in NAMES if zoo.get_spec(n).family == "vae"][:1])
@torch.inference_mode()
def test_importance_sampling_tightens_with_k(name):
    spec = zoo.get_spec(name)
    model = zoo.create_model(name)
    x = zoo.create_model(name).decode(torch.randn(64, spec.latent_dim, generator=torch.Generator().manual_seed(0)))
    x = (x > 0.5).float() * 0.9 + 0.05  # sharp, plausible images
    posterior = model.encode(x)
    one = importance_weighted_nll(model, posterior, x, None, 1, torch.Generator().manual_seed(1)).mean()
    many = importance_weighted_nll(model, posterior, x, None, 32, torch.Generator().manual_seed(1)).mean()
    assert many < one


# The quality bar of issue 2, as measured by `python -m zoo eval` and recorded in the model cards
# (the full test split; recomputing it here would take minutes, so this checks the record).
QUALITY_TARGETS = {
    "vae_conv_z16.fashion_mnist": {"neg_elbo_nats": ("<", 242.3), "mse_per_pixel": ("<", 0.0132)},
    # Issue 13: swaps right under both judges, prior samples of the asked class; the cycle is recorded beside.
    "cvae_conv_z16.fashion_mnist": {"label_swap_accuracy": (">=", 0.88), "label_swap_accuracy_plain": (">=", 0.88),
                                    "prior_sample_accuracy": (">=", 0.85), "prior_sample_accuracy_plain": (">=", 0.85),
                                    "cycle_mse_per_pixel": ("<", 0.03)},
    "cvae_conv_z8.mnist": {"label_swap_accuracy": (">=", 0.90)},
    # Issue 11: swaps read as the asked character (its style gain, 0.37 paired, is short of the 0.5 target: README).
    "cvae_conv_z32.glyphs": {"label_swap_accuracy": (">=", 0.9), "label_swap_accuracy_plain": (">=", 0.9)},
    # Issue 12: the true label swap (renderings of the same factors under the other shapes).
    "cvae_conv_z10.shapes": {"style_gain": (">=", 0.7)},
    "cvae_conv_z10.shapes_rgb": {"style_gain": (">=", 0.7)},
}


@pytest.mark.parametrize("name", sorted(QUALITY_TARGETS))
def test_recorded_quality_meets_the_targets(name):
    from zoo.cards import read_record

    spec = zoo.get_spec(name)
    metrics = read_record(spec.bundled_dir).get("metrics", {})
    assert metrics.get("test_images", 0) >= 1000, f"evaluate {name} on its whole test split"
    for key, (op, bound) in QUALITY_TARGETS[name].items():
        value = metrics[key]
        assert (value < bound) if op == "<" else (value >= bound), f"{name}: {key} = {value}, target {op} {bound}"


def test_recorded_shapes_sweep_rises_with_beta_up_to_a_point():
    """Issue 12's β sweep on shapes, as `vae-zoo eval` recorded it: MIG higher at the best β than at β = 1, and
    lower again at the largest (too much pressure to the prior drops factors); every step has a FactorVAE score."""
    from zoo.cards import read_record

    sweep = {zoo.get_spec(n).recipe.beta: read_record(zoo.get_spec(n).bundled_dir).get("metrics", {})
             for n in ["vae_conv_z10.shapes", *zoo.list_models("betavae_conv_z10_beta*.shapes")]}
    if not all(m.get("test_images", 0) >= 10_000 for m in sweep.values()):
        pytest.skip("the shapes sweep is not all evaluated on its test split")
    mig = {beta: m["mig"] for beta, m in sorted(sweep.items())}
    best = max(mig, key=mig.get)
    assert mig[best] > mig[1.0] and best < max(mig) and mig[max(mig)] < mig[best], mig
    assert all(0 < m["factor_vae_score"] <= 1 for m in sweep.values())


def test_a_limit_takes_images_evenly_spaced_over_the_split():
    """A split stored class by class (glyphs: face by face) is all seen: `limit` images from its whole length."""
    test = shipped_or_loaded_test_split("mnist", 100)
    order = test[1].argsort(stable=True)  # sorted by label: the first 20 images would be zeros only
    by_label = (test[0][order], test[1][order])
    limited = evaluate("ae_conv_z2.mnist", write_card=False, test_split=by_label, limit=20)
    spaced = torch.linspace(0, 99, 20).round().long()
    whole = evaluate("ae_conv_z2.mnist", write_card=False, test_split=(by_label[0][spaced], by_label[1][spaced]))
    assert limited["test_images"] == 20 and "20 of its 100 images, evenly spaced" in limited["test_source"]
    assert limited["mse_per_pixel"] == pytest.approx(whole["mse_per_pixel"])
    assert len(set(by_label[1][spaced].tolist())) == len(set(test[1].tolist()))  # every label
