"""The model families: one file each, all answering the same calls.

    encode(x, y=None) -> DiagonalGaussian (a PointMass for the AE) with .mean, .std (B, latent_dim), .sample(), .kl()
    decode(z, y=None) -> images in [0, 1], (B, C, H, W)
    forward(x, y=None) -> reconstructions in [0, 1] (z sampled in training, the mean in eval)
    loss(x, y=None, beta=1.0) -> LossBreakdown(total, recon, kl), nats per image
    sample_prior(n, generator=None) -> (n, latent_dim) codes from N(0, I)

and say what they can do in class attributes, which everything else asks instead of the name:
`family` (the registry's key), `summary` (one line for model cards), `conditional` (takes
labels) and `variational` (a posterior with a KL term to the prior N(0, I)).
"""

from .ae import AE
from .cvae import CVAE
from .vae import VAE

FAMILY_CLASSES: dict[str, type] = {}


def register_family(cls: type) -> type:
    """Add a family class (it must answer the calls above) under its `family` name; usable as a decorator."""
    for attribute in ("family", "summary", "conditional", "variational", "sample_prior"):
        if not hasattr(cls, attribute):
            raise TypeError(f"family class {cls.__name__} has no {attribute!r}")
    if FAMILY_CLASSES.get(cls.family, cls) is not cls:
        raise ValueError(f"family {cls.family!r} is registered twice: {FAMILY_CLASSES[cls.family].__name__} and {cls.__name__}")
    FAMILY_CLASSES[cls.family] = cls
    return cls


for _cls in (AE, VAE, CVAE):
    register_family(_cls)

__all__ = ["AE", "VAE", "CVAE", "FAMILY_CLASSES", "register_family"]
