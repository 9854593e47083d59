"""How far apart the shipped VAE puts the six colours (a probe, not a lesson).

A large filled square of each colour at the centre cell, on each background, encoded to its posterior mean; the
distance between two colours is the RMS difference of the 16 x 5 x 5 latent block under the square. Also: which
latent channels vary with the colour there.

    python lab/2026-12-06_fill_failures/colour_margins.py [VAE_DIR]
"""
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from diffusers import AutoencoderKL  # noqa: E402
from icedit_lib import shapesworld as sw  # noqa: E402
from icedit_lib.corpus import to_tensor  # noqa: E402

vae = AutoencoderKL.from_pretrained(sys.argv[1] if len(sys.argv) > 1 else "data/models/mini/vae").eval()
colours = list(sw.COLORS)
out = {}
for background in sw.BACKGROUNDS:
    latents = {}
    for colour in colours:
        scene = sw.Scene(objects=(sw.Obj("square", colour, "large", "center"),), background=background, style="filled")
        with torch.no_grad():
            latents[colour] = vae.encode(to_tensor([sw.render(scene)])).latent_dist.mean[0, :, 6:11, 6:11]
    spread = torch.stack([latents[c] for c in colours]).std(0).mean((1, 2))
    pairs = {f"{a}-{b}": float((latents[a] - latents[b]).pow(2).mean().sqrt())
             for i, a in enumerate(colours) for b in colours[i + 1:]}
    out[background] = {"channel_spread": [round(float(s), 3) for s in spread], "distances": pairs}
    closest = sorted(pairs.items(), key=lambda kv: kv[1])[:4]
    print(f"{background}: channels with colour spread > 0.1: {[k for k, s in enumerate(spread) if s > 0.1]}; "
          f"closest pairs {', '.join(f'{k} {v:.2f}' for k, v in closest)}; farthest {max(pairs.values()):.2f}")
(Path(__file__).parent / "colour_margins.json").write_text(json.dumps(out, indent=1))
