"""How far apart the VAE puts the six colours: one large square at the centre, per background and style; the
channels whose mean over the latent moves with the colour, and the closest colour pairs (RMS over all 16 channels
of the centre 4x4 latents for filled squares, of the whole latent for outlines).

    python lab/2026-12-05_fill_v2_3/vae_color_distances.py
"""
import itertools

import torch
from diffusers import AutoencoderKL

from icedit_lib import shapesworld as sw
from icedit_lib.corpus import to_tensor

vae = AutoencoderKL.from_pretrained("data/models/mini/vae", use_safetensors=True).eval()
for background in ("white", "black", "gray"):
    for style in ("filled", "outline"):
        latents = {}
        for color in sw.COLORS:
            scene = sw.Scene(background, style, (sw.Obj("square", color, "large", "center"),))
            with torch.no_grad():
                z = vae.encode(to_tensor([sw.render(scene)])).latent_dist.mean[0]
            h, w = z.shape[1:]
            latents[color] = z[:, h // 2 - 2:h // 2 + 2, w // 2 - 2:w // 2 + 2] if style == "filled" else z
        spread = torch.stack(list(latents.values())).flatten(2).mean(-1).std(0)
        gaps = {(a, b): (latents[a] - latents[b]).pow(2).mean().sqrt().item()
                for a, b in itertools.combinations(sw.COLORS, 2)}
        print(background, style, "channels that carry colour (std > 0.05):",
              [(i, round(v, 2)) for i, v in enumerate(spread.tolist()) if v > 0.05])
        print("   closest:", [(a, b, round(d, 3)) for (a, b), d in sorted(gaps.items(), key=lambda x: x[1])[:4]])
