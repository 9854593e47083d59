"""The miniature judge: a small vision-language model that scores ShapesWorld edits.

It stands in for Qwen2.5-VL at miniature scale. Given (source, candidate, instruction) it
predicts the probability that the candidate, once finished, is a correct edit; as a
pairwise judge it compares two candidates through their odds (Bradley-Terry).

Built as VLMs are, from two pretrained towers and a small model that joins them:
- vision: a *scene reader* (`SceneReader`), a CNN that looks at each of the 9 cells of a panel (a
  22 x 22 window) and is pretrained, before any judging, to name what the cell holds (shape or
  empty, color, size, style, the background) and whether it is cleanly drawn, on renders of random
  training scenes, some degraded by noise or a smeared or faded object (labels exact and unlimited);
- language: the miniature's own T5 encoder (`text_encoder_2` of the base), frozen, as VLMs keep
  the language model they start from;
- a 2-layer transformer over [CLS | instruction tokens | one token per cell holding the source's,
  the candidate's and their difference's reader features]; the CLS output is the success logit.
The first judge learned all of it from one bit per candidate and ranked seeds of one edit at
chance; with the towers pretrained, the same synthetic candidates teach it to rank them
(`lab/2026-12-05_judge_reader`). A simplification of the paper: Qwen2.5-VL learned to see and to
read from web data; the reader learns from ShapesWorld renders only.

It is a learned model and errs: the joining model is trained on candidates whose labels come
from the ShapesWorld parser (correct renders, unedited copies, wrong edits, over-edits,
smeared, noisy and half-made edits, and, when a pool of the editor's own candidates is asked
for, its x0 previews and finished outputs, labelled by whether the finished edit succeeds).
The parser labels training data only; at inference the judge sees pixels and text, never the
target.
"""
from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageFilter
from safetensors.torch import load_file, save_file
from torch import nn

from . import shapesworld as sw
from .checkpoints import atomic_path, atomic_write_text
from .corpus import to_tensor
from .judge import PairwiseJudge

CONFIG_FILE = "mini_judge.json"  # tells a miniature judge's folder from a Qwen2.5-VL one
CANDIDATE_KINDS = ("correct", "copy", "wrong_edit", "over_edit", "smear", "noise")
# Failures shaped like the miniature editor's own (half-made changes, a blob where the change belongs).
LOCAL_KINDS = ("partial", "local_smear")
WINDOW = 22  # the reader's view of one cell: cells are 21 pixels apart (spec)
READER_FIELDS = ("shape", "color", "size", "style", "background")


def is_mini_judge(path: str | Path) -> bool:
    return (Path(path) / CONFIG_FILE).exists()


# --------------------------------------------------------------------------- vision: the scene reader
def cell_windows(images: torch.Tensor) -> torch.Tensor:
    """[B, 3, 64, 64] -> [B, 9, 3, 22, 22]: the window centred on each cell, in `sw.CELLS` order."""
    padded = nn.functional.pad(images, (WINDOW // 2,) * 4)
    return torch.stack([padded[:, :, y:y + WINDOW, x:x + WINDOW] for x, y in sw.CELLS.values()], 1)


class SceneReader(nn.Module):
    """Per-cell features of a panel, and heads that name what each cell holds (pretraining only)."""

    def __init__(self, width: int = 96):
        super().__init__()
        self.width = width
        self.cnn = nn.Sequential(
            nn.Conv2d(3, 32, 3, padding=1), nn.GELU(),
            nn.Conv2d(32, 64, 3, stride=2, padding=1), nn.GELU(),  # 11 x 11
            nn.Conv2d(64, 96, 3, stride=2, padding=1), nn.GELU(),  # 6 x 6
            nn.Flatten(), nn.Linear(96 * 36, width), nn.GELU())
        self.cell_position = nn.Parameter(torch.zeros(len(sw.CELLS), width))
        sizes = {"shape": 1 + len(sw.SHAPES), "color": len(sw.COLORS), "size": len(sw.SIZES),
                 "style": len(sw.STYLES), "background": len(sw.BACKGROUNDS), "clean": 1}
        self.heads = nn.ModuleDict({k: nn.Linear(width, n) for k, n in sizes.items()})

    def features(self, images: torch.Tensor) -> torch.Tensor:
        windows = cell_windows(images)
        return self.cnn(windows.flatten(0, 1)).view(len(images), len(sw.CELLS), -1) + self.cell_position

    def forward(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        features = self.features(images)
        return {k: head(features) for k, head in self.heads.items()}


def reader_labels(scene: sw.Scene, clean_cells=None) -> dict[str, list]:
    """Per cell, in `sw.CELLS` order: shape index (0 = empty), color, size and style (-100, ignored, where
    empty), the background, and 1.0 where the cell is cleanly drawn (every cell unless `clean_cells` says)."""
    by_cell = {o.cell: o for o in scene.objects}
    labels = {k: [] for k in READER_FIELDS + ("clean",)}
    for cell in sw.CELLS:
        o = by_cell.get(cell)
        labels["shape"].append(1 + sw.SHAPES.index(o.shape) if o else 0)
        labels["color"].append(list(sw.COLORS).index(o.color) if o else -100)
        labels["size"].append(list(sw.SIZES).index(o.size) if o else -100)
        labels["style"].append(sw.STYLES.index(scene.style) if o else -100)
        labels["background"].append(list(sw.BACKGROUNDS).index(scene.background))
        labels["clean"].append(1.0 if clean_cells is None or cell in clean_cells else 0.0)
    return labels


def reader_example(rng: random.Random) -> tuple[Image.Image, dict[str, list]]:
    """A training scene's render and its labels; 30% with one object smeared or faded towards the
    background (that cell marked unclean: what a blob looks like), 15% with pixel noise."""
    scene = sw.random_scene(rng, split="train")
    image, clean = sw.render(scene), set(sw.CELLS)
    draw = rng.random()
    if draw < 0.3:
        obj = rng.choice(scene.objects)
        x, y = sw.CELLS[obj.cell]
        box = (x - 10, y - 10, x + 11, y + 11)
        patch = image.crop(box)
        if rng.random() < 0.5:
            patch = patch.filter(ImageFilter.GaussianBlur(rng.uniform(1.0, 3.0)))
        else:
            patch = Image.blend(patch, Image.new("RGB", patch.size, sw.BACKGROUNDS[scene.background]),
                                rng.uniform(0.3, 0.7))
        image.paste(patch, box[:2])
        clean.discard(obj.cell)
    elif draw < 0.45:
        noise = np.random.default_rng(rng.randrange(2 ** 31)).normal(0, rng.uniform(2, 12), (sw.PANEL, sw.PANEL, 3))
        image = Image.fromarray(np.clip(np.asarray(image, np.float32) + noise, 0, 255).astype(np.uint8))
    return image, reader_labels(scene, clean)


def reader_loss(reader: SceneReader, images: torch.Tensor, labels: dict[str, torch.Tensor]) -> torch.Tensor:
    """Cross-entropy of every head on every cell (empty cells name no color, size or style)."""
    out = reader(images)
    loss = nn.functional.binary_cross_entropy_with_logits(out["clean"].squeeze(-1), labels["clean"])
    for k in READER_FIELDS:
        loss = loss + nn.functional.cross_entropy(out[k].flatten(0, 1), labels[k].flatten(), ignore_index=-100)
    return loss


@torch.no_grad()
def reader_accuracy(reader: SceneReader, n: int = 256, seed: int = 12345) -> float:
    """Share of `n` held-out scenes (clean renders) whose every cell the reader names right."""
    rng = random.Random(seed)
    scenes = [sw.random_scene(rng, split="eval") for _ in range(n)]
    out = reader(to_tensor([sw.render(s) for s in scenes]))
    hits = 0
    for i, scene in enumerate(scenes):
        labels = reader_labels(scene)
        hits += all(l == -100 or out[k][i, c].argmax().item() == l
                    for k in READER_FIELDS for c, l in enumerate(labels[k]))
    return hits / n


# --------------------------------------------------------------------------- the judge
class ShapesJudgeModel(nn.Module):
    """The reader, the frozen T5 and the transformer that joins them (module docstring)."""

    def __init__(self, text_encoder, reader_width: int = 96, width: int = 96, layers: int = 2, heads: int = 4):
        super().__init__()
        self.config = dict(reader_width=reader_width, width=width, layers=layers, heads=heads)
        self.reader = SceneReader(reader_width)
        self.text_encoder = text_encoder.requires_grad_(False).eval()
        self.cell_in = nn.Linear(3 * reader_width, width)  # source, candidate, candidate - source
        self.text_in = nn.Linear(text_encoder.config.d_model, width)
        self.cls = nn.Parameter(torch.zeros(1, 1, width))
        self.types = nn.Parameter(torch.randn(2, width) * 0.02)  # text, cells
        layer = nn.TransformerEncoderLayer(width, heads, 2 * width, dropout=0.0, batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.head = nn.Sequential(nn.LayerNorm(width), nn.Linear(width, 1))

    def train(self, mode: bool = True):
        super().train(mode)
        self.text_encoder.eval()  # frozen: never in training mode
        return self

    def forward(self, source: torch.Tensor, candidate: torch.Tensor, text_ids: torch.Tensor,
                text_mask: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            text = self.text_encoder(input_ids=text_ids, attention_mask=text_mask).last_hidden_state
        src, cand = self.reader.features(source), self.reader.features(candidate)
        cells = self.cell_in(torch.cat([src, cand, cand - src], -1)) + self.types[1]
        tokens = torch.cat([self.cls.expand(len(source), -1, -1), self.text_in(text) + self.types[0], cells], 1)
        keep = torch.ones(len(source), 1 + cells.shape[1], dtype=torch.bool, device=source.device)
        pad = ~torch.cat([keep[:, :1], text_mask.bool(), keep[:, 1:]], 1)
        return self.head(self.encoder(tokens, src_key_padding_mask=pad)[:, 0]).squeeze(-1)


class MiniJudge(PairwiseJudge):
    """A trained ShapesJudgeModel as a pairwise judge (odds of the two success probabilities)."""

    def __init__(self, model: ShapesJudgeModel, tokenizer, device: str = "cpu"):
        self.model = model.eval().to(device)
        self.tokenizer = tokenizer
        self.device = device

    def encode_text(self, instructions: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        from .miniature import T5_MAX_LENGTH

        enc = self.tokenizer(instructions, padding="longest", truncation=True, max_length=T5_MAX_LENGTH,
                             return_tensors="pt")
        return enc.input_ids.to(self.device), enc.attention_mask.to(self.device)

    @torch.no_grad()
    def success_probability(self, source, candidates: list[Image.Image], instruction: str) -> list[float]:
        def panel(im):
            return im if im.size == (sw.PANEL, sw.PANEL) else im.resize((sw.PANEL, sw.PANEL), Image.BICUBIC)

        src = to_tensor([panel(source)] * len(candidates)).to(self.device)
        cand = to_tensor([panel(c) for c in candidates]).to(self.device)
        ids, mask = self.encode_text([instruction] * len(candidates))
        return torch.sigmoid(self.model(src, cand, ids, mask)).tolist()

    def p_first(self, source, first, second, instruction) -> float:
        p1, p2 = self.success_probability(source, [first, second], instruction)
        odds1, odds2 = p1 * (1 - p2), p2 * (1 - p1)
        return odds1 / (odds1 + odds2) if odds1 + odds2 > 0 else 0.5

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        with atomic_path(path / "model.safetensors") as tmp:
            # clone: the T5's tied embedding would otherwise share storage, which safetensors refuses
            save_file({k: v.detach().cpu().clone() for k, v in self.model.state_dict().items()}, str(tmp))
        atomic_write_text(path / CONFIG_FILE, json.dumps({**self.model.config,
                                                         "text_encoder": self.model.text_encoder.config.to_dict()}))
        self.tokenizer.save_pretrained(path / "tokenizer")
        return path

    @classmethod
    def load(cls, path: str | Path, device: str = "cpu") -> "MiniJudge":
        from transformers import T5Config, T5EncoderModel, T5TokenizerFast

        path = Path(path)
        if not is_mini_judge(path) or not (path / "model.safetensors").exists():
            raise FileNotFoundError(f"{path} holds no miniature judge ({CONFIG_FILE} and model.safetensors)")
        config = json.loads((path / CONFIG_FILE).read_text())
        if "text_encoder" not in config:
            raise ValueError(f"{path} holds a judge of the first design (no pretrained towers), which this library "
                             "no longer reads: train one with `python -m icedit_lib.train_judge`")
        text_encoder = T5EncoderModel(T5Config.from_dict(config.pop("text_encoder")))
        model = ShapesJudgeModel(text_encoder, **config)
        model.load_state_dict(load_file(str(path / "model.safetensors")))
        return cls(model, T5TokenizerFast.from_pretrained(path / "tokenizer"), device)


# --------------------------------------------------------------------------- training data
def synthetic_candidate(pair: sw.EditPair, kind: str, rng: random.Random) -> tuple[Image.Image, float]:
    """A candidate edit of `kind` and its label (1.0: the edit succeeded), labelled by the parser."""
    if kind == "correct":
        img = sw.render(pair.target)
    elif kind == "copy":
        img = sw.render(pair.source)
    elif kind == "wrong_edit":
        other = sw.random_edit(pair.source, rng)
        img = sw.render(sw.apply_edit(pair.source, other))
    elif kind == "over_edit":  # the edit, plus another change nobody asked for
        try:
            img = sw.render(sw.apply_edit(pair.target, sw.random_edit(pair.target, rng)))
        except sw.SceneError:
            img = sw.render(pair.source)
    elif kind == "smear":
        img = sw.render(pair.target).filter(ImageFilter.GaussianBlur(rng.uniform(0.6, 2.0)))
    elif kind in LOCAL_KINDS:
        img = _local_failure(pair, kind, rng)
    elif kind == "noise":
        arr = np.asarray(sw.render(pair.target), np.float32)
        arr = arr + np.random.default_rng(rng.randrange(2 ** 31)).normal(0, rng.uniform(5, 40), arr.shape)
        img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    else:
        raise ValueError(f"unknown candidate kind {kind!r}")
    return img, float(sw.read_scene(img).exact == pair.target)


def _local_failure(pair: sw.EditPair, kind: str, rng: random.Random) -> Image.Image:
    """The target with only the changed region degraded: blended back towards the source
    ("partial") or blurred ("local_smear")."""
    source, target = sw.render(pair.source), sw.render(pair.target)
    changed = np.any(np.asarray(source) != np.asarray(target), axis=-1)
    region = Image.fromarray((changed * 255).astype(np.uint8)).filter(ImageFilter.MaxFilter(5))
    if kind == "partial":
        alpha = rng.uniform(0.25, 0.75)
        degraded = Image.blend(target, source, alpha)
    else:
        degraded = target.filter(ImageFilter.GaussianBlur(rng.uniform(1.0, 3.0)))
    return Image.composite(degraded, target, region)


def ranking_logits(model: ShapesJudgeModel, judge: MiniJudge, ranking: list[tuple]) -> tuple:
    """Success logits of the better and the worse candidate of (source, better, worse, instruction) tuples."""
    src = to_tensor([r[0] for r in ranking])
    ids, mask = judge.encode_text([r[3] for r in ranking])
    better, worse = to_tensor([r[1] for r in ranking]), to_tensor([r[2] for r in ranking])
    return model(src, better, ids, mask), model(src, worse, ids, mask)


def ranking_loss(model: ShapesJudgeModel, judge: MiniJudge, ranking: list[tuple]) -> torch.Tensor:
    """Bradley-Terry: -log sigmoid(logit(better) - logit(worse))."""
    better, worse = ranking_logits(model, judge, ranking)
    return nn.functional.softplus(worse - better).mean()


def judge_loss(model: ShapesJudgeModel, judge: MiniJudge, batch: list[tuple],
               ranking: list[tuple] = ()) -> torch.Tensor:
    """The loss on (source, candidate, instruction, label) tuples, plus, for `ranking` (source, better, worse,
    instruction) tuples, a Bradley-Terry loss on the logit difference: the pointwise loss can be lowered by
    learning which edits are easy, the ranking loss only by telling seeds of one edit apart, which is what
    selection needs."""
    src = to_tensor([b[0] for b in batch])
    cand = to_tensor([b[1] for b in batch])
    ids, mask = judge.encode_text([b[2] for b in batch])
    labels = torch.tensor([b[3] for b in batch])
    loss = nn.functional.binary_cross_entropy_with_logits(model(src, cand, ids, mask), labels)
    if ranking:
        loss = loss + ranking_loss(model, judge, ranking)
    return loss


def agreement(judge: MiniJudge, examples: list[tuple]) -> float:
    """Share of (source, a, b, instruction, a_is_better) pairs where the judge agrees with the parser."""
    hits = sum((judge.prefer(s, a, b, ins) > 0.5) == better for s, a, b, ins, better in examples)
    return hits / max(1, len(examples))
