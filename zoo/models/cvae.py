"""A conditional VAE: encoder and decoder are both given the label.

Since the decoder is told the class, the KL term pushes the encoder to keep only what the label
does not say: the *style* (slant, thickness, cut). Encode an image's style with its own label,
decode it under other labels, and you get the same style in another class: label swapping.

Sohn, Lee & Yan, "Learning Structured Output Representation using Deep Conditional Generative
Models", NeurIPS 2015, https://papers.nips.cc/paper/5775
"""

from __future__ import annotations

import torch
from huggingface_hub import PyTorchModelHubMixin
from torch import Tensor, nn

from ..distributions import DiagonalGaussian, LossBreakdown, standard_normal_sample
from ..layers import ConvDecoder, ConvEncoder, bernoulli_nll, check_codes, check_images
from .ae import HUB_KWARGS
from .vae import LOG_VAR_RANGE


class CVAE(nn.Module, PyTorchModelHubMixin, tags=["conditional-variational-autoencoder", "vae-zoo"], **HUB_KWARGS):
    family = "cvae"
    summary = "a conditional VAE (encoder and decoder are given the label, so the code keeps the style)"
    conditional = True  # encoder and decoder take labels
    variational = True  # a Gaussian posterior, pulled towards the prior N(0, I) by a KL term

    def __init__(
        self,
        latent_dim: int = 16,
        num_classes: int = 10,
        input_shape: tuple[int, int, int] = (1, 28, 28),
        channels: tuple[int, ...] = (32, 64),  # the Keras example's convolutions
        hidden: int = 256,  # one dense layer between the convolutions and the code
        encoder_film: bool = False,  # the label also scales and shifts every encoder convolution (zoo/layers.py)
    ):
        super().__init__()
        self.latent_dim = latent_dim
        self.num_classes = num_classes
        self.input_shape = tuple(input_shape)
        self.encoder = ConvEncoder(self.input_shape, tuple(channels), hidden, 2 * latent_dim, cond_dim=num_classes,
                                   film=encoder_film)
        self.decoder = ConvDecoder(self.input_shape, tuple(channels), hidden, latent_dim, cond_dim=num_classes)

    def one_hot(self, y: Tensor | None, batch: int) -> Tensor:
        """Integer labels (B,) -> one-hot (B, num_classes); a clear error for anything else."""
        if y is None:
            raise ValueError("a CVAE needs labels: pass y, an integer tensor of shape (B,)")
        if y.dtype.is_floating_point or y.dtype == torch.bool or y.ndim != 1 or y.shape[0] != batch:
            raise ValueError(f"labels must be an integer tensor of shape ({batch},), got {y.dtype} {tuple(y.shape)}")
        # The value check reads the labels, which torch.export cannot trace: an exported graph (zoo/onnx.py) skips it.
        if y.numel() and not torch.compiler.is_exporting() and (int(y.min()) < 0 or int(y.max()) >= self.num_classes):
            raise ValueError(f"labels must lie in [0, {self.num_classes - 1}], got {y.tolist()}")
        return nn.functional.one_hot(y, self.num_classes).float()

    def encode(self, x: Tensor, y: Tensor | None = None) -> DiagonalGaussian:
        """x: (B, C, H, W) in [0, 1], y: (B,) labels -> q(z|x, y), mean and std (B, latent_dim)."""
        check_images(x, self.input_shape)
        mean, log_var = self.encoder(x, self.one_hot(y, x.shape[0])).chunk(2, dim=1)  # (B, D) each
        return DiagonalGaussian(mean, torch.exp(0.5 * log_var.clamp(*LOG_VAR_RANGE)))

    def sample_prior(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """n codes from the prior N(0, I), (n, latent_dim), on the model's device. Drawn on the CPU
        (with `generator`, a CPU generator) and then moved, so a seed gives the same codes everywhere."""
        return standard_normal_sample(n, self.latent_dim, next(self.parameters()), generator)

    def decode_logits(self, z: Tensor, y: Tensor | None = None) -> Tensor:
        check_codes(z, self.latent_dim)
        return self.decoder(z, self.one_hot(y, z.shape[0]))

    def decode(self, z: Tensor, y: Tensor | None = None) -> Tensor:
        """z: (B, latent_dim), y: (B,) labels -> images (B, C, H, W) in [0, 1]."""
        return torch.sigmoid(self.decode_logits(z, y))

    def forward(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        posterior = self.encode(x, y)
        z = posterior.sample() if self.training else posterior.mean
        return self.decode(z, y)

    def loss(self, x: Tensor, y: Tensor | None = None, beta: float = 1.0, generator: torch.Generator | None = None,
             partner: tuple[Tensor, Tensor] | None = None) -> LossBreakdown:
        """Negative conditional ELBO with a β-weighted KL: recon + β·KL, nats per image.

        `partner`, (images, labels) of the same shape as (x, y), is another image with each one's style
        (the recipe's `pair_by`): the one code is decoded under both labels, and recon is the sum of the
        two reconstruction errors, the image's own and its partner's."""
        posterior = self.encode(x, y)
        z = posterior.sample(generator)
        if partner is None:
            recon = bernoulli_nll(self.decode_logits(z, y), x).mean()
        else:
            x2, y2 = partner
            logits = self.decode_logits(torch.cat([z, z]), torch.cat([y, y2]))  # one decoder pass for both
            recon = 2 * bernoulli_nll(logits, torch.cat([x, x2])).mean()
        kl = posterior.kl().mean()
        return LossBreakdown(recon + beta * kl, recon, kl)
