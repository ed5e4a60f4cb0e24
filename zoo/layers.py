"""The convolutional encoder and decoder every family is built from.

Shaped like the Keras VAE example (two stride-2 convolutions, 32 and 64 channels), with a
dense hidden layer. A conditional model feeds a one-hot label in after the convolutions
(encoder) and next to z (decoder), and by FiLM before every up-sampling (decoder) and, if asked,
after every convolution (encoder).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


class ConvEncoder(nn.Module):
    """(B, C, H, W) images [+ (B, cond_dim) condition] -> (B, out_features)."""

    def __init__(self, input_shape: tuple[int, int, int], channels: tuple[int, ...], hidden: int, out_features: int,
                 cond_dim: int = 0, film: bool = False):
        super().__init__()
        if film and not cond_dim:
            raise ValueError("film=True conditions the convolutions on a label: it needs cond_dim > 0")
        c, h, w = input_shape
        layers, in_ch = [], c
        for ch in channels:
            layers += [nn.Conv2d(in_ch, ch, kernel_size=4, stride=2, padding=1), nn.SiLU()]
            in_ch = ch
        self.convs = nn.Sequential(*layers, nn.Flatten())
        scale = 2 ** len(channels)
        flat = in_ch * (h // scale) * (w // scale)
        self.mlp = nn.Sequential(nn.Linear(flat + cond_dim, hidden), nn.SiLU(), nn.Linear(hidden, out_features))
        # With `film`, the condition also scales and shifts every convolution's channels (FiLM, as in the
        # decoder): the features are read knowing the label, so what an "A" and a "g" show of one style can
        # be read differently at every scale, not only after the convolutions.
        self.cond_films = nn.ModuleList(nn.Linear(cond_dim, 2 * ch) for ch in channels) if film else None

    def forward(self, x: Tensor, cond: Tensor | None = None) -> Tensor:
        if self.cond_films is None:
            h = self.convs(x)  # (B, ch * H/2^n * W/2^n)
        else:
            h, films = x, iter(self.cond_films)
            for layer in self.convs:
                h = layer(h)
                if isinstance(layer, nn.SiLU):
                    h = film(h, next(films), cond)
        if cond is not None:
            h = torch.cat([h, cond], dim=1)
        return self.mlp(h)


class ConvDecoder(nn.Module):
    """(B, latent_dim) codes [+ (B, cond_dim) condition] -> (B, C, H, W) logits."""

    def __init__(self, input_shape: tuple[int, int, int], channels: tuple[int, ...], hidden: int, latent_dim: int, cond_dim: int = 0):
        super().__init__()
        c, h, w = input_shape
        scale = 2 ** len(channels)
        self.start_shape = (channels[-1], h // scale, w // scale)
        self.mlp = nn.Sequential(
            nn.Linear(latent_dim + cond_dim, hidden), nn.SiLU(),
            nn.Linear(hidden, channels[-1] * (h // scale) * (w // scale)), nn.SiLU(),
        )
        rev = list(reversed(channels))
        self.deconvs = nn.ModuleList(
            nn.ConvTranspose2d(in_ch, out_ch, kernel_size=4, stride=2, padding=1)
            for in_ch, out_ch in zip(rev, rev[1:] + [c])
        )
        # A conditional decoder also gets the condition before every upsampling, as a per-channel
        # scale and shift (FiLM, https://arxiv.org/abs/1709.07871): the label decides how the style
        # in z is drawn at every scale, instead of only adding to it.
        self.cond_films = nn.ModuleList(nn.Linear(cond_dim, 2 * ch) for ch in rev) if cond_dim else None

    def forward(self, z: Tensor, cond: Tensor | None = None) -> Tensor:
        h = self.mlp(z if cond is None else torch.cat([z, cond], dim=1))
        h = h.view(-1, *self.start_shape)  # (B, ch, H/4, W/4)
        for i, deconv in enumerate(self.deconvs):
            if i > 0:
                h = nn.functional.silu(h)
            if self.cond_films is not None:
                h = film(h, self.cond_films[i], cond)
            h = deconv(h)
        return h  # (B, C, H, W) logits


def film(h: Tensor, layer: nn.Linear, cond: Tensor) -> Tensor:
    """FiLM (https://arxiv.org/abs/1709.07871): feature maps h (B, ch, H, W) scaled and shifted per channel by
    `layer`(cond) -> (B, 2 * ch), around the identity (a zero output leaves h as it is)."""
    scale, shift = layer(cond)[:, :, None, None].chunk(2, dim=1)  # (B, ch, 1, 1) each
    return h * (1 + scale) + shift


def bernoulli_nll(logits: Tensor, x: Tensor) -> Tensor:
    """−log p(x|z) for a Bernoulli likelihood on grey [0, 1] pixels, summed per image: (B,), nats."""
    return nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)


def check_images(x: Tensor, input_shape: tuple[int, int, int]) -> None:
    if x.ndim != 4 or tuple(x.shape[1:]) != tuple(input_shape):
        raise ValueError(f"expected images of shape (B, {', '.join(map(str, input_shape))}), got {tuple(x.shape)}")


def check_codes(z: Tensor, latent_dim: int) -> None:
    if z.ndim != 2 or z.shape[1] != latent_dim:
        raise ValueError(f"expected latent codes of shape (B, {latent_dim}), got {tuple(z.shape)}")
