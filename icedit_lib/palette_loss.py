"""A training-only colour term for the Fill: cross-entropy over ShapesWorld's palette of the decoded x0 prediction.

Why. The flow loss is a squared distance between latents, and the miniature's VAE puts three pairs of colours
close together: orange and yellow, blue and purple, red and orange (RMS latent gap 0.24-0.30, against 0.52-1.27 for
the other twelve pairs). Drawing the neighbouring hue costs the Fill 3 to 27 times less than drawing a far one, and
that is where its errors are: of the objects the 45000-step Fill colours wrongly, 21 of 25 take exactly those
neighbours, and commit to them (`lab/2026-12-05_fill_curriculum`). This term adds a cost for colour alone, with a
scale of its own: at the temperature below, a pixel drawn in the closest wrong colour costs 6 nats, so even the
neighbours are charged a fixed amount per pixel, weighed by `--palette-loss` against the rest of the loss. (It
does not charge every wrong colour alike: the logits are squared RGB distances, whose range over the palette,
17 to 1, is only somewhat narrower than the latents' 27 to 1.)

How (at every noise level, on the right panel of diptychs):
- the prediction of the clean latents, x0_hat = x_t - t v_pred (rectified flow: x_t = (1 - t) x0 + t noise,
  v = noise - x0), is decoded by the frozen VAE;
- each decoded pixel gets logits -|rgb_hat - c_k|^2 / TEMPERATURE over the palette c_k (six colours, three
  backgrounds), and its label is the target pixel's colour where the target shows an object (renders are
  pixel-exact, so an object pixel is a palette colour exactly); background pixels are left to the flow loss.
In a diptych the right panel is fixed by the left one and the caption, so its clean latents are the best
prediction at any noise level, for this term as for the flow loss. Training-only: the exported transformer and
sampling are unchanged. An addition of this course, not part of FLUX or ICEdit (FLUX's VAE was trained on web
images, where no palette is fixed).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from . import shapesworld as sw

# six colours, then the three backgrounds, in [-1, 1] as the pipelines feed images to the VAE
PALETTE = torch.tensor([*sw.COLORS.values(), *sw.BACKGROUNDS.values()], dtype=torch.float32) / 127.5 - 1.0
TEMPERATURE = 0.05  # orange vs yellow, the closest pair (0.30 squared apart): a 6-nat margin when drawn exactly
IGNORE = -100


def object_pixel_labels(images: torch.Tensor) -> torch.Tensor:
    """[B, H, W] palette index of every pixel of `images` ([B, 3, H, W] in [-1, 1]) that is exactly one of the six
    object colours; IGNORE elsewhere (backgrounds)."""
    colours = PALETTE[:len(sw.COLORS)].to(images.device)
    hit = (images[:, None] - colours[None, :, :, None, None]).abs().amax(2) < 1e-3  # [B, 6, H, W]
    return torch.where(hit.any(1), hit.float().argmax(1), torch.full_like(hit[:, 0], IGNORE, dtype=torch.long))


def palette_cross_entropy(vae, x0_hat: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy over the palette of the object pixels of `target` ([B, 3, H, W] in [-1, 1]) in the decoded
    `x0_hat` ([B, C, H / 4, W / 4] normalised latents, as `pretrain_flux.encode_images` makes them); 0 (with a
    gradient path) where the target shows no object."""
    rgb = vae.decode(x0_hat / vae.config.scaling_factor + (vae.config.shift_factor or 0.0)).sample
    labels = object_pixel_labels(target)
    if not (labels != IGNORE).any():
        return rgb.sum() * 0.0
    dist2 = (rgb[:, None] - PALETTE.to(rgb)[None, :, :, None, None]).pow(2).sum(2)  # [B, 9, H, W]
    return F.cross_entropy(-dist2 / TEMPERATURE, labels, ignore_index=IGNORE)
