"""The shapes entries: dSprites' factor grid re-rendered, grey (`shapes`) and in colour (`shapes_rgb`), 64×64.

On `shapes`, a VAE and a β sweep (β = 1, 2, 4, 8, 16; β = 1 is the VAE itself) with a 10-D code like
disentanglement_lib's models, measured by MIG and the FactorVAE score (zoo/disentanglement.py); a
β-TCVAE (the VAE with `Recipe.tc_beta`: only the KL's total-correlation part weighs more); a
CVAE whose label is the shape, measured by the true label swap (the same scale, orientation and
position rendered under another shape). On `shapes_rgb`, a VAE and a CVAE.

The network is the glyphs' (four stride-2 convolutions of 8 to 64 channels, 64 -> 4 pixels, and 256
hidden units): narrow, because these were trained on a shared CPU, on the datasets' seeded subsets
(50,000 grey or 30,000 colour training images of the grid, not all 737,280) for a few epochs where
disentanglement_lib trains 300,000 steps. The β sweep's steps other than β = 1 and β = 4 belong to
the study `beta_sweep_shapes`: the app offers only those two in its model pickers.
"""

import dataclasses

from zoo import ModelSpec, Recipe, register_model

NETWORK = dict(latent_dim=10, channels=[8, 16, 32, 64], hidden=256)  # 64×64 -> 4×4, a 10-D code
RECIPE = Recipe(epochs=20, batch_size=64, lr=1e-3, beta=1.0, seed=0, lr_schedule="cosine")
RGB_RECIPE = RECIPE  # 30,000 training images an epoch instead of 50,000
BETAS = (1.0, 2.0, 4.0, 8.0, 16.0)
SHOWN_BETAS = (1.0, 4.0)  # the rest of the sweep is the study's
STUDY = "beta_sweep_shapes"


def sweep_name(beta: float) -> str:
    """The sweep's entry at `beta`: β = 1 is the plain VAE, 'vae_conv_z10.shapes'; else 'betavae_conv_z10_beta4.shapes'."""
    return "vae_conv_z10.shapes" if beta == 1 else f"betavae_conv_z10_beta{beta:g}.shapes"


def _register_sweep(beta: float) -> None:
    def entry():
        what = ("VAE (β = 1) with a 10-D code" if beta == 1 else
                f"β-VAE (β = {beta:g}): a VAE whose KL term weighs {beta:g} times, pressing each of its 10 dimensions "
                "towards one factor of the shapes")
        return ModelSpec(
            family="vae",
            dataset="shapes",
            model_args=dict(NETWORK),
            recipe=dataclasses.replace(RECIPE, beta=beta),
            description=f"{what}. One step of the β sweep on shapes (β = {', '.join(f'{b:g}' for b in BETAS)}), "
                        "measured by MIG and the FactorVAE score.",
            study="" if beta in SHOWN_BETAS else STUDY,
        )

    register_model(sweep_name(beta))(entry)


for _beta in BETAS:
    _register_sweep(_beta)


@register_model("btcvae_conv_z10_tc6.shapes")
def btcvae_conv_z10_tc6_shapes():
    return ModelSpec(
        family="vae",
        dataset="shapes",
        model_args=dict(NETWORK),
        # β-TCVAE's dSprites setting: the KL's total-correlation part weighs 6, its other parts (the code's
        # information about the image, each dimension's distance from N(0, 1)) weigh 1, as in the VAE.
        # Seed 2 of three (MIG 0.276, 0.295, 0.322 for seeds 0, 1, 2; tc_beta = 10: 0.299 for seed 0; README).
        recipe=dataclasses.replace(RECIPE, tc_beta=6.0, seed=2),
        description="β-TCVAE (Chen et al. 2018): a VAE whose KL term weighs 6 times only in its total-correlation "
                    "part, the part that ties the code's dimensions together, pressing each dimension towards one "
                    "factor. Measured by MIG and the FactorVAE score beside the β sweep.",
    )


@register_model("cvae_conv_z10.shapes")
def cvae_conv_z10_shapes():
    return ModelSpec(
        family="cvae",
        dataset="shapes",
        model_args=dict(NETWORK, num_classes=3),
        # β = 3: at β = 1 the code kept some of the shape, and swaps drew it (style gain 0.685 after 20 epochs,
        # 0.662 after 40); β = 2 and 3 leave the shape to the label (0.744, 0.754; README).
        recipe=dataclasses.replace(RECIPE, beta=3.0),
        description="Conditional VAE: the label says which shape to draw, the code keeps its scale, orientation and "
                    "position; decode a square's code as a heart and compare with the true heart.",
    )


@register_model("vae_conv_z10.shapes_rgb")
def vae_conv_z10_shapes_rgb():
    return ModelSpec(
        family="vae",
        dataset="shapes_rgb",
        model_args=dict(NETWORK),
        recipe=RGB_RECIPE,
        description="VAE with a 10-D code on coloured shapes: the five factors of the grey shapes plus the object's "
                    "and the background's colours.",
    )


@register_model("cvae_conv_z10.shapes_rgb")
def cvae_conv_z10_shapes_rgb():
    return ModelSpec(
        family="cvae",
        dataset="shapes_rgb",
        model_args=dict(NETWORK, num_classes=3),
        recipe=RGB_RECIPE,
        description="Conditional VAE on coloured shapes: the label says which shape, the code keeps scale, orientation, "
                    "position and both colours.",
    )
