"""The Fashion-MNIST entries of the zoo."""

from zoo import ModelSpec, Recipe, register_model


@register_model("ae_conv_z2.fashion_mnist")
def ae_conv_z2_fashion_mnist():
    return ModelSpec(
        family="ae",
        dataset="fashion_mnist",
        model_args=dict(latent_dim=2, channels=[32, 64], hidden=128),
        recipe=Recipe(epochs=10, batch_size=128, lr=1e-3, seed=0),
        description="Plain autoencoder with a 2-D code: each garment is a point; the map has gaps between classes.",
    )


@register_model("vae_conv_z2.fashion_mnist")
def vae_conv_z2_fashion_mnist():
    return ModelSpec(
        family="vae",
        dataset="fashion_mnist",
        model_args=dict(latent_dim=2, channels=[32, 64], hidden=128),
        recipe=Recipe(epochs=10, batch_size=128, lr=1e-3, beta=1.0, seed=0),
        description="VAE with a 2-D code: garments become overlapping regions packed around the origin.",
    )


@register_model("vae_conv_z16.fashion_mnist")
def vae_conv_z16_fashion_mnist():
    return ModelSpec(
        family="vae",
        dataset="fashion_mnist",
        model_args=dict(latent_dim=16, channels=[32, 64], hidden=256),
        recipe=Recipe(epochs=30, batch_size=128, lr=1e-3, beta=1.0, seed=0),
        description="VAE with a 16-D code, for quality: sharper reconstructions and samples.",
    )


@register_model("cvae_conv_z16.fashion_mnist")
def cvae_conv_z16_fashion_mnist():
    return ModelSpec(
        family="cvae",
        dataset="fashion_mnist",
        model_args=dict(latent_dim=16, num_classes=10, channels=[64, 128], hidden=128),
        # Wider convolutions (64, 128) and a narrower dense layer (128) than the other entries: as many parameters
        # as a 256-unit layer after 32 and 64 channels, under the 8 MiB a bundled model may weigh. β = 3: a stronger
        # pull to the prior than MNIST's 2 leaves the class to the label (β = 2 and 2.5 fell short of 0.88 on
        # swaps under the plain judge; README, "The judges").
        recipe=Recipe(epochs=36, batch_size=128, lr=1e-3, beta=3.0, seed=0, lr_schedule="cosine"),
        description="Conditional VAE: the code keeps a garment's style, the label says which garment to draw.",
    )
