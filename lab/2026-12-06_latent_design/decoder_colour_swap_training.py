"""A second probe for a decoder that takes the colour from the fourteen normalised channels: in half the batches,
every object's colour in channels 6 and 8 is made to lie. Each training scene is rendered twice, as it is and with
every object recoloured at random; the latent given to the decoder has the recoloured scene's channels 6 and 8 and
the true scene's fourteen others, the target is the true scene. The other half of the batches are plain (the
encoder's latents of training panels), for exactness. Panels only; the encoder and the VAE config are unchanged.

    python lab/2026-12-06_latent_design/decoder_colour_swap_training.py VAE_DIR OUT_VAE_DIR [--steps 1500]
"""
import argparse
import random

import torch
from decoder_probe import USED, train_decoder

from icedit_lib import shapesworld as sw
from icedit_lib.corpus import to_tensor

p = argparse.ArgumentParser()
p.add_argument("vae_dir")
p.add_argument("out_dir")
p.add_argument("--steps", type=int, default=1500)
p.add_argument("--lr", type=float, default=2e-4)
p.add_argument("--threads", type=int, default=2)
a = p.parse_args()
torch.set_num_threads(a.threads)
rng = random.Random(0)


def recoloured(scene):
    return sw.Scene(scene.background, scene.style,
                    tuple(sw.Obj(o.shape, rng.choice(list(sw.COLORS)), o.size, o.cell) for o in scene.objects))


def make_step(vae, step):
    scenes = [sw.random_scene(rng, split="train") for _ in range(8)]
    true = to_tensor([sw.render(s) for s in scenes])
    latents = vae.encode(true).latent_dist.mode()
    if step % 2:
        lying = [recoloured(s) for s in scenes]
        latents[:, USED] = vae.encode(to_tensor([sw.render(s) for s in lying])).latent_dist.mode()[:, USED]
    return latents, true


train_decoder(a.vae_dir, a.out_dir, make_step, a.steps, a.lr, vars(a))
