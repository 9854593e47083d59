"""Does the Fill look at the object it must move? For the one-object moves of the 256-pair evaluation (seed 2025),
the edit is run again as the evaluation runs it (same seed, 28 steps, the one-change caption) and every joint
attention of the transformer is recorded (a wrapper around torch's scaled_dot_product_attention computes the
weights beside it). For the image tokens of the right panel's target cell, the share of attention on the left
panel's tokens around the object's source cell (where its look is) against the share on the left panel's tokens
around the target cell itself (the in-place copy's place, empty background for a move), per layer, averaged over
heads and steps 1-14; the best head's share beside it.

    python lab/2026-12-05_fill_depth/move_attention.py BASE_DIR METRICS.json
"""
import json
import random
import sys

import numpy as np
import torch

from icedit_lib import miniature as mini, shapesworld as sw
from icedit_lib.editor import ICEditor
from icedit_lib.registry import load_fill_pipeline

COLS, ROWS, TEXT = 16, 8, mini.T5_MAX_LENGTH  # image tokens of the 128 x 64 diptych, text tokens before them


def cell_tokens(cell: str, right: bool, radius: int = 1) -> list[int]:
    cx, cy = sw.CELLS[cell]
    r, c = cy // 8, cx // 8
    return [TEXT + rr * COLS + cc + (8 if right else 0)
            for rr in range(max(0, r - radius), min(ROWS, r + radius + 1))
            for cc in range(max(0, c - radius), min(8, c + radius + 1))]


records = []
_sdpa = torch.nn.functional.scaled_dot_product_attention


def recording_sdpa(query, key, value, *args, **kw):
    if query.shape[-2] == TEXT + COLS * ROWS:
        scale = kw.get("scale") or query.shape[-1] ** -0.5
        w = torch.softmax(query @ key.transpose(-1, -2) * scale, dim=-1)
        records.append(w[0].float().numpy())
    return _sdpa(query, key, value, *args, **kw)


def main(base: str, metrics: str):
    m = json.load(open(metrics))
    rng = random.Random(m["seed"])
    drawn = [sw.random_pair(rng, split="eval") for _ in range(m["n"])]
    editor = ICEditor(load_fill_pipeline(base, device="cpu")[0], panel_width=sw.PANEL, max_sequence_length=TEXT)
    torch.nn.functional.scaled_dot_product_attention = recording_sdpa
    rows = []
    for v in m["pairs"]:
        pair = drawn[v["id"]]
        if v["kind"] != "move" or len(pair.source.objects) != 1:
            continue
        records.clear()
        caption = sw.diptych_caption(pair.source, pair.edit)
        editor.edit(sw.render(pair.source), caption, seed=v["id"], steps=28, guidance=30.0, prompt_mode="direct")
        layers = len(records) // 28
        w = np.stack(records).reshape(28, layers, *records[0].shape)[:14]  # steps 1-14: where the look is decided
        query = cell_tokens(pair.edit.value, right=True, radius=0)
        source = cell_tokens(pair.edit.target.cell, right=False)
        mirror = cell_tokens(pair.edit.value, right=False)
        on_source = w[:, :, :, query][..., source].sum(-1).mean((0, 3))  # (layers, heads)
        on_mirror = w[:, :, :, query][..., mirror].sum(-1).mean((0, 3))
        rows.append((v["success"], on_source, on_mirror))
        print(f"{'right' if v['success'] else 'wrong'} {caption.split(' but ')[-1]:40s} source (mean over heads) "
              + " ".join(f"{x:.2f}" for x in on_source.mean(1)) + " | best head "
              + " ".join(f"{x:.2f}" for x in on_source.max(1)) + " | mirror " + " ".join(f"{x:.2f}" for x in on_mirror.mean(1)))
    src = np.stack([r[1] for r in rows]); mir = np.stack([r[2] for r in rows])
    print(f"\n{len(rows)} one-object moves; per layer (2 double-stream, then single-stream), mean over moves:")
    print("  on the source object, mean of heads:", " ".join(f"{x:.3f}" for x in src.mean((0, 2))))
    print("  on the source object, best head:    ", " ".join(f"{x:.3f}" for x in src.max(2).mean(0)))
    print("  on the empty mirror cell, mean:     ", " ".join(f"{x:.3f}" for x in mir.mean((0, 2))))
    print(f"  uniform share of a 3x3 block of the {TEXT + COLS * ROWS} keys: {9 / (TEXT + COLS * ROWS):.3f}")


if __name__ == "__main__":
    main(*sys.argv[1:])
