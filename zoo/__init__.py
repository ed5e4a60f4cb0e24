"""vae-zoo: autoencoders (AE, VAE, CVAE) on MNIST and Fashion-MNIST, from a plugin registry.

    >>> import zoo
    >>> zoo.list_models("vae*")
    >>> model = zoo.create_model("vae_conv_z16.fashion_mnist")   # eval mode, on CUDA/MPS/CPU
    >>> posterior = model.encode(images)                          # .mean, .std: (B, latent_dim)
    >>> images = model.decode(posterior.sample())                 # (B, C, H, W) in [0, 1]
    >>> zoo.list_datasets(), zoo.get_dataset("mnist").input_shape  # datasets register like models
    >>> model = zoo.create_model("hf-hub:OWNER/REPO")             # any repo `python -m zoo publish` wrote

Importing zoo loads torch and the registry, never the training code nor any UI library.
"""

from .device import default_device, resolve_device
from .errors import InputError, WeightsError
from .datasets import Dataset, Framing, get_dataset, list_datasets, register_dataset
from .distributions import DiagonalGaussian, LossBreakdown, PointMass, kl_diagonal_standard_normal, kl_gaussians
from .registry import ModelSpec, Recipe, get_spec, list_models, register_model
from .download import set_hub_org
from .version import __version__
from .weights import create_model, resolve_weights

__all__ = [
    "list_models", "get_spec", "create_model", "register_model", "ModelSpec", "Recipe",
    "list_datasets", "get_dataset", "register_dataset", "Dataset", "Framing",
    "resolve_weights", "set_hub_org", "default_device", "resolve_device",
    "InputError", "WeightsError", "DiagonalGaussian", "PointMass", "LossBreakdown", "kl_diagonal_standard_normal", "kl_gaussians",
]
