"""A plain autoencoder: each input maps to one point in latent space.

With nothing pulling the codes together, the latent space has holes between classes: decoding a
point that no training image maps to gives garbage. Compare the VAE's latent map.
"""

from __future__ import annotations

import torch
from huggingface_hub import PyTorchModelHubMixin
from torch import Tensor, nn

from ..distributions import LossBreakdown, PointMass, standard_normal_sample
from ..layers import ConvDecoder, ConvEncoder, bernoulli_nll, check_codes, check_images

HUB_KWARGS = dict(library_name="vae-zoo", repo_url="https://github.com/vae-zoo/vae-zoo", license="mit")


class AE(nn.Module, PyTorchModelHubMixin, tags=["autoencoder", "vae-zoo"], **HUB_KWARGS):
    family = "ae"
    summary = "a plain autoencoder (each input is a point in latent space)"
    conditional = False  # takes no labels
    variational = False  # a point posterior, no prior and no KL term

    def __init__(
        self,
        latent_dim: int = 2,
        input_shape: tuple[int, int, int] = (1, 28, 28),
        channels: tuple[int, ...] = (32, 64),  # the Keras example's convolutions
        hidden: int = 256,  # one dense layer between the convolutions and the code
    ):
        super().__init__()
        self.latent_dim = latent_dim
        self.input_shape = tuple(input_shape)
        self.encoder = ConvEncoder(self.input_shape, tuple(channels), hidden, latent_dim)
        self.decoder = ConvDecoder(self.input_shape, tuple(channels), hidden, latent_dim)

    def encode(self, x: Tensor, y: Tensor | None = None) -> PointMass:
        """x: (B, C, H, W) in [0, 1]. The posterior is a point: std is all zeros, kl() is 0."""
        check_images(x, self.input_shape)
        return PointMass(self.encoder(x))  # mean (B, latent_dim)

    def sample_prior(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """n codes from N(0, I), (n, latent_dim), on the model's device (drawn on the CPU with `generator`).

        An AE has no prior: nothing pulled its codes towards N(0, I), so decoding these draws
        mostly gives garbage. That is the point of showing it."""
        return standard_normal_sample(n, self.latent_dim, next(self.parameters()), generator)

    def decode_logits(self, z: Tensor, y: Tensor | None = None) -> Tensor:
        check_codes(z, self.latent_dim)
        return self.decoder(z)

    def decode(self, z: Tensor, y: Tensor | None = None) -> Tensor:
        """z: (B, latent_dim) -> images (B, C, H, W) in [0, 1]."""
        return torch.sigmoid(self.decode_logits(z, y))

    def forward(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        return self.decode(self.encode(x, y).mean, y)

    def loss(self, x: Tensor, y: Tensor | None = None, beta: float = 1.0, generator: torch.Generator | None = None) -> LossBreakdown:
        """Bernoulli reconstruction error alone: an AE has no KL term (reported as 0)."""
        recon = bernoulli_nll(self.decode_logits(self.encode(x, y).mean, y), x).mean()
        kl = recon.new_zeros(())
        return LossBreakdown(recon, recon, kl)
