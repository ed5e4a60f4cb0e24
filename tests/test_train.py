"""Training on tiny data: the loss goes down, runs are reproducible, and the folder is complete."""

import hashlib
import json

import pytest
import torch
from safetensors.torch import load_file

import zoo
from zoo.train import train


def tiny_split(n=64, seed=0):
    """Blobs of light pixels on a dark background, one position per label: easy to learn."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % 10
    images = torch.zeros(n, 1, 28, 28)
    for i, label in enumerate(labels.tolist()):
        r, c = 2 + (label // 5) * 10, 2 + (label % 5) * 4
        images[i, 0, r:r + 8, c:c + 8] = 0.7 + 0.3 * torch.rand(8, 8, generator=g)
    return images, labels


@pytest.mark.parametrize("name", ["ae_conv_z2.mnist", "vae_conv_z2.mnist", "cvae_conv_z8.mnist"])
def test_training_smoke(name, tmp_path):
    split = tiny_split()
    result = train(name, epochs=4, out=tmp_path, train_split=split, test_split=tiny_split(32, 1), progress=False,
                   data_source="synthetic blobs")
    losses = [row["train_loss"] for row in result.history]
    assert losses[-1] < losses[0]
    assert {p.name for p in tmp_path.iterdir()} >= {"config.json", "model.safetensors", "README.md"}
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["latent_dim"] == zoo.get_spec(name).latent_dim
    card = (tmp_path / "README.md").read_text()
    assert "synthetic blobs" in card and "| 4 |" in card


def test_training_is_reproducible(tmp_path):
    split = tiny_split()
    for run in ("a", "b"):
        train("vae_conv_z2.mnist", epochs=1, out=tmp_path / run, train_split=split, test_split=split, progress=False)
    a, b = load_file(tmp_path / "a" / "model.safetensors"), load_file(tmp_path / "b" / "model.safetensors")
    assert all(torch.equal(a[k], b[k]) for k in a)
    train("vae_conv_z2.mnist", epochs=1, seed=1, out=tmp_path / "c", train_split=split, test_split=split, progress=False)
    c = load_file(tmp_path / "c" / "model.safetensors")
    assert not all(torch.equal(a[k], c[k]) for k in a)  # another seed, another run
    assert "| 1 | cpu |" in (tmp_path / "c" / "README.md").read_text()  # the card's recipe row: seed 1


def test_cli_train_and_list(tmp_path, capsys, monkeypatch):
    from zoo.__main__ import main

    assert main(["list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["name"] for r in rows} == set(zoo.list_models())
    assert set(rows[0]) == {"name", "family", "dataset", "latent_dim", "conditional", "label_names", "weights"}
    assert main(["list", "cvae*"]) == 0
    assert "cvae_conv_z8.mnist" in capsys.readouterr().out
    assert main(["eval", "no_such.model"]) == 2
    assert "unknown model" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------
# Paired training (a recipe's pair_by): the code of one image decoded as another of the same style

from zoo import Dataset, Framing, ModelSpec, Recipe, register_dataset, register_model  # noqa: E402
from zoo.errors import InputError  # noqa: E402
from zoo.layers import bernoulli_nll  # noqa: E402
from zoo.train import Partners  # noqa: E402

STROKES = 6  # labels: which row a bar is drawn on


def stroke_faces(num_faces: int, first: int = 0):
    """Faces of a made-up typeface: face f draws every label's bar (rows set by the label) with its own
    width and length (its style). Returns images (F * K, 1, 16, 16), labels, and the face of each image."""
    images = torch.zeros(num_faces * STROKES, 1, 16, 16)
    for f in range(num_faces):
        width, length = 1 + (first + f) % 3, 6 + 2 * ((first + f) // 3 % 4)
        for label in range(STROKES):
            images[f * STROKES + label, 0, 1 + 2 * label: 1 + 2 * label + width, 1: 1 + length] = 1.0
    labels = torch.arange(STROKES).repeat(num_faces)
    return images, labels, torch.arange(first, first + num_faces).repeat_interleave(STROKES)


@pytest.fixture
def stroke_dataset(isolated_registry):
    train_split, test_split = stroke_faces(12), stroke_faces(12, first=12)
    splits = {"train": train_split, "test": test_split}
    register_dataset(Dataset(
        name="strokes", input_shape=(1, 16, 16), label_names=tuple("abcdef"), description="made-up faces",
        framing=Framing(box=12, centring="box"), loader=lambda split: splits[split][:2],
        factor_names=("face",), factor_loader=lambda split: splits[split][2][:, None]))

    def register(name, family, pair_by="face", **recipe):
        args = dict(latent_dim=4, channels=[8, 16], hidden=32) | ({"num_classes": STROKES} if family == "cvae" else {})
        recipe = dict(epochs=60, batch_size=12, lr=3e-3, beta=0.5, pair_by=pair_by) | recipe
        register_model(name)(lambda: ModelSpec(family=family, dataset="strokes", model_args=args, recipe=Recipe(**recipe)))
    return register


def test_partners_share_the_factor_and_are_never_the_image_itself():
    values = torch.tensor([3, 1, 3, 3, 7, 1, 3])  # 7 is alone in its group
    partners = Partners(values)
    g = torch.Generator().manual_seed(0)
    idx = torch.arange(len(values)).repeat(200)
    picked = partners(idx, g)
    assert torch.equal(values[picked], values[idx])
    alone = values[idx] == 7
    assert torch.equal(picked[alone], idx[alone]) and not (picked[~alone] == idx[~alone]).any()
    for i in range(len(values)):  # every other member of the group is drawn
        others = {j for j in range(len(values)) if values[j] == values[i] and j != i} or {i}
        assert set(picked[idx == i].tolist()) == others
    again = partners(idx, torch.Generator().manual_seed(0))
    assert torch.equal(again, picked)  # seeded


def test_a_partner_adds_its_reconstruction_under_its_own_label():
    model = zoo.models.FAMILY_CLASSES["cvae"](latent_dim=4, num_classes=STROKES, input_shape=(1, 16, 16),
                                               channels=(8, 16), hidden=32)
    x, y, _ = stroke_faces(2)
    x2, y2 = x.flip(0), y.flip(0)
    paired = model.loss(x, y, beta=1.0, generator=torch.Generator().manual_seed(1), partner=(x2, y2))
    z = model.encode(x, y).sample(torch.Generator().manual_seed(1))
    expected = bernoulli_nll(model.decode_logits(z, y), x).mean() + bernoulli_nll(model.decode_logits(z, y2), x2).mean()
    assert paired.recon.item() == pytest.approx(expected.item(), rel=1e-5)
    assert paired.total.item() == pytest.approx((expected + model.encode(x, y).kl().mean()).item(), rel=1e-5)


def test_paired_training_makes_the_code_carry_the_style(stroke_dataset, tmp_path):
    """On unseen faces, a swap of a paired model draws the face's own bar under the other label (style
    gain 0.80 when written); the same model trained on the plain ELBO keeps the label in its code and
    draws worse than the class mean (−1.9): the glyph CVAE's story in miniature."""
    from zoo.evaluate import style_metrics_of

    gains = {}
    for pair_by in ("face", ""):
        name = f"cvae_{pair_by or 'plain'}.strokes"
        stroke_dataset(name, "cvae", pair_by=pair_by)
        torch.manual_seed(0)
        result = train(name, out=tmp_path / name, progress=False)
        assert result.history[-1]["train_loss"] < result.history[0]["train_loss"]
        assert ("Paired by **face**" in (tmp_path / name / "README.md").read_text()) == bool(pair_by)
        model = zoo.get_spec(name).model_class().from_pretrained(tmp_path / name).eval()
        gains[pair_by] = style_metrics_of(model, zoo.get_dataset("strokes"), max_faces=12)["style_gain"]
    assert gains["face"] > 0.5 and gains[""] < 0, gains


def test_pair_by_needs_a_conditional_model_and_a_known_factor(stroke_dataset, tmp_path):
    stroke_dataset("vae_pair.strokes", "vae")
    stroke_dataset("cvae_wrong.strokes", "cvae", pair_by="font")
    with pytest.raises(InputError, match="needs a conditional model"):
        train("vae_pair.strokes", out=tmp_path, progress=False)
    with pytest.raises(InputError, match="not a factor of strokes"):
        train("cvae_wrong.strokes", out=tmp_path, progress=False)


# ---------------------------------------------------------------------------------------------
# β-TCVAE (a recipe's tc_beta): the KL's total-correlation part weighed on its own


def test_tc_beta_weighs_the_total_correlation_on_top_of_the_beta_elbo():
    from zoo.distributions import total_correlation

    model = zoo.models.FAMILY_CLASSES["vae"](latent_dim=4, input_shape=(1, 16, 16), channels=(8, 16), hidden=32)
    x = stroke_faces(4)[0]
    plain = model.loss(x, beta=2.0, generator=torch.Generator().manual_seed(1))
    tc = model.loss(x, beta=2.0, generator=torch.Generator().manual_seed(1), tc_beta=6.0, dataset_size=1000)
    posterior = model.encode(x)
    z = posterior.sample(torch.Generator().manual_seed(1))
    expected = plain.total + 4.0 * total_correlation(z, posterior.mean, posterior.std, 1000)
    assert tc.total.item() == pytest.approx(expected.item(), rel=1e-5)
    assert (tc.recon, tc.kl) == (plain.recon, plain.kl)  # the parts the card's history records are the ELBO's
    same = model.loss(x, beta=2.0, generator=torch.Generator().manual_seed(1), tc_beta=2.0, dataset_size=1000)
    assert same.total.item() == pytest.approx(plain.total.item(), rel=1e-6)  # tc_beta = β: the plain β-VAE
    with pytest.raises(ValueError, match="dataset_size"):
        model.loss(x, tc_beta=6.0)


def test_a_tc_beta_recipe_trains_a_vae_and_says_so_and_other_families_refuse_it(stroke_dataset, tmp_path):
    for name, family in (("vae_tc.strokes", "vae"), ("cvae_tc.strokes", "cvae")):
        stroke_dataset(name, family, pair_by="", epochs=3, tc_beta=6.0)
    result = train("vae_tc.strokes", out=tmp_path / "vae", progress=False)
    assert all(row["train_loss"] == row["train_loss"] for row in result.history)  # finite, not NaN
    card = (tmp_path / "vae" / "README.md").read_text()
    assert "β-TCVAE" in card and "**6**" in card
    with pytest.raises(InputError, match="no such term"):
        train("cvae_tc.strokes", out=tmp_path / "cvae", progress=False)


# ---------------------------------------------------------------------------------------------
# Restyling and fine-tuning (a recipe's restyle and init)


def test_a_restyle_recipe_trains_on_restyled_pairs_and_says_so(stroke_dataset, tmp_path):
    stroke_dataset("cvae_restyled.strokes", "cvae", epochs=2, restyle=dict(slant=0.1, width=(0.9, 1.0), weight=0.5))
    stroke_dataset("cvae_as_is.strokes", "cvae", epochs=2)
    restyled = train("cvae_restyled.strokes", out=tmp_path / "restyled", progress=False)
    as_is = train("cvae_as_is.strokes", out=tmp_path / "as_is", progress=False)
    assert restyled.history[0]["train_loss"] != as_is.history[0]["train_loss"]  # the same seed on other images
    card = (tmp_path / "restyled" / "README.md").read_text()
    assert "Restyled" in card and "slant up to ±0.1, width ×0.9–1" in card and "its partner the same one" in card
    assert "Restyled" not in (tmp_path / "as_is" / "README.md").read_text()
    again = train("cvae_restyled.strokes", out=tmp_path / "again", progress=False)
    assert again.history == [{**row, "seconds": again_row["seconds"]} for row, again_row in zip(restyled.history, again.history)]


def test_init_fine_tunes_the_named_entry_and_refuses_another_architecture(stroke_dataset, tmp_path, monkeypatch):
    stroke_dataset("cvae_start.strokes", "cvae", epochs=2)
    stroke_dataset("cvae_tuned.strokes", "cvae", epochs=0, init="cvae_start.strokes")
    stroke_dataset("vae_tuned.strokes", "vae", pair_by="", epochs=1, init="cvae_start.strokes")
    monkeypatch.setenv("ZOO_WEIGHTS_DIR", str(tmp_path))  # the start's weights are found where a bundled copy lies
    train("cvae_start.strokes", out=tmp_path / "cvae_start.strokes", progress=False)
    train("cvae_tuned.strokes", out=tmp_path / "tuned", progress=False)  # no epochs: the start's weights, as loaded
    start, tuned = load_file(tmp_path / "cvae_start.strokes" / "model.safetensors"), load_file(tmp_path / "tuned" / "model.safetensors")
    assert start.keys() == tuned.keys() and all(torch.equal(start[k], tuned[k]) for k in start)
    card = (tmp_path / "tuned" / "README.md").read_text()
    assert "started from the weights of `cvae_start.strokes`" in card and "trained): bundled (" in card
    digest = hashlib.sha256((tmp_path / "cvae_start.strokes" / "model.safetensors").read_bytes()).hexdigest()
    assert f"sha256 `{digest[:12]}…`" in card and f"sha256: {digest}" in card  # the front matter keeps all of it
    with pytest.raises(InputError, match="fine-tuning starts from the same architecture"):
        train("vae_tuned.strokes", out=tmp_path / "vae", progress=False)
