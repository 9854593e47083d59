"""A second probe for a decoder that takes the colour from the fourteen normalised channels: in half the batches,
every object's colour in channels 6 and 8 is made to lie. Each training scene is rendered twice, as it is and with
every object recoloured at random; the latent given to the decoder has the recoloured scene's channels 6 and 8 and
the true scene's fourteen others, the target is the true scene. The other half of the batches are plain (the
encoder's latents of training panels), for exactness. Panels only; the encoder and the VAE config are unchanged.

    python lab/2026-12-06_latent_design/decoder_colour_swap_training.py VAE_DIR OUT_VAE_DIR [--steps 1500]
"""
import argparse
import json
import random
import time
from pathlib import Path

import torch

from icedit_lib import shapesworld as sw
from icedit_lib.corpus import to_tensor
from icedit_lib.pretrain_eval import evaluate_vae
from icedit_lib.schedule import warmup_cosine
from icedit_lib.train_vae import load_for_decoder_training, reconstruction_loss

USED = [6, 8]

p = argparse.ArgumentParser()
p.add_argument("vae_dir")
p.add_argument("out_dir")
p.add_argument("--steps", type=int, default=1500)
p.add_argument("--lr", type=float, default=2e-4)
p.add_argument("--threads", type=int, default=2)
a = p.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(0)
vae = load_for_decoder_training(a.vae_dir).train()
opt = torch.optim.AdamW([q for q in vae.parameters() if q.requires_grad], lr=a.lr, weight_decay=0.0)
rng = random.Random(0)
start = time.time()
for step in range(a.steps):
    scenes = [sw.random_scene(rng, split="train") for _ in range(8)]
    true = to_tensor([sw.render(s) for s in scenes])
    with torch.no_grad():
        latents = vae.encode(true).latent_dist.mode()
        if step % 2:
            lying = [sw.Scene(s.background, s.style, tuple(sw.Obj(o.shape, rng.choice(list(sw.COLORS)), o.size, o.cell)
                                                            for o in s.objects)) for s in scenes]
            latents[:, USED] = vae.encode(to_tensor([sw.render(s) for s in lying])).latent_dist.mode()[:, USED]
    loss = reconstruction_loss(vae.decode(latents).sample, true, 8.0)
    for group in opt.param_groups:
        group["lr"] = warmup_cosine(step, a.lr, 100, a.steps, floor=0.05)
    opt.zero_grad()
    loss.backward()
    opt.step()
    if step % 250 == 0:
        print(f"step {step} loss {loss.item():.4f} {time.time() - start:.0f} s", flush=True)
vae.eval()
evaluation = evaluate_vae(vae, 400)
print(json.dumps(evaluation))
vae.save_pretrained(a.out_dir, safe_serialization=True)
(Path(a.out_dir) / "probe.json").write_text(json.dumps({"args": vars(a), "evaluation": evaluation,
                                                        "wall_s": time.time() - start}, indent=1))
