"""The model families: one file each, all answering the same calls.

    encode(x, y=None) -> DiagonalGaussian with .mean, .std (B, latent_dim) and .sample()
    decode(z, y=None) -> images in [0, 1], (B, C, H, W)
    forward(x, y=None) -> reconstructions in [0, 1] (z sampled in training, the mean in eval)
    loss(x, y=None, beta=1.0) -> LossBreakdown(total, recon, kl), nats per image
"""

from .ae import AE
from .cvae import CVAE
from .vae import VAE

FAMILY_CLASSES = {"ae": AE, "vae": VAE, "cvae": CVAE}

__all__ = ["AE", "VAE", "CVAE", "FAMILY_CLASSES"]
