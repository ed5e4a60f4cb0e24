"""Restyling: new styles made from the training set's, for a model that must carry a style to unseen faces.

A typeface family's faces differ by slant, width and weight, and a test split held out by family has
styles no training face has. `Restyle` draws, for each image of a batch, a slant (a horizontal shear
about the image's centre row, so no row moves and every baseline stays put), a width (a horizontal
scale about the centre column) and a stroke weight (a grey-level dilation, blended in by a random
amount), and applies the *same* draw to each image's partner, the other character of its face that a
paired recipe decodes the code as (`Recipe.pair_by`). So every batch is made of faces that were never
installed but are drawn consistently, character by character.

The draws come from a torch.Generator, so a seeded run restyles the same way every time. The
geometry is torch's own (`affine_grid` + `grid_sample`, bilinear); the weight is a 3×3 max-pool.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor


@dataclass(frozen=True)
class Restyle:
    """Random slant, width and weight per image, shared by the images at the same index of every batch passed.

    slant: the shear's largest |tan| (0.15: at most about 8.5°, ±5 pixels at a 64-pixel glyph's top and bottom);
    width: (narrowest, widest) horizontal scale, drawn log-uniformly;
    weight: how much of a one-pixel dilation is blended in at most, drawn uniformly in [-weight, weight] and
        clipped at 0, so half the images keep their weight (an erosion would wipe out a thin face's strokes).
    """

    slant: float = 0.15
    width: tuple[float, float] = (0.8, 1.05)
    weight: float = 0.6

    def __post_init__(self):
        low, high = self.width
        if not (self.slant >= 0 and 0 < low <= high and self.weight >= 0):
            raise ValueError(f"Restyle needs slant >= 0, 0 < width[0] <= width[1] and weight >= 0, got {self}")

    def draw(self, n: int, generator: torch.Generator | None = None) -> tuple[Tensor, Tensor, Tensor]:
        """(shear, scale, weight), each (n,): one style per image."""
        u = torch.rand(3, n, generator=generator) * 2 - 1  # U(-1, 1)
        low, high = (math.log(w) for w in self.width)
        shear = u[0] * self.slant
        scale = torch.exp(low + (u[1] + 1) / 2 * (high - low))
        weight = (u[2] * self.weight).clamp(min=0)
        return shear, scale, weight

    def __call__(self, *batches: Tensor, generator: torch.Generator | None = None) -> tuple[Tensor, ...]:
        """Each (B, C, H, W) batch restyled; image i of every batch under the same draw."""
        first = batches[0]
        shear, scale, weight = (t.to(first.device) for t in self.draw(len(first), generator))
        # affine_grid maps each output pixel to where it is read from, in [-1, 1] coordinates: x_in = (x_out - shear * y_out) / scale.
        theta = torch.zeros(len(first), 2, 3, device=first.device, dtype=first.dtype)
        theta[:, 0, 0], theta[:, 0, 1], theta[:, 1, 1] = 1 / scale, -shear / scale, 1
        grid = F.affine_grid(theta, list(first.shape), align_corners=False)
        out = []
        for batch in batches:
            if batch.shape != first.shape:
                raise ValueError(f"restyled batches must share one shape, got {tuple(first.shape)} and {tuple(batch.shape)}")
            moved = F.grid_sample(batch, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
            bolder = F.max_pool2d(moved, kernel_size=3, stride=1, padding=1)
            out.append(torch.lerp(moved, bolder, weight.view(-1, 1, 1, 1)))
        return tuple(out)
