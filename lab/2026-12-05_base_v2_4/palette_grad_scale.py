"""How large the colour term (`palette_loss`) is against the flow loss on a trained Fill, to choose its weight:
both terms' values and gradient norms (over the transformer's weights) on a few training batches.

    python lab/2026-12-05_base_v2_4/palette_grad_scale.py FILL_DIR [N_BATCHES]
"""
import sys

import torch

from icedit_lib.pretrain_flux import build_stage, load_export, parse_args, step_examples, training_losses

torch.set_num_threads(1)
model_dir, n = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 4
config = parse_args(["--stage", "fill", "--model-dir", model_dir, "--fill-kinds", "right", "--p-identical", "0.2",
                     "--palette-loss", "1"])
pipe, model = build_stage(config, "cpu")
load_export(model, config, "cpu")
params = [p for p in model.transformer.parameters() if p.requires_grad]
for step in range(10_000_000, 10_000_000 + n):  # batches beyond any training run's steps
    parts = training_losses(pipe, config, step, "cpu", step_examples(config, step))
    norms = {}
    for name, part in parts.items():
        grads = torch.autograd.grad(part, params, retain_graph=True, allow_unused=True)
        norms[name] = torch.sqrt(sum(g.pow(2).sum() for g in grads if g is not None)).item()
    print(f"batch {step}: " + ", ".join(f"{k} {v.item():.4f} (grad {norms[k]:.4f})" for k, v in parts.items()),
          flush=True)
