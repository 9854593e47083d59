"""Which channel group does a decoder take the colour from? Encode one large filled square in colour A and in colour
B (each background), put B's fourteen non-used channels into A's latent, decode and read the square's colour: A
means the decoder follows channels 6 and 8, B the other fourteen.

    python lab/2026-12-06_latent_design/decoder_channel_swap.py VAE_DIR [VAE_DIR ...]
"""
import collections
import itertools
import sys

import torch
from diffusers import AutoencoderKL
from hue_gaps import square_latents

from icedit_lib import shapesworld as sw
from icedit_lib.corpus import to_pil

IGNORED = [c for c in range(16) if c not in (6, 8)]
torch.set_num_threads(1)
for folder in sys.argv[1:]:
    vae = AutoencoderKL.from_pretrained(folder, use_safetensors=True).eval()
    follows = collections.Counter()
    for background in sw.BACKGROUNDS:
        z = square_latents(vae, background)  # each colour encoded once per background
        for a, b in itertools.permutations(sw.COLORS, 2):
            mixed = z[a].clone()
            mixed[:, IGNORED] = z[b][:, IGNORED]
            with torch.no_grad():
                image = to_pil(vae.decode(mixed).sample)[0]
            got = sw.read_scene(image).scene
            obj = got.object_at("center") if got is not None else None
            follows["used (A)" if obj and obj.color == a else "ignored (B)" if obj and obj.color == b else "neither"] += 1
    print(folder, dict(follows))
