"""The KL formulas of the lecture against torch.distributions, and the posterior's sampling."""

import math

import pytest
import torch
from torch.distributions import Independent, MultivariateNormal, Normal, kl_divergence

from zoo.distributions import (DiagonalGaussian, kl_diagonal_standard_normal, kl_gaussians, standard_normal_log_prob,
                               total_correlation)


def random_spd(batch: int, k: int, generator: torch.Generator) -> torch.Tensor:
    a = torch.randn(batch, k, k, generator=generator, dtype=torch.float64)
    return a @ a.transpose(-1, -2) + 0.5 * torch.eye(k, dtype=torch.float64)


@pytest.mark.parametrize("dim", [1, 2, 16])
def test_diagonal_kl_matches_torch(dim):
    g = torch.Generator().manual_seed(dim)
    mean = torch.randn(32, dim, generator=g, dtype=torch.float64) * 3
    std = torch.rand(32, dim, generator=g, dtype=torch.float64) * 2 + 0.05
    expected = kl_divergence(Independent(Normal(mean, std), 1), Independent(Normal(torch.zeros_like(mean), torch.ones_like(std)), 1))
    torch.testing.assert_close(kl_diagonal_standard_normal(mean, std), expected)


def test_diagonal_kl_is_zero_only_at_the_prior():
    assert kl_diagonal_standard_normal(torch.zeros(1, 4), torch.ones(1, 4)).item() == 0.0
    assert kl_diagonal_standard_normal(torch.full((1, 4), 0.1), torch.ones(1, 4)).item() > 0


@pytest.mark.parametrize("k", [1, 3, 8])
def test_general_kl_matches_torch(k):
    g = torch.Generator().manual_seed(k)
    mean0, mean1 = torch.randn(2, 5, k, generator=g, dtype=torch.float64)
    cov0, cov1 = random_spd(5, k, g), random_spd(5, k, g)
    expected = kl_divergence(MultivariateNormal(mean0, cov0), MultivariateNormal(mean1, cov1))
    torch.testing.assert_close(kl_gaussians(mean0, cov0, mean1, cov1), expected)


def test_general_kl_reduces_to_the_diagonal_formula():
    g = torch.Generator().manual_seed(0)
    mean = torch.randn(4, 6, generator=g, dtype=torch.float64)
    std = torch.rand(4, 6, generator=g, dtype=torch.float64) + 0.1
    general = kl_gaussians(mean, torch.diag_embed(std**2), torch.zeros_like(mean), torch.eye(6, dtype=torch.float64).expand(4, 6, 6))
    torch.testing.assert_close(general, kl_diagonal_standard_normal(mean, std))


def test_posterior_sampling_is_reparameterised_and_seeded():
    mean = torch.tensor([[1.0, -2.0]], requires_grad=True)
    std = torch.tensor([[0.5, 2.0]], requires_grad=True)
    posterior = DiagonalGaussian(mean, std)
    z1 = posterior.sample(torch.Generator().manual_seed(3))
    z2 = posterior.sample(torch.Generator().manual_seed(3))
    torch.testing.assert_close(z1, z2)
    z1.sum().backward()
    assert mean.grad is not None and std.grad is not None  # gradients flow through the sample


def test_log_probs_match_torch():
    g = torch.Generator().manual_seed(1)
    mean, std, z = torch.randn(3, 7, generator=g), torch.rand(3, 7, generator=g) + 0.1, torch.randn(3, 7, generator=g)
    torch.testing.assert_close(DiagonalGaussian(mean, std).log_prob(z), Independent(Normal(mean, std), 1).log_prob(z))
    torch.testing.assert_close(standard_normal_log_prob(z), Independent(Normal(torch.zeros(7), torch.ones(7)), 1).log_prob(z))


def test_a_point_mass_has_zero_kl_and_samples_its_mean():
    from zoo.distributions import PointMass

    mean = torch.tensor([[1.0, -2.0], [0.0, 3.0]])
    point = PointMass(mean)
    assert torch.equal(point.std, torch.zeros_like(mean)) and isinstance(point, DiagonalGaussian)
    assert torch.equal(point.kl(), torch.zeros(2))  # the Gaussian formula would give +inf at std = 0
    assert torch.equal(point.sample(torch.Generator().manual_seed(0)), mean) and torch.equal(point.mode(), mean)
    with pytest.raises(NotImplementedError, match="no density"):
        point.log_prob(mean)


@pytest.mark.parametrize("correlation", [0.0, 0.6, 0.9])
def test_total_correlation_matches_a_gaussian_aggregate(correlation):
    """Posteriors N(μₙ, σ²I) with μ from a correlated 2-D Gaussian: the aggregate q(z) is N(0, C + σ²I),
    whose total correlation is −½ log(1 − r²), r its correlation. The batch is the dataset here."""
    g = torch.Generator().manual_seed(0)
    n, sigma = 4000, 0.5
    a = torch.randn(n, generator=g, dtype=torch.float64)
    mean = torch.stack([a, correlation * a + (1 - correlation**2) ** 0.5 * torch.randn(n, generator=g, dtype=torch.float64)], 1)
    std = torch.full_like(mean, sigma)
    z = mean + std * torch.randn(mean.shape, generator=g, dtype=torch.float64)
    r = correlation / (1 + sigma**2)
    truth = -0.5 * math.log(1 - r**2)
    assert total_correlation(z, mean, std, dataset_size=n).item() == pytest.approx(truth, abs=0.03)
    # A batch of 256 standing for 50,000 images: the same, within the batch's noise.
    assert total_correlation(z[:256], mean[:256], std[:256], dataset_size=50_000).item() == pytest.approx(truth, abs=0.12)


def test_total_correlation_of_one_image_is_zero():
    assert total_correlation(torch.zeros(1, 3), torch.zeros(1, 3), torch.ones(1, 3), dataset_size=10).item() == 0.0
