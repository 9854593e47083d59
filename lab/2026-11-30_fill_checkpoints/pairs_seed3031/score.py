"""A second set of 256 held-out Fill pairs (seed 3031; `icedit eval-pretrained` always draws seed 2025's):
does a difference seen on the first set hold on other pairs?

    python lab/2026-11-30_fill_checkpoints/pairs_seed3031/score.py BASE OUT.json     # 7 minutes on one thread
"""
import json
import sys

import torch

from icedit_lib import registry
from icedit_lib.pretrain_eval import evaluate_fill

torch.set_num_threads(1)
base, out = sys.argv[1], sys.argv[2]
pipe, _ = registry.load_fill_pipeline(base, device="cpu")
pipe.set_progress_bar_config(disable=True)
metrics = evaluate_fill(pipe, n=256, seed=3031)
with open(out, "w") as f:
    json.dump({"base": base, **metrics}, f, indent=1)
print(base, metrics["fill_one_change"], metrics["fill_kept_objects"])
