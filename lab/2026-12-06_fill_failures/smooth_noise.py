"""Latent noise coherent over an object, shared by the two VAE probes here: a Gaussian grid 4x coarser than the
latent, bilinearly upsampled (smooth over about four latent pixels, the size of a shape's footprint)."""
import torch
import torch.nn.functional as F


def smooth_noise(like: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    b, c, h, w = like.shape
    coarse = torch.randn((b, c, max(1, h // 4), max(1, w // 4)), generator=generator).to(like.device)
    return F.interpolate(coarse, size=(h, w), mode="bilinear", align_corners=False)
