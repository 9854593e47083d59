"""Probe (session 27): a judge built like a VLM, from a pretrained vision tower and a pretrained text encoder.

The shipped mini-judge learns everything from a one-bit label: a CNN from scratch, an embedding table from scratch.
Its loss stays flat and it ranks seeds of one edit at chance. Here:
1. a *scene reader*: a small CNN applied to each of the 9 cells of a panel (a 22 x 22 crop), trained on renders of
   random training scenes (unlimited, labels exact) to name the cell's shape (or empty), color, size and style and
   the background, with renders degraded by noise, blur and local smears marked unclean;
2. a judge on top: the frozen reader's cell features of source and candidate (one token per cell), the frozen
   miniature T5's token embeddings of the instruction, a 2-layer transformer, one success logit; trained on the
   synthetic candidates of `mini_judge.synthetic_candidate` (all kinds), labelled by the parser.
Measured: the reader's accuracy on held-out renders, and the judge's within-edit agreement on the held-out pool
of the shipped judge's run (`checkpoints/judge/pool/eval_*`: the training-free editor's seeds of 96 held-out edits).

    python lab/2026-12-05_judge_reader/probe.py --reader-steps 3000 --judge-steps 3000
"""
from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageFilter
from torch import nn

from icedit_lib import shapesworld as sw
from icedit_lib import train_judge as tj
from icedit_lib.corpus import to_tensor
from icedit_lib.mini_judge import CANDIDATE_KINDS, LOCAL_KINDS, synthetic_candidate

CELL_NAMES = list(sw.CELLS)
CROP = 22
SHAPE_CLASSES = ("empty",) + sw.SHAPES


def crops(images: torch.Tensor) -> torch.Tensor:
    """[B, 3, 64, 64] -> [B, 9, 3, 22, 22]: the window around each cell (padded at the border)."""
    padded = nn.functional.pad(images, (CROP // 2,) * 4, value=0.0)
    out = [padded[:, :, cy:cy + CROP, cx:cx + CROP] for cx, cy in sw.CELLS.values()]
    return torch.stack(out, 1)


class SceneReader(nn.Module):
    def __init__(self, width: int = 96):
        super().__init__()
        self.cnn = nn.Sequential(
            nn.Conv2d(3, 32, 3, padding=1), nn.GELU(),
            nn.Conv2d(32, 64, 3, stride=2, padding=1), nn.GELU(),   # 11
            nn.Conv2d(64, 96, 3, stride=2, padding=1), nn.GELU(),   # 6
            nn.Flatten(), nn.Linear(96 * 36, width), nn.GELU())
        self.cell_pos = nn.Parameter(torch.zeros(9, width))
        self.heads = nn.ModuleDict({"shape": nn.Linear(width, 5), "color": nn.Linear(width, len(sw.COLORS)),
                                    "size": nn.Linear(width, 2), "style": nn.Linear(width, 2),
                                    "background": nn.Linear(width, len(sw.BACKGROUNDS)), "clean": nn.Linear(width, 1)})
        self.width = width

    def features(self, images: torch.Tensor) -> torch.Tensor:  # [B, 9, width]
        c = crops(images)
        return self.cnn(c.flatten(0, 1)).view(len(images), 9, -1) + self.cell_pos

    def forward(self, images):
        f = self.features(images)
        return f, {k: h(f) for k, h in self.heads.items()}


def cell_labels(scene: sw.Scene, clean_cells: set[str] | None = None) -> dict:
    by_cell = {o.cell: o for o in scene.objects}
    lab = {"shape": [], "color": [], "size": [], "style": [], "background": [], "clean": []}
    for name in CELL_NAMES:
        o = by_cell.get(name)
        lab["shape"].append(SHAPE_CLASSES.index(o.shape) if o else 0)
        lab["color"].append(list(sw.COLORS).index(o.color) if o else -100)
        lab["size"].append(list(sw.SIZES).index(o.size) if o else -100)
        lab["style"].append(sw.STYLES.index(scene.style) if o else -100)
        lab["background"].append(list(sw.BACKGROUNDS).index(scene.background))
        lab["clean"].append(1.0 if clean_cells is None or name in clean_cells else 0.0)
    return lab


def degraded(scene: sw.Scene, rng: random.Random) -> tuple[Image.Image, set[str]]:
    """A render, sometimes with a cell smeared or blended (marked unclean), sometimes noisy or blurred overall."""
    img = sw.render(scene)
    clean = set(CELL_NAMES)
    r = rng.random()
    if r < 0.3 and scene.objects:
        o = rng.choice(scene.objects)
        cx, cy = sw.CELLS[o.cell]
        box = (cx - 10, cy - 10, cx + 11, cy + 11)
        patch = img.crop(box)
        if rng.random() < 0.5:
            patch = patch.filter(ImageFilter.GaussianBlur(rng.uniform(1.0, 3.0)))
        else:
            bg = Image.new("RGB", patch.size, sw.BACKGROUNDS[scene.background])
            patch = Image.blend(patch, bg, rng.uniform(0.3, 0.7))
        img.paste(patch, box[:2])
        clean.discard(o.cell)
    elif r < 0.45:
        arr = np.asarray(img, np.float32) + np.random.default_rng(rng.randrange(2 ** 31)).normal(0, rng.uniform(2, 12),
                                                                                                 (64, 64, 3))
        img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    return img, clean


def reader_batch(rng: random.Random, n: int):
    images, labels = [], []
    for _ in range(n):
        scene = sw.random_scene(rng, split="train")
        img, clean = degraded(scene, rng)
        images.append(img)
        labels.append(cell_labels(scene, clean))
    lab = {k: torch.tensor([l[k] for l in labels]) for k in labels[0]}
    return to_tensor(images), lab


def reader_loss(model, images, lab):
    _, out = model(images)
    loss = nn.functional.binary_cross_entropy_with_logits(out["clean"].squeeze(-1), lab["clean"])
    for k in ("shape", "color", "size", "style", "background"):
        loss = loss + nn.functional.cross_entropy(out[k].flatten(0, 1), lab[k].flatten(), ignore_index=-100)
    return loss


@torch.no_grad()
def reader_accuracy(model, n=512, seed=12345):
    rng = random.Random(seed)
    exact = 0
    cell_hits = {k: [0, 0] for k in ("shape", "color", "size")}
    for _ in range(n // 64):
        scenes = [sw.random_scene(rng, split="eval") for _ in range(64)]
        _, out = model(to_tensor([sw.render(s) for s in scenes]))
        for i, s in enumerate(scenes):
            lab = cell_labels(s)
            ok = True
            for k in cell_hits:
                pred = out[k][i].argmax(-1).tolist()
                for c in range(9):
                    if lab[k][c] != -100:
                        cell_hits[k][0] += pred[c] == lab[k][c]
                        cell_hits[k][1] += 1
                        ok &= pred[c] == lab[k][c]
            exact += ok
    return {"scenes_all_cells_right": exact / n, **{k: h / t for k, (h, t) in cell_hits.items()}}


class ReaderJudge(nn.Module):
    def __init__(self, reader_width: int, text_width: int = 64, width: int = 96, layers: int = 2):
        super().__init__()
        self.cell_in = nn.Linear(3 * reader_width, width)   # source, candidate, candidate - source
        self.text_in = nn.Linear(text_width, width)
        self.cls = nn.Parameter(torch.zeros(1, 1, width))
        self.types = nn.Parameter(torch.randn(2, width) * 0.02)
        layer = nn.TransformerEncoderLayer(width, 4, 2 * width, dropout=0.0, batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.head = nn.Sequential(nn.LayerNorm(width), nn.Linear(width, 1))

    def forward(self, src_f, cand_f, text, text_mask):
        cells = self.cell_in(torch.cat([src_f, cand_f, cand_f - src_f], -1)) + self.types[1]
        t = self.text_in(text) + self.types[0]
        tokens = torch.cat([self.cls.expand(len(src_f), -1, -1), t, cells], 1)
        pad = torch.cat([torch.zeros(len(src_f), 1, dtype=torch.bool), ~text_mask.bool(),
                         torch.zeros(len(src_f), 9, dtype=torch.bool)], 1)
        return self.head(self.encoder(tokens, src_key_padding_mask=pad)[:, 0]).squeeze(-1)


class Text:
    def __init__(self, model_dir="data/models/mini"):
        from transformers import T5EncoderModel, T5TokenizerFast
        self.tok = T5TokenizerFast.from_pretrained(f"{model_dir}/tokenizer_2")
        self.enc = T5EncoderModel.from_pretrained(f"{model_dir}/text_encoder_2").eval()

    @torch.no_grad()
    def __call__(self, texts):
        e = self.tok(texts, padding="longest", truncation=True, max_length=80, return_tensors="pt")
        return self.enc(input_ids=e.input_ids, attention_mask=e.attention_mask).last_hidden_state, e.attention_mask


def judge_batch(rng, n, kinds):
    batch = []
    for _ in range(n):
        pair = sw.random_pair(rng, split="train")
        img, label = synthetic_candidate(pair, rng.choice(kinds), rng)
        batch.append((sw.render(pair.source), img, pair.instruction, label))
    return batch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reader-steps", type=int, default=3000)
    ap.add_argument("--judge-steps", type=int, default=3000)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--out", default="lab/2026-12-05_judge_reader/result.json")
    ap.add_argument("--finetune-reader", action="store_true")
    args = ap.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(1)
    record = {"args": vars(args)}
    reader = SceneReader()
    opt = torch.optim.AdamW(reader.parameters(), lr=2e-3, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 2e-3, total_steps=args.reader_steps, pct_start=0.05)
    rng = random.Random(0)
    t0 = time.time()
    for step in range(args.reader_steps):
        loss = reader_loss(reader, *reader_batch(rng, args.batch))
        opt.zero_grad(); loss.backward(); opt.step(); sched.step()
        if step % 250 == 0 or step == args.reader_steps - 1:
            print(f"reader {step} loss {loss.item():.4f} {time.time() - t0:.0f}s", flush=True)
    reader.eval()
    record["reader"] = reader_accuracy(reader)
    print("reader accuracy", record["reader"], flush=True)

    text = Text()
    judge = ReaderJudge(reader.width)
    params = list(judge.parameters()) + (list(reader.parameters()) if args.finetune_reader else [])
    opt = torch.optim.AdamW(params, lr=1e-3, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 1e-3, total_steps=args.judge_steps, pct_start=0.05)
    kinds = list(CANDIDATE_KINDS + LOCAL_KINDS)
    for step in range(args.judge_steps):
        b = judge_batch(rng, args.batch, kinds)
        with torch.set_grad_enabled(args.finetune_reader):
            sf, cf = reader.features(to_tensor([x[0] for x in b])), reader.features(to_tensor([x[1] for x in b]))
        t, m = text([x[2] for x in b])
        loss = nn.functional.binary_cross_entropy_with_logits(judge(sf, cf, t, m), torch.tensor([x[3] for x in b]))
        opt.zero_grad(); loss.backward(); opt.step(); sched.step()
        if step % 250 == 0 or step == args.judge_steps - 1:
            print(f"judge {step} loss {loss.item():.4f} {time.time() - t0:.0f}s", flush=True)
    judge.eval()

    @torch.no_grad()
    def probs(src, cands, instruction):
        sf = reader.features(to_tensor([src] * len(cands)))
        cf = reader.features(to_tensor(cands))
        t, m = text([instruction] * len(cands))
        return torch.sigmoid(judge(sf, cf, t, m)).tolist()

    # synthetic held-out: correct vs each failure kind, on eval pairs
    erng = random.Random(777)
    hits = total = 0
    for _ in range(200):
        pair = sw.random_pair(erng, split="eval")
        good, _ = synthetic_candidate(pair, "correct", erng)
        bad, lab = synthetic_candidate(pair, erng.choice([k for k in kinds if k != "correct"]), erng)
        if lab:
            continue
        p = probs(sw.render(pair.source), [good, bad], pair.instruction)
        hits += p[0] > p[1]; total += 1
    record["synthetic_agreement"] = hits / total
    pool = tj.load_pool(Path("checkpoints/judge/pool"), "eval")

    def score(pid, rows):
        return probs(tj._pil(pool["source"][rows[0]]), [tj._pil(pool["candidate"][r]) for r in rows],
                     pool["instructions"][rows[0]])
    record["pool_within_edit"] = tj._within_edit_agreement(pool, score)
    record["minutes"] = (time.time() - t0) / 60
    print(json.dumps(record, indent=1))
    Path(args.out).write_text(json.dumps(record, indent=1))


if __name__ == "__main__":
    main()
