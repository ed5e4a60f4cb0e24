"""The glyph entries of the zoo: 62 characters of hundreds of typefaces, 64×64 (`zoo/datasets/glyphs.py`).

64×64 needs more down-sampling stages than 28×28: four stride-2 convolutions (64 -> 4 pixels), the
number of stages being the length of `channels`. They are narrow (8 channels at 32×32, 64 at 4×4)
because these entries were trained on a shared CPU; wider ones train the same way on a GPU. The CVAE's decoder
gets the character by FiLM before every up-sampling (zoo/layers.py), so the code is left the style.
"""

from zoo import ModelSpec, Recipe, register_model

# Latent sizes of 32 also keep these names after the MNIST ones in `vae-zoo list` (the app's first pick).

CHANNELS = [8, 16, 32, 64]  # 64×64 -> 4×4
NUM_CHARACTERS = 62


@register_model("ae_conv_z32.glyphs")
def ae_conv_z32_glyphs():
    return ModelSpec(
        family="ae",
        dataset="glyphs",
        model_args=dict(latent_dim=32, channels=CHANNELS, hidden=256),
        recipe=Recipe(epochs=1, batch_size=64, lr=2e-3, seed=0),
        description="Plain autoencoder with a 32-D code: a glyph's character and style in one point.",
    )


@register_model("vae_conv_z32.glyphs")
def vae_conv_z32_glyphs():
    return ModelSpec(
        family="vae",
        dataset="glyphs",
        model_args=dict(latent_dim=32, channels=CHANNELS, hidden=256),
        recipe=Recipe(epochs=1, batch_size=64, lr=2e-3, beta=1.0, seed=0),
        description="VAE with a 32-D code: characters and styles as overlapping regions around the origin.",
    )


@register_model("cvae_conv_z32.glyphs")
def cvae_conv_z32_glyphs():
    return ModelSpec(
        family="cvae",
        dataset="glyphs",
        model_args=dict(latent_dim=32, num_classes=NUM_CHARACTERS, channels=CHANNELS, hidden=256),
        recipe=Recipe(epochs=2, batch_size=64, lr=2e-3, beta=1.0, seed=0),
        description="Conditional VAE: the code keeps a typeface's style, the label says which character to draw; "
                    "encode one letter, write any text in its style.",
    )
