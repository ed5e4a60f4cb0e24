"""The page's explainer: the lecture's argument in order, each claim with a link to the tab that shows it.

Links are the app's own shareable links (`?tab=...`), so a click opens the view that makes the point.
"""

from __future__ import annotations

from zoo.demo import make_link

MAP_MNIST = dict(dataset="mnist", left="ae_conv_z2.mnist", right="vae_conv_z2.mnist", scale="shared")


def _see(text: str, tab: str, **params) -> str:
    return f"[{text}](?{make_link(tab, **params)})"


def explainer() -> str:
    """The explainer's Markdown."""
    return f"""
**Point or region.** An **autoencoder (AE)** squeezes an image through a small code *z* and learns to
rebuild it: each input becomes one *point* in latent space. A **variational autoencoder (VAE)** maps
each input to a *region*, and regions of different inputs may overlap; a code where two regions
overlap decodes to something between the two. {_see("See both maps on one scale", "latent_map", **MAP_MNIST)}:
the AE's points spread far beyond the prior, the VAE's pack around the origin.
{_see("See a VAE decode a region, an AE a point", "reconstruct", dataset="mnist", a=3)}: beside each
decoding of μ, a few codes drawn from q(z|x) decoded.

**μ and σ.** The VAE's encoder outputs two vectors of size *n*, not one: the means μ (where the region
is) and the standard deviations σ (how far a code may stray from μ). The decoder sees a code drawn from
N(μ, σ²), z = μ + σ·ε with ε ~ N(0, I), so even one image is rebuilt from a set of codes.
{_see("See one input's μ, its σ ellipses and draws", "latent_map", **MAP_MNIST, posterior=True, a=3)}.

**Why that is not enough.** Nothing in the reconstruction error stops the encoder from pushing the μ of
different inputs far apart and shrinking σ towards 0: the decoder then gets near-certain codes and
rebuilds well, but the space is no longer continuous.
{_see("See a VAE whose KL weight is small", "tradeoff", dataset="mnist", beta=0.1)}.

**The KL term.** So the loss adds the Kullback–Leibler divergence of each region q(z|x) = N(μ, diag σ²)
from the prior N(0, I). For this diagonal case it is

KL = ½ Σᵢ (σᵢ² + μᵢ² − log σᵢ² − 1),

zero only when μ = 0 and σ = 1. It is the general form for two Gaussians in *k* dimensions,

KL(N(μ₀, Σ₀) ‖ N(μ₁, Σ₁)) = ½ [tr(Σ₁⁻¹Σ₀) + (μ₁ − μ₀)ᵀ Σ₁⁻¹ (μ₁ − μ₀) − k + ln(det Σ₁ / det Σ₀)],

with μ₁ = 0, Σ₁ = I and Σ₀ = diag σ². The loss is the reconstruction error plus this KL (here the
reconstruction error is the Bernoulli −log p(x|z) in nats; the lecture writes an RMSE).
{_see("See both terms for one image, per model", "reconstruct", dataset="fashion_mnist", a=0)}.

**The compromise.** Reconstruction wants clusters, each class tight and apart; KL wants every region
packed at the origin. The result is a compromise: regions packed densely near the origin, still
distinguishable. Weight the KL by β and move it from 0 (the AE) to 8:
{_see("the β trade-off", "tradeoff", dataset="mnist", beta=1)}: the maps pack, the decoded plane
blurs, and the rate–distortion curve shows what each β pays.

**Two minuses of a VAE.** First, nothing guarantees that the space *between* the regions of one object
decodes to meaningful images: {_see("the holes map", "tradeoff", dataset="fashion_mnist", beta=1)}
decodes a fine grid and shades where the project's classifier cannot name what it sees, and counts
how much of the prior's mass decodes to something it can. Second, it is hard to generate a *given*
object: a VAE's {_see("samples", "sample", model="vae_conv_z2.mnist", n=8)} come in random classes,
and to draw a 3 you must first find where the 3s landed on {_see("the map", "latent_map", **MAP_MNIST)}.

**The conditional VAE (CVAE) answers the second.** Give the encoder and the decoder the label too.
Since the decoder is told *which* digit or garment to draw, the code only has to keep the **style**
(slant, thickness, cut): train on images with labels, encode an image's style, then change the label
and decode the same code again. {_see("See one style under every label", "swap_labels", model="cvae_conv_z8.mnist", a=3, b=7)};
{_see("draw each class on demand", "sample", model="cvae_conv_z8.mnist", n=8, label="each")}.

Tabs: **Reconstruct** compares models on one input; **Sample** draws from the prior; **Interpolate**
walks between two codes; **Label swap** is the CVAE demonstration; **Latent map** shows the test set
in latent space (click to decode a point); **Traverse** moves one latent dimension at a time;
**Trade-off (β)** moves through the β sweep. Every tab's settings are in the page URL: copy it to
share exactly what you see; add `&present=1` to open it in presentation mode.
"""
