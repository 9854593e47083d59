"""The miniature FLUX's pretraining corpus: ShapesWorld images with descriptive captions.

Like FLUX's web data it holds no imperative instructions: single panels with their
descriptions, and diptychs (collages of the same scene twice, or with one change)
described in the declarative grammar of `shapesworld.diptych_caption`. Everything is
generated on the fly from a seeded `random.Random`, so a training step's data is a
function of (seed, step) and nothing needs storing.
"""
from __future__ import annotations

import random

import numpy as np
import torch
from PIL import Image

from . import shapesworld as sw


def to_tensor(images: list[Image.Image]) -> torch.Tensor:
    """PIL images -> [B, 3, H, W] in [-1, 1], the VAE's (and FluxPipeline's) range."""
    arr = np.stack([np.asarray(im.convert("RGB"), dtype=np.float32) for im in images])
    return torch.from_numpy(arr).permute(0, 3, 1, 2) / 127.5 - 1.0


def to_pil(batch: torch.Tensor) -> list[Image.Image]:
    arr = ((batch.clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).cpu().numpy()
    return [Image.fromarray(a) for a in arr]


def random_diptych(rng: random.Random, p_identical: float = 0.5) -> tuple[sw.Scene, sw.Edit | None, sw.Scene]:
    """(left scene, the change or None, right scene): a web-style collage of one training scene."""
    if rng.random() < p_identical:
        scene = sw.random_scene(rng, split="train")
        return scene, None, scene
    pair = sw.random_pair(rng, split="train")
    return pair.source, pair.edit, pair.target


def mask_right_half(batch: torch.Tensor) -> torch.Tensor:
    """What FluxFillPipeline feeds the VAE for a right-half mask: image * (1 - mask),
    i.e. the right half set to 0 (mid-gray) in [-1, 1]."""
    out = batch.clone()
    out[..., out.shape[-1] // 2:] = 0.0
    return out


def vae_batch(rng: random.Random, kind: str, batch_size: int) -> torch.Tensor:
    """Images the VAE meets in use: single panels (T2I), diptychs, and right-half-masked
    diptychs (Fill conditioning). GroupNorm statistics span the whole image, so a VAE
    trained on panels alone fails on diptychs."""
    if kind == "panel":
        return to_tensor([sw.render(sw.random_scene(rng, split="train")) for _ in range(batch_size)])
    diptychs = []
    for _ in range(batch_size):
        left, _, right = random_diptych(rng)
        diptychs.append(sw.render_diptych(left, right))
    batch = to_tensor(diptychs)
    return mask_right_half(batch) if kind == "masked" else batch
