"""Does the Fill already know, halfway through, what the right panel will show? A linear read-out
(`scene_loss.SceneHead`) trained on the frozen Fill's image tokens after its last double-stream block, on the
training distribution (right-half-masked diptychs, 80% one change, noise levels as in training); then its accuracy
on held-out steps' tokens: all of them, and the right panel's tokens whose label differs from the left panel's
(the changed cells: what the edit makes).

    python lab/2026-12-05_fill_v2_3/readout_probe.py MODEL_DIR [--steps 300]
"""
import argparse

import torch

from icedit_lib import pretrain_flux, registry, scene_loss

p = argparse.ArgumentParser()
p.add_argument("model_dir")
p.add_argument("--steps", type=int, default=300)
p.add_argument("--eval-batches", type=int, default=20)
args = p.parse_args()
torch.set_num_threads(1)
torch.manual_seed(0)
pipe, _ = registry.load_fill_pipeline(args.model_dir, device="cpu", dtype=torch.float32)
config = pretrain_flux.parse_args(["--stage", "fill", "--batch-size", "16", "--fill-kinds", "right",
                                   "--p-identical", "0.2", "--scene-loss", "1"])
head = scene_loss.SceneHead(pipe.transformer.inner_dim)
tap = scene_loss.BlockTap(pipe.transformer.transformer_blocks[-1])
opt = torch.optim.Adam(head.parameters(), lr=3e-3)
for step in range(args.steps):
    with torch.no_grad():
        examples = pretrain_flux.step_examples(config, 10_000_000 + step)
        pretrain_flux.training_losses(pipe, config, 10_000_000 + step, "cpu", examples)
    loss = head(tap.hidden.detach(), torch.as_tensor(examples["token_labels"]))
    opt.zero_grad()
    loss.backward()
    opt.step()
    if step % 50 == 0:
        print(step, round(loss.item(), 3), flush=True)
right = torch.zeros(8, 16, dtype=torch.bool)
right[:, 8:] = True
right = right.flatten()
hits = {"all": [], "changed": []}
for b in range(args.eval_batches):
    step = 20_000_000 + b
    with torch.no_grad():
        examples = pretrain_flux.step_examples(config, step)
        pretrain_flux.training_losses(pipe, config, step, "cpu", examples)
        labels = torch.as_tensor(examples["token_labels"])
        logits = head.logits(tap.hidden)
    left_of = labels.view(-1, 8, 2, 8, 5)[:, :, 0].reshape(-1, 64, 5)
    changed = torch.zeros_like(labels[..., 0], dtype=torch.bool)
    changed[:, right] = (labels[:, right, :3] != left_of[..., :3]).any(-1)
    for i, lg in enumerate(logits[:3]):  # colour, shape, size of the object in the token's cell
        ok = lg.argmax(-1) == labels[..., i]
        hits["all"].append(ok.flatten())
        hits["changed"].append(ok[changed])
for k, v in hits.items():
    v = torch.cat(v).float()
    print(f"{k}: object attributes read right {100 * v.mean():.1f}% of {v.numel()} (token, attribute) pairs")
