"""The glyph entries of the zoo: 62 characters of hundreds of typefaces, 64×64 (`zoo/datasets/glyphs.py`).

64×64 needs one more down-sampling stage than 28×28: four stride-2 convolutions (64 -> 4 pixels),
narrow at the top (16 channels at 32×32) because this is trained on one CPU core. The CVAE's decoder
gets the character by FiLM before every up-sampling (zoo/layers.py), so the code is left the style.
"""

from zoo import ModelSpec, Recipe, register_model

CHANNELS = [16, 32, 64, 128]  # 64×64 -> 4×4
NUM_CHARACTERS = 62


@register_model("ae_conv_z16.glyphs")
def ae_conv_z16_glyphs():
    return ModelSpec(
        family="ae",
        dataset="glyphs",
        model_args=dict(latent_dim=16, channels=CHANNELS, hidden=256),
        recipe=Recipe(epochs=1, batch_size=64, lr=2e-3, seed=0),
        description="Plain autoencoder with a 16-D code: a glyph's character and style in one point.",
    )


@register_model("vae_conv_z16.glyphs")
def vae_conv_z16_glyphs():
    return ModelSpec(
        family="vae",
        dataset="glyphs",
        model_args=dict(latent_dim=16, channels=CHANNELS, hidden=256),
        recipe=Recipe(epochs=1, batch_size=64, lr=2e-3, beta=1.0, seed=0),
        description="VAE with a 16-D code: characters and styles as overlapping regions around the origin.",
    )


@register_model("cvae_conv_z32.glyphs")
def cvae_conv_z32_glyphs():
    return ModelSpec(
        family="cvae",
        dataset="glyphs",
        model_args=dict(latent_dim=32, num_classes=NUM_CHARACTERS, channels=CHANNELS, hidden=256),
        recipe=Recipe(epochs=3, batch_size=64, lr=2e-3, beta=1.0, seed=0),
        description="Conditional VAE: the code keeps a typeface's style, the label says which character to draw; "
                    "encode one letter, write any text in its style.",
    )
