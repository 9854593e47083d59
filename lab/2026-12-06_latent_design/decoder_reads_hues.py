"""A probe: fine-tune the spread-0.3 VAE's decoder so that it takes the hue from the fourteen normalised channels
too, then decode the 7000-step spread-0.3 T2I with it. The shipped decoder was trained with N(0, 1) in those
channels (it ignores them); here they keep their (normalised) encoder values and the two used channels (6, 8) get
N(0, sigma^2) noise, so the decoder must combine both. The encoder, its statistics and the VAE config (the scaling the
T2I was trained with) are unchanged. Training-loop pieces are `train_vae`'s; not resumable (a few minutes).

    python lab/2026-12-06_latent_design/decoder_reads_hues.py SPREAD_0.3_MODEL_DIR OUT_VAE_DIR [--steps 3000] [--sigma 0.25]
"""
import argparse
import json
import time

import torch

from icedit_lib.checkpoints import step_rng
from icedit_lib.corpus import vae_batch
from icedit_lib.pretrain_eval import evaluate_vae
from icedit_lib.schedule import warmup_cosine
from icedit_lib.train_vae import load_for_decoder_training, reconstruction_loss

USED = [6, 8]
KINDS = ["panel", "diptych", "diptych", "diptych", "diptych", "masked"]  # the third decoder run's cycle

p = argparse.ArgumentParser()
p.add_argument("model_dir")
p.add_argument("out_dir")
p.add_argument("--steps", type=int, default=3000)
p.add_argument("--sigma", type=float, default=0.25)
p.add_argument("--lr", type=float, default=2e-4)
p.add_argument("--threads", type=int, default=2)
a = p.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(0)
vae = load_for_decoder_training(f"{a.model_dir}/vae").train()
opt = torch.optim.AdamW([q for q in vae.parameters() if q.requires_grad], lr=a.lr, weight_decay=0.0)
used = torch.zeros(1, vae.config.latent_channels, 1, 1, dtype=torch.bool)
used[:, USED] = True
start = time.time()
for step in range(a.steps):
    rng, gen = step_rng(0, step)
    batch = vae_batch(rng, KINDS[step % len(KINDS)], 8)
    with torch.no_grad():
        latents = vae.encode(batch).latent_dist.mode()
        latents = latents + used * a.sigma * torch.randn(latents.shape, generator=gen)
    loss = reconstruction_loss(vae.decode(latents).sample, batch, 8.0)
    for group in opt.param_groups:
        group["lr"] = warmup_cosine(step, a.lr, 100, a.steps, floor=0.05)
    opt.zero_grad()
    loss.backward()
    opt.step()
    if step % 500 == 0:
        print(f"step {step} loss {loss.item():.4f} {time.time() - start:.0f} s", flush=True)
vae.eval()
evaluation = evaluate_vae(vae, 400)
print(json.dumps(evaluation))
vae.save_pretrained(a.out_dir, safe_serialization=True)
(__import__("pathlib").Path(a.out_dir) / "probe.json").write_text(json.dumps(
    {"args": vars(a), "evaluation": evaluation, "wall_s": time.time() - start}, indent=1))
