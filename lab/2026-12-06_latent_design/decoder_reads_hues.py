"""A probe: fine-tune the spread-0.3 VAE's decoder so that it takes the hue from the fourteen normalised channels
too, then decode the 7000-step spread-0.3 T2I with it. The shipped decoder was trained with N(0, 1) in those
channels (it ignores them); here they keep their (normalised) encoder values and the two used channels (6, 8) get
N(0, sigma^2) noise, so the decoder must combine both. The encoder, its statistics and the VAE config (the scaling the
T2I was trained with) are unchanged. The batches are `train_vae`'s (the third decoder run's cycle of kinds).

    python lab/2026-12-06_latent_design/decoder_reads_hues.py SPREAD_0.3_MODEL_DIR OUT_VAE_DIR [--steps 3000] [--sigma 0.25]
"""
import argparse

import torch
from decoder_probe import USED, train_decoder

from icedit_lib.checkpoints import step_rng
from icedit_lib.corpus import vae_batch

KINDS = ["panel", "diptych", "diptych", "diptych", "diptych", "masked"]

p = argparse.ArgumentParser()
p.add_argument("model_dir")
p.add_argument("out_dir")
p.add_argument("--steps", type=int, default=3000)
p.add_argument("--sigma", type=float, default=0.25)
p.add_argument("--lr", type=float, default=2e-4)
p.add_argument("--threads", type=int, default=2)
a = p.parse_args()
torch.set_num_threads(a.threads)
used = torch.zeros(1, 16, 1, 1, dtype=torch.bool)
used[:, USED] = True


def make_step(vae, step):
    rng, gen = step_rng(0, step)
    batch = vae_batch(rng, KINDS[step % len(KINDS)], 8)
    latents = vae.encode(batch).latent_dist.mode()
    return latents + used * a.sigma * torch.randn(latents.shape, generator=gen), batch


train_decoder(f"{a.model_dir}/vae", a.out_dir, make_step, a.steps, a.lr, vars(a))
