"""Does base v2's T2I draw one-change diptychs (source | edited) from noise, given the descriptive caption with the
left scene described? The ceiling of any inversion framework built on it. Held-out pairs, 28 steps, 80 tokens.

    python lab/2026-12-05_inversion_right_start/t2i_change_diptychs.py --n 32
"""
import argparse
import random
import sys
from collections import defaultdict

import torch

sys.path.insert(0, ".")
from icedit_lib import registry, shapesworld as sw  # noqa: E402

p = argparse.ArgumentParser()
p.add_argument("--n", type=int, default=32)
p.add_argument("--max-objects", type=int, default=4, help="2: only scenes whose left half the T2I saw described in "
               "pretraining (`pretrain_flux.describe_left`)")
args = p.parse_args()
torch.set_num_threads(1)
pipe, entry = registry.load_t2i_pipeline("mini-t2i", device="cpu")
pipe.set_progress_bar_config(disable=True)
rng = random.Random(11)
counts = defaultdict(lambda: [0, 0, 0, 0])  # type: [n, left exact, right exact, both]
for i in range(args.n):
    pair = sw.random_pair(rng, split="eval")
    while len(pair.source.objects) > args.max_objects:
        pair = sw.random_pair(rng, split="eval")
    cap = sw.diptych_caption(pair.source, pair.edit, describe_left=True)
    img = pipe(cap, height=64, width=128, num_inference_steps=28, guidance_scale=3.5,
               max_sequence_length=entry.max_sequence_length, generator=torch.Generator().manual_seed(i)).images[0]
    left = sw.read_scene(img.crop((0, 0, 64, 64))).exact == pair.source
    right = sw.read_scene(img.crop((64, 0, 128, 64))).exact == pair.target
    for key in (pair.edit.kind, "all"):
        c = counts[key]
        c[0] += 1; c[1] += left; c[2] += right; c[3] += left and right
for k, (n, left, right, both) in sorted(counts.items()):
    print(f"{k:11s} n={n:3d} left exact {left}/{n}  right = target {right}/{n}  both {both}/{n}")
