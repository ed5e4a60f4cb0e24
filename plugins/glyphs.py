"""The glyph entries of the zoo: 62 characters of hundreds of typefaces, 64×64 (`zoo/datasets/glyphs.py`).

64×64 needs more down-sampling stages than 28×28: four stride-2 convolutions (64 -> 4 pixels), the
number of stages being the length of `channels` (32 channels at 32×32, 128 at 8×8 and 4×4), and one
dense layer of 256 units: about 1.9 million parameters, under the 8 MiB a bundled model may weigh.
The CVAE's encoder gets the character next to its features, and its decoder gets it by FiLM before
every up-sampling (zoo/layers.py), so the code is left the style; it is trained paired by face
(`Recipe.pair_by`). The AE and VAE were trained on a GPU, the CVAE on the 2-core CPU (3.2–3.8 min an
epoch); the cards record the time and the device.
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
        # Paired by face: each glyph's code is also decoded as another character of its face and scored against
        # that face's true glyph, so the code must carry the style. On the plain ELBO the code kept the glyph
        # itself: at β = 1 the decoder ignored the label (swaps right 0.26 of the time), and at β = 8, where swaps
        # were right (0.98), the style gain was −0.05; paired at β = 2, 16 epochs on the CPU: 0.37 (README).
        recipe=dataclasses.replace(RECIPE, epochs=16, beta=2.0, pair_by="face"),
        description="Conditional VAE: the code keeps a typeface's style, the label says which character to draw; "
                    "encode one letter, write any text in its style.",
    )
