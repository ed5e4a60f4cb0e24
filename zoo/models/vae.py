"""A variational autoencoder: each input maps to a region of latent space.

The encoder gives a mean μ and a standard deviation σ; a code is sampled from N(μ, σ²) by
reparameterisation, and the loss adds KL(q(z|x) || N(0, I)) to the reconstruction error. The
KL term packs the regions densely around the origin, which is what makes the latent space
continuous: you can sample from the prior and interpolate.

Kingma & Welling, "Auto-Encoding Variational Bayes", https://arxiv.org/abs/1312.6114
"""

from __future__ import annotations

import torch
from huggingface_hub import PyTorchModelHubMixin
from torch import Tensor, nn

from ..distributions import DiagonalGaussian, LossBreakdown, standard_normal_sample, total_correlation
from ..layers import ConvDecoder, ConvEncoder, bernoulli_nll, check_codes, check_images
from .ae import HUB_KWARGS

LOG_VAR_RANGE = (-12.0, 8.0)  # keeps exp() finite early in training; σ from 0.0025 to 55


class VAE(nn.Module, PyTorchModelHubMixin, tags=["variational-autoencoder", "vae-zoo"], **HUB_KWARGS):
    family = "vae"
    summary = "a variational autoencoder (each input is a Gaussian region in latent space, pulled towards N(0, I) by a KL term)"
    conditional = False  # takes no labels
    variational = True  # a Gaussian posterior, pulled towards the prior N(0, I) by a KL term

    def __init__(
        self,
        latent_dim: int = 16,
        input_shape: tuple[int, int, int] = (1, 28, 28),
        channels: tuple[int, ...] = (32, 64),  # the Keras example's convolutions
        hidden: int = 256,  # one dense layer between the convolutions and the code
    ):
        super().__init__()
        self.latent_dim = latent_dim
        self.input_shape = tuple(input_shape)
        self.encoder = ConvEncoder(self.input_shape, tuple(channels), hidden, 2 * latent_dim)  # μ and log σ²
        self.decoder = ConvDecoder(self.input_shape, tuple(channels), hidden, latent_dim)

    def encode(self, x: Tensor, y: Tensor | None = None) -> DiagonalGaussian:
        """x: (B, C, H, W) in [0, 1] -> q(z|x) with mean and std of shape (B, latent_dim)."""
        check_images(x, self.input_shape)
        mean, log_var = self.encoder(x).chunk(2, dim=1)  # (B, D) each
        return DiagonalGaussian(mean, torch.exp(0.5 * log_var.clamp(*LOG_VAR_RANGE)))

    def sample_prior(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """n codes from the prior N(0, I), (n, latent_dim), on the model's device. Drawn on the CPU
        (with `generator`, a CPU generator) and then moved, so a seed gives the same codes everywhere."""
        return standard_normal_sample(n, self.latent_dim, next(self.parameters()), generator)

    def decode_logits(self, z: Tensor, y: Tensor | None = None) -> Tensor:
        check_codes(z, self.latent_dim)
        return self.decoder(z)

    def decode(self, z: Tensor, y: Tensor | None = None) -> Tensor:
        """z: (B, latent_dim) -> images (B, C, H, W) in [0, 1]."""
        return torch.sigmoid(self.decode_logits(z, y))

    def forward(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        posterior = self.encode(x, y)
        z = posterior.sample() if self.training else posterior.mean
        return self.decode(z, y)

    def loss(self, x: Tensor, y: Tensor | None = None, beta: float = 1.0, generator: torch.Generator | None = None,
             tc_beta: float | None = None, dataset_size: int | None = None) -> LossBreakdown:
        """Negative ELBO with a β-weighted KL: recon + β·KL, one sample of z per image.

        With `tc_beta` (β-TCVAE), the KL's total-correlation part weighs tc_beta instead of β:
        recon + β·KL + (tc_beta − β)·TC, TC estimated on the batch as a sample of the dataset_size
        training images (zoo.distributions.total_correlation)."""
        posterior = self.encode(x, y)
        z = posterior.sample(generator)
        recon = bernoulli_nll(self.decode_logits(z, y), x).mean()
        kl = posterior.kl().mean()
        total = recon + beta * kl
        if tc_beta is not None:
            if not dataset_size:
                raise ValueError("tc_beta needs dataset_size, the number of training images, to estimate q(z)")
            total = total + (tc_beta - beta) * total_correlation(z, posterior.mean, posterior.std, dataset_size)
        return LossBreakdown(total, recon, kl)
