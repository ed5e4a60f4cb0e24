"""The glyph entries of the zoo: 62 characters of hundreds of typefaces, 64×64 (`zoo/datasets/glyphs.py`).

64×64 needs more down-sampling stages than 28×28: four stride-2 convolutions (64 -> 4 pixels), the
number of stages being the length of `channels` (32 channels at 32×32, 128 at 8×8 and 4×4), and one
dense layer of 256 units: about 1.9 million parameters, under the 8 MiB a bundled model may weigh.
The CVAE's encoder gets the character next to its features, and its decoder gets it by FiLM before
every up-sampling (zoo/layers.py), so the code is left the style. Trained on a GPU (an epoch on the
2-core CPU takes minutes; the cards record the time and the device).
"""

import dataclasses

from zoo import ModelSpec, Recipe, register_model

# Latent sizes of 32 also keep these names after the MNIST ones in `vae-zoo list` (the app's first pick).

CHANNELS = [32, 64, 128, 128]  # 64×64 -> 4×4
HIDDEN = 256
RECIPE = Recipe(epochs=60, batch_size=128, lr=1e-3, beta=1.0, seed=0, lr_schedule="cosine")
NUM_CHARACTERS = 62


@register_model("ae_conv_z32.glyphs")
def ae_conv_z32_glyphs():
    return ModelSpec(
        family="ae",
        dataset="glyphs",
        model_args=dict(latent_dim=32, channels=CHANNELS, hidden=HIDDEN),
        recipe=RECIPE,
        description="Plain autoencoder with a 32-D code: a glyph's character and style in one point.",
    )


@register_model("vae_conv_z32.glyphs")
def vae_conv_z32_glyphs():
    return ModelSpec(
        family="vae",
        dataset="glyphs",
        model_args=dict(latent_dim=32, channels=CHANNELS, hidden=HIDDEN),
        recipe=RECIPE,
        description="VAE with a 32-D code: characters and styles as overlapping regions around the origin.",
    )


@register_model("cvae_conv_z32.glyphs")
def cvae_conv_z32_glyphs():
    return ModelSpec(
        family="cvae",
        dataset="glyphs",
        model_args=dict(latent_dim=32, num_classes=NUM_CHARACTERS, channels=CHANNELS, hidden=HIDDEN),
        # β = 8: at β = 1 the code kept the whole glyph, character included, and the decoder ignored the label
        # (swaps read as the asked character 0.26 of the time); β = 2, 4, 8 gave 0.70, 0.95, 0.98 (README).
        recipe=dataclasses.replace(RECIPE, epochs=33, beta=8.0),
        description="Conditional VAE: the code keeps a typeface's style, the label says which character to draw; "
                    "encode one letter, write any text in its style.",
    )
