"""The loop both decoder probes share: fine-tune a VAE's decoder (`train_vae.load_for_decoder_training`) on latents
that a probe makes for each step, `train_vae`'s loss with weight 8 at colour edges, warm-up and cosine, then
evaluate (400 panels) and save the VAE with a `probe.json` record. Not resumable (minutes)."""
import json
import time
from pathlib import Path

import torch

from icedit_lib.pretrain_eval import evaluate_vae
from icedit_lib.schedule import warmup_cosine
from icedit_lib.train_vae import load_for_decoder_training, reconstruction_loss

USED = [6, 8]  # the two latent channels the shipped VAE's decoder reads


def train_decoder(vae_dir: str, out_dir: str, make_step, steps: int, lr: float, args: dict) -> dict:
    """`make_step(vae, step) -> (latents, target images)`, both without gradient."""
    torch.manual_seed(0)
    vae = load_for_decoder_training(vae_dir).train()
    opt = torch.optim.AdamW([q for q in vae.parameters() if q.requires_grad], lr=lr, weight_decay=0.0)
    start = time.time()
    for step in range(steps):
        with torch.no_grad():
            latents, target = make_step(vae, step)
        loss = reconstruction_loss(vae.decode(latents).sample, target, 8.0)
        for group in opt.param_groups:
            group["lr"] = warmup_cosine(step, lr, 100, steps, floor=0.05)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 250 == 0:
            print(f"step {step} loss {loss.item():.4f} {time.time() - start:.0f} s", flush=True)
    vae.eval()
    evaluation = evaluate_vae(vae, 400)
    print(json.dumps(evaluation))
    vae.save_pretrained(out_dir, safe_serialization=True)
    record = {"args": args, "evaluation": evaluation, "wall_s": time.time() - start}
    (Path(out_dir) / "probe.json").write_text(json.dumps(record, indent=1))
    return record
