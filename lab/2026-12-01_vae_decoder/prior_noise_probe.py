"""Does a decoder ignore the latent channels the encoder leaves at the prior?

    python lab/2026-12-01_vae_decoder/prior_noise_probe.py OLD_VAE_DIR NEW_VAE_DIR ... > prior_noise_probe.json

The T2I model was trained while the posterior was still sampled, so it generates N(0, 1) noise in the
14 prior channels; the shipped decoder learned to ignore it. For each VAE folder: the reconstruction
MSE of 32 panels and 32 diptychs (training split, as `vae_batch` draws them) from the encoder's means, and with N(0, 1) in the prior channels.
"""
import json
import random
import sys

import torch
from diffusers import AutoencoderKL

from icedit_lib.corpus import vae_batch
from icedit_lib.train_vae import prior_channels

torch.set_num_threads(1)
torch.manual_seed(0)
encoder = AutoencoderKL.from_pretrained(sys.argv[1]).eval()  # every folder shares this encoder
rng = random.Random(4321)
images = [vae_batch(rng, kind, 32) for kind in ("panel", "diptych")]
with torch.no_grad():
    noisy = prior_channels(encoder).view(1, -1, 1, 1)
    latents = [encoder.encode(x).latent_dist.mode() for x in images]
    noised = [torch.where(noisy, torch.randn_like(z), z) for z in latents]
    out = {"prior_channels": noisy.flatten().nonzero().flatten().tolist(), "mse": {}}
    for folder in sys.argv[1:]:
        vae = AutoencoderKL.from_pretrained(folder).eval()

        def mse(zs):
            return sum(((vae.decode(z).sample.clamp(-1, 1) - x) ** 2).mean().item() for z, x in zip(zs, images)) / 2
        out["mse"][folder] = {"means": mse(latents), "noise_in_prior_channels": mse(noised)}
print(json.dumps(out, indent=2))
