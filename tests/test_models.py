"""Every registered model answers the same calls with the right shapes, ranges and losses.

Parametrized over the registry, so a new plugin is tested without new test code. These tests use
freshly initialised models (fast); test_weights.py covers the trained, bundled ones.
"""

import pytest
import torch

import zoo
from zoo.models import FAMILY_CLASSES

NAMES = zoo.list_models()


def batch_for(spec, n=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, *spec.input_shape, generator=g)
    y = torch.randint(0, max(len(spec.label_names), 1), (n,), generator=g) if spec.conditional else None
    return x, y


@pytest.mark.parametrize("name", NAMES)
def test_encode_decode_shapes_and_ranges(name):
    spec = zoo.get_spec(name)
    model = zoo.create_model(name, pretrained=False)
    x, y = batch_for(spec)
    with torch.inference_mode():
        posterior = model.encode(x, y)
        assert posterior.mean.shape == posterior.std.shape == (4, spec.latent_dim)
        if spec.family == "ae":
            assert torch.all(posterior.std == 0)
        else:
            assert torch.all(posterior.std > 0)
        images = model.decode(posterior.sample(torch.Generator().manual_seed(0)), y)
        assert images.shape == (4, *spec.input_shape)
        assert images.min() >= 0 and images.max() <= 1
        assert model(x, y).shape == x.shape


@pytest.mark.parametrize("name", NAMES)
def test_loss_parts(name):
    spec = zoo.get_spec(name)
    model = zoo.create_model(name, pretrained=False).train()
    x, y = batch_for(spec)
    total, recon, kl = model.loss(x, y, beta=2.0)
    assert total.ndim == recon.ndim == kl.ndim == 0
    assert recon > 0 and kl >= 0
    if spec.family == "ae":
        assert kl == 0 and torch.equal(total, recon)
    else:
        torch.testing.assert_close(total, recon + 2.0 * kl)
    total.backward()
    assert all(p.grad is not None for p in model.parameters())


@pytest.mark.parametrize("name", NAMES)
def test_sampling_is_deterministic_given_a_generator(name):
    spec = zoo.get_spec(name)
    model = zoo.create_model(name, pretrained=False)
    x, y = batch_for(spec)
    posterior = model.encode(x, y)
    a = posterior.sample(torch.Generator().manual_seed(5))
    b = posterior.sample(torch.Generator().manual_seed(5))
    torch.testing.assert_close(a, b)


@pytest.mark.parametrize("name", NAMES)
def test_bad_inputs_are_clear_errors(name):
    spec = zoo.get_spec(name)
    model = zoo.create_model(name, pretrained=False)
    x, y = batch_for(spec)
    with pytest.raises(ValueError, match="shape"):
        model.encode(torch.rand(2, 3, 28, 28), y[:2] if y is not None else None)
    with pytest.raises(ValueError, match="latent codes"):
        model.decode(torch.zeros(2, spec.latent_dim + 1), y[:2] if y is not None else None)
    if spec.conditional:
        with pytest.raises(ValueError, match="needs labels"):
            model.encode(x)
        k = len(spec.label_names)
        with pytest.raises(ValueError, match=rf"\[0, {k - 1}\]"):
            model.decode(torch.zeros(1, spec.latent_dim), torch.tensor([k]))
        with pytest.raises(ValueError, match="integer"):
            model.decode(torch.zeros(1, spec.latent_dim), torch.tensor([1.0]))


@pytest.mark.parametrize("name", [n for n in NAMES if zoo.get_spec(n).conditional])
def test_cvae_decoder_depends_on_the_label(name):
    spec = zoo.get_spec(name)
    model = zoo.create_model(name, pretrained=False)
    z = torch.zeros(2, spec.latent_dim)
    a, b = model.decode(z, torch.tensor([0, 1])).unbind(0)
    assert not torch.equal(a, b)


def test_an_encoder_with_film_reads_the_label_in_its_convolutions():
    from zoo.layers import ConvEncoder

    torch.manual_seed(0)
    encoder = ConvEncoder((1, 16, 16), (4, 8), hidden=16, out_features=6, cond_dim=3, film=True)
    with torch.no_grad():
        encoder.mlp[0].weight[:, -3:] = 0  # the label no longer reaches the dense layer directly
        x = torch.rand(1, 1, 16, 16).expand(3, -1, -1, -1)
        out = encoder(x, torch.eye(3))
        assert not torch.allclose(out[0], out[1]) and not torch.allclose(out[1], out[2])  # only FiLM tells them apart
        for film in encoder.cond_films:
            film.weight.zero_(), film.bias.zero_()  # the identity FiLM: the plain encoder's features
        plain = ConvEncoder((1, 16, 16), (4, 8), hidden=16, out_features=6, cond_dim=3)
        plain.load_state_dict({k: v for k, v in encoder.state_dict().items() if not k.startswith("cond_films")})
        torch.testing.assert_close(encoder(x, torch.eye(3)), plain(x, torch.eye(3)))
    with pytest.raises(ValueError, match="cond_dim"):
        ConvEncoder((1, 16, 16), (4, 8), hidden=16, out_features=6, film=True)


@pytest.mark.parametrize("family", sorted(FAMILY_CLASSES))
def test_every_family_says_what_it_can_do(family):
    cls = FAMILY_CLASSES[family]
    assert cls.family == family and cls.summary
    assert isinstance(cls.conditional, bool) and isinstance(cls.variational, bool)


@pytest.mark.parametrize("name", NAMES)
def test_sample_prior_is_seeded_and_on_the_models_device(name):
    spec = zoo.get_spec(name)
    model = zoo.create_model(name, pretrained=False)
    a = model.sample_prior(5, torch.Generator().manual_seed(3))
    b = model.sample_prior(5, torch.Generator().manual_seed(3))
    assert a.shape == (5, spec.latent_dim) and a.device == next(model.parameters()).device
    torch.testing.assert_close(a, b)
    torch.testing.assert_close(a, torch.randn(5, spec.latent_dim, generator=torch.Generator().manual_seed(3)))


@pytest.mark.parametrize("name", NAMES)
def test_a_point_posterior_has_no_kl_and_samples_its_mean(name):
    spec = zoo.get_spec(name)
    model = zoo.create_model(name, pretrained=False)
    x, y = batch_for(spec)
    with torch.inference_mode():
        posterior = model.encode(x, y)
        kl = posterior.kl()
    assert kl.shape == (4,) and torch.isfinite(kl).all()
    if not spec.variational:
        assert torch.all(kl == 0) and torch.equal(posterior.sample(torch.Generator().manual_seed(0)), posterior.mean)
        assert torch.equal(posterior.mode(), posterior.mean)
    else:
        assert torch.all(kl > 0)
