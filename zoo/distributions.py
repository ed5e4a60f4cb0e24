"""The posterior q(z|x) and the KL divergences of the lecture, implemented once.

Kingma & Welling, "Auto-Encoding Variational Bayes", https://arxiv.org/abs/1312.6114 (appendix B
gives the closed-form KL used here).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import Tensor


class LossBreakdown(NamedTuple):
    """A batch's loss and its parts, each a scalar in nats per image (mean over the batch)."""

    total: Tensor
    recon: Tensor
    kl: Tensor


def kl_diagonal_standard_normal(mean: Tensor, std: Tensor) -> Tensor:
    """KL( N(mean, diag(std²)) || N(0, I) ) = ½ Σᵢ (σᵢ² + μᵢ² − log σᵢ² − 1).

    mean, std: (..., D). Returns (...,), in nats.
    """
    var = std.square()
    return 0.5 * (var + mean.square() - torch.log(var) - 1.0).sum(dim=-1)


def kl_gaussians(mean0: Tensor, cov0: Tensor, mean1: Tensor, cov1: Tensor) -> Tensor:
    """KL( N(μ₀, Σ₀) || N(μ₁, Σ₁) ) for full covariances, the general form from the lecture:

        ½ ( tr(Σ₁⁻¹Σ₀) + (μ₁−μ₀)ᵀ Σ₁⁻¹ (μ₁−μ₀) − k + ln(det Σ₁ / det Σ₀) )

    mean*: (..., k); cov*: (..., k, k), symmetric positive definite. Returns (...,), in nats.
    """
    k = mean0.shape[-1]
    chol1 = torch.linalg.cholesky(cov1)
    trace_term = torch.cholesky_solve(cov0, chol1).diagonal(dim1=-2, dim2=-1).sum(-1)
    diff = (mean1 - mean0).unsqueeze(-1)  # (..., k, 1)
    mahalanobis = (diff * torch.cholesky_solve(diff, chol1)).sum(dim=(-2, -1))
    logdet1 = 2.0 * chol1.diagonal(dim1=-2, dim2=-1).log().sum(-1)
    logdet0 = torch.linalg.slogdet(cov0).logabsdet
    return 0.5 * (trace_term + mahalanobis - k + logdet1 - logdet0)


def total_correlation(z: Tensor, mean: Tensor, std: Tensor, dataset_size: int) -> Tensor:
    """TC(z) = KL( q(z) || Πₖ q(zₖ) ), estimated on a batch by minibatch stratified sampling.

    The total correlation is the part of the VAE's KL term that ties the code's dimensions together
    (KL = index-code mutual information + TC + Σₖ KL(q(zₖ) || p(zₖ)), in expectation over the data).
    The aggregate posterior q(z) = 1/N Σₙ q(z|xₙ) is estimated at each sample zᵢ from the batch's
    posteriors: zᵢ's own image stands for 1 of the N, the other B − 1 for the remaining N − 1,

        log q(zᵢ) ≈ logsumexpⱼ [log wᵢⱼ + log q(zᵢ|xⱼ)],  wᵢᵢ = 1/N,  wᵢⱼ = (N − 1) / (N (B − 1)),

    and likewise per dimension for log q(zᵢₖ). Chen, Li, Grosse & Duvenaud, "Isolating Sources of
    Disentanglement in VAEs" (β-TCVAE), NeurIPS 2018, https://arxiv.org/abs/1802.04942, section 3 and
    appendix C.2 (the paper's weights differ from these only in which image of the batch stands
    for the extra share). z, mean, std: (B, D), z[i] drawn from N(mean[i], std[i]²). Returns a
    scalar, nats; 0 for a batch of one, which has no other image to estimate q(z) from.
    """
    batch = z.shape[0]
    if batch < 2:
        return z.new_zeros(())
    log_w = torch.full((batch, batch), math.log((dataset_size - 1) / (dataset_size * (batch - 1))),
                       device=z.device, dtype=z.dtype)
    log_w.fill_diagonal_(-math.log(dataset_size))
    per_dim = _normal_log_density(z[:, None], mean[None], std[None])  # (B, B, D): log q(zᵢₖ|xⱼ)
    log_q = torch.logsumexp(log_w + per_dim.sum(dim=2), dim=1)  # (B,)
    log_product = torch.logsumexp(log_w[:, :, None] + per_dim, dim=1).sum(dim=1)  # (B,)
    return (log_q - log_product).mean()


class DiagonalGaussian:
    """q(z|x) = N(mean, diag(std²)); mean and std are (B, D). An AE's posterior is a `PointMass`."""

    def __init__(self, mean: Tensor, std: Tensor):
        self.mean = mean
        self.std = std

    def sample(self, generator: torch.Generator | None = None) -> Tensor:
        """z = μ + σ·ε with ε ~ N(0, I): the reparameterisation trick, so gradients reach μ and σ."""
        eps = torch.randn(self.mean.shape, generator=generator, device=self.mean.device, dtype=self.mean.dtype)
        return self.mean + self.std * eps

    def mode(self) -> Tensor:
        return self.mean

    def kl(self) -> Tensor:
        """KL to the prior N(0, I), (B,), in nats."""
        return kl_diagonal_standard_normal(self.mean, self.std)

    def log_prob(self, z: Tensor) -> Tensor:
        """log q(z|x), (B,) for z of shape (B, D), or (K, B) for (K, B, D)."""
        return _diagonal_normal_log_prob(z, self.mean, self.std)

    def __repr__(self) -> str:
        return f"DiagonalGaussian(batch={self.mean.shape[0]}, latent_dim={self.mean.shape[-1]})"


class PointMass(DiagonalGaussian):
    """An AE's posterior: all its mass at `mean` (B, D), so std is zeros.

    `sample()` and `mode()` are the mean. An AE has no prior term, so `kl()` is 0 (where the
    Gaussian formula would give +inf) and callers need no guard. It has no density: `log_prob` raises.
    """

    def __init__(self, mean: Tensor):
        super().__init__(mean, torch.zeros_like(mean))

    def sample(self, generator: torch.Generator | None = None) -> Tensor:
        return self.mean

    def kl(self) -> Tensor:
        """0 for every item, (B,): an AE's loss has no KL term."""
        return self.mean.new_zeros(self.mean.shape[:-1])

    def log_prob(self, z: Tensor) -> Tensor:
        raise NotImplementedError("a point mass has no density: log q(z|x) is defined for variational families only")

    def __repr__(self) -> str:
        return f"PointMass(batch={self.mean.shape[0]}, latent_dim={self.mean.shape[-1]})"


def standard_normal_sample(n: int, dim: int, like: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """n draws from N(0, I), (n, dim), with `like`'s device and dtype. Drawn on the CPU (with a CPU
    `generator`) and then moved, so a seed gives the same codes on every device."""
    return torch.randn(n, dim, generator=generator).to(device=like.device, dtype=like.dtype)


def standard_normal_log_prob(z: Tensor) -> Tensor:
    """log N(z; 0, I), summed over the last dimension."""
    return -0.5 * (z.square() + math.log(2 * math.pi)).sum(dim=-1)


def _normal_log_density(z: Tensor, mean: Tensor, std: Tensor) -> Tensor:
    """log N(z; mean, std²) element by element."""
    return -0.5 * ((z - mean) / std).square() - std.log() - 0.5 * math.log(2 * math.pi)


def _diagonal_normal_log_prob(z: Tensor, mean: Tensor, std: Tensor) -> Tensor:
    return _normal_log_density(z, mean, std).sum(dim=-1)
