"""How well a conditional model keeps the style, measured against the truth: label swaps on glyphs.

A typeface draws every character, so "this face's style, another character" exists. For each
held-out face: encode every glyph with its own label, decode that code under every *other* label,
and compare with the face's true glyph of that label.

  swap_mse, swap_ssim: the swaps against the true glyphs (per pixel; SSIM by torchmetrics, the
      Gaussian-window SSIM of Wang et al. 2004, https://doi.org/10.1109/TIP.2003.819861);
  class_mean_mse: the mean training image of the target character against the same true glyphs;
  style_gain = 1 − swap_mse / class_mean_mse: 0 for a model that ignores the style (it can do no
      better than the class mean), 1 for one that draws the true glyph;
  recon_ssim: plain reconstructions (each glyph under its own label), for scale;
  face_code_gain: the style gain of the face's codes averaged over all its glyphs, that one code decoded
      under every label: what the decoder draws of a face when the encoder is shown the whole face, not one
      glyph. It bounds what better one-glyph inference alone can win (meaningful for a continuous code).

`NearestFace` is the reference a model should beat, with nothing learnt: it takes the training face
whose glyph of the same character is nearest and draws that face's glyphs. Its style gain is what
looking up the most similar known typeface achieves from one glyph.
"""

from __future__ import annotations

from types import SimpleNamespace

import torch
from torch import Tensor


CHUNK = 256  # images decoded at once: a face's 62 × 61 swaps at 64×64 in one batch run 1.6× slower (memory traffic)


def in_chunks(fn, *tensors: Tensor, size: int = CHUNK) -> Tensor:
    """fn over the tensors' rows, `size` at a time, concatenated: fn(a[i:j], b[i:j], ...) for each chunk."""
    return torch.cat([fn(*(t[start:start + size] for t in tensors)) for start in range(0, len(tensors[0]), size)])


def ssim(preds: Tensor, target: Tensor) -> Tensor:
    """Per-image SSIM of (N, C, H, W) images in [0, 1]: (N,)."""
    from torchmetrics.functional.image import structural_similarity_index_measure  # a second to import: when needed

    return structural_similarity_index_measure(preds, target, data_range=1.0, reduction="none")


@torch.inference_mode()
def style_swap_metrics(model, faces: Tensor, class_means: Tensor, device: torch.device | str = "cpu") -> dict:
    """faces: (F, K, C, H, W), the K glyphs of F faces (glyph k has label k); class_means: (K, C, H, W),
    the mean training image of each label. `model` (on `device`) answers encode(x, y).mean and decode(z, y)."""
    num_faces, k = faces.shape[:2]
    if class_means.shape != faces.shape[1:]:
        raise ValueError(f"class_means {tuple(class_means.shape)} do not match the faces' glyphs {tuple(faces.shape[1:])}")
    labels = torch.arange(k, device=device)
    source, target = labels.repeat_interleave(k), labels.repeat(k)  # pair i * K + j: glyph i decoded as label j
    other = source != target
    swap_mse, mean_mse, swap_ssim, recon_ssim, face_mse = [], [], [], [], []
    means = class_means.to(device)
    for glyphs in faces:
        x = glyphs.to(device)  # (K, C, H, W)
        style = model.encode(x, labels).mean  # (K, D)
        recon_ssim.append(ssim(model.decode(style, labels).float(), x))
        swaps = in_chunks(model.decode, style[source[other]], target[other]).float()  # (K(K-1), C, H, W)
        truth = x[target[other]]
        swap_mse.append((swaps - truth).square().flatten(1).mean(1))
        # Every label is the target of K − 1 swaps, so the class means' error over the K labels once has the
        # same mean as over the swaps' targets: one baseline for the swaps and the whole-face code.
        mean_mse.append((means - x).square().flatten(1).mean(1))
        swap_ssim.append(ssim(swaps, truth))
        whole_face = model.decode(style.mean(0, keepdim=True).expand(k, -1), labels).float()  # one code, every label
        face_mse.append((whole_face - x).square().flatten(1).mean(1))
    swap_mse, mean_mse = torch.cat(swap_mse).mean().item(), torch.cat(mean_mse).mean().item()
    return {
        "style_gain": 1 - swap_mse / mean_mse,
        "swap_mse": swap_mse,
        "class_mean_mse": mean_mse,
        "swap_ssim": torch.cat(swap_ssim).mean().item(),
        "recon_ssim": torch.cat(recon_ssim).mean().item(),
        "face_code_gain": 1 - torch.cat(face_mse).mean().item() / mean_mse,
        "style_faces": num_faces,
    }


class NearestFace:
    """Label swaps by lookup: a glyph's "code" is the face of `faces` (F, K, C, H, W; glyph k has label k) whose
    glyph of the same label is nearest to it (MSE), and decoding draws that face's glyph of the asked label.
    With the test faces themselves as `faces` it is an oracle (style gain 1); with the training faces, the
    reference a model's swaps should beat."""

    def __init__(self, faces: Tensor):
        self.faces = faces.float()
        self.flat = self.faces.flatten(2)  # (F, K, C*H*W)

    def encode(self, x: Tensor, y: Tensor):
        distances = torch.stack([(self.flat[:, k] - glyph).square().mean(-1)  # (F,) per glyph: no (F, B, P) copy
                                 for glyph, k in zip(x.cpu().flatten(1), y.tolist())], dim=1)  # (F, B)
        return SimpleNamespace(mean=distances.argmin(0, keepdim=True).T.float().to(x.device))  # (B, 1): a face index

    def decode(self, z: Tensor, y: Tensor) -> Tensor:
        return self.faces[z[:, 0].long().cpu(), y.cpu()].to(z.device)


def class_means(images: Tensor, labels: Tensor, num_classes: int) -> Tensor:
    """(K, C, H, W): the mean image of each label in (images (N, C, H, W), labels (N,))."""
    sums = torch.zeros(num_classes, *images.shape[1:]).index_add_(0, labels, images.float())
    counts = torch.bincount(labels, minlength=num_classes).clamp(min=1).float()
    return sums / counts.view(-1, *[1] * (images.ndim - 1))
