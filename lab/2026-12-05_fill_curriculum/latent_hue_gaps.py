"""How far apart the shipped VAE puts each pair of colours, against how often the 45000-step Fill draws one for the
other: one large filled square at the centre on each background, RMS distance over all 16 channels of the centre
4x4 latents (posterior means), averaged over the three backgrounds; the squared distance is what a flow-matching
step pays, to first order, for drawing the one instead of the other.

    python lab/2026-12-05_fill_curriculum/latent_hue_gaps.py [hue_commitment_45000.txt]
"""
import collections
import itertools
import re
import sys
from pathlib import Path

import torch
from diffusers import AutoencoderKL

from icedit_lib import shapesworld as sw
from icedit_lib.corpus import to_tensor

vae = AutoencoderKL.from_pretrained("data/models/mini/vae", use_safetensors=True).eval()
gaps = collections.defaultdict(list)
for background in sw.BACKGROUNDS:
    latents = {}
    for color in sw.COLORS:
        with torch.no_grad():
            z = vae.encode(to_tensor([sw.render(sw.Scene(background, "filled",
                                                         (sw.Obj("square", color, "large", "center"),)))])).latent_dist.mean[0]
        h, w = z.shape[1:]
        latents[color] = z[:, h // 2 - 2:h // 2 + 2, w // 2 - 2:w // 2 + 2]
    for a, b in itertools.combinations(sw.COLORS, 2):
        gaps[frozenset((a, b))].append((latents[a] - latents[b]).pow(2).mean().sqrt().item())
errors = collections.Counter()
path = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parent / "hue_commitment_45000.txt")
for right, read in re.findall(r"^\s+\w+\s+(\w+)\s+(\w+)\s+[\d.]+$", path.read_text(), re.M):
    errors[frozenset((right, read))] += 1
print("pair             latent RMS gap (mean of 3 backgrounds)   wrong colours at 45000 (either way)")
for pair, d in sorted(gaps.items(), key=lambda kv: sum(kv[1])):
    print(f"  {'-'.join(sorted(pair)):15s} {sum(d) / len(d):.3f}   {errors[pair]}")
