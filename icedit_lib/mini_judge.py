"""The miniature judge: a small vision-language model that scores ShapesWorld edits.

It stands in for Qwen2.5-VL at miniature scale. Given (source, candidate, instruction) it
predicts the probability that the candidate, once finished, is a correct edit; as a
pairwise judge it compares two candidates through their odds (Bradley-Terry).

Architecture (a VLM in miniature): a small CNN turns the source and the candidate into
8 x 8 grids of patch features each (the candidate's CNN also sees its pixel difference
from the source, the cue that tells a copy from an edit), the instruction's tokens (the miniature's T5 tokenizer) are
embedded, and a 2-layer transformer encoder reads [CLS | text | source patches |
candidate patches] with learned type and position embeddings; the CLS output is the logit.

It is a learned model and errs: it is trained on realistic candidates whose labels come
from the ShapesWorld parser (correct renders and their VAE round trips, unedited copies,
wrong edits, over-edits, smeared and noisy edits, and, when a miniature editor is
given, that editor's own x0 previews and finished outputs, labelled by whether the
finished edit succeeds). The parser labels training data only; at inference the judge
sees pixels and text, never the target.
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
# Failures shaped like the miniature editor's own (half-made changes, a blob where the change
# belongs): opt-in through train_judge's --synthetic-kinds.
LOCAL_KINDS = ("partial", "local_smear")


def is_mini_judge(path: str | Path) -> bool:
    return (Path(path) / CONFIG_FILE).exists()


class ShapesJudgeModel(nn.Module):
    def __init__(self, vocab_size: int, width: int = 64, layers: int = 2, heads: int = 4, max_text: int = 48):
        super().__init__()
        self.config = dict(vocab_size=vocab_size, width=width, layers=layers, heads=heads, max_text=max_text)
        self.source_cnn = self._cnn(3, width)
        self.candidate_cnn = self._cnn(6, width)  # candidate and candidate - source
        self.text = nn.Embedding(vocab_size, width)
        self.cls = nn.Parameter(torch.zeros(1, 1, width))
        self.types = nn.Parameter(torch.randn(3, width) * 0.02)  # text, source, candidate
        self.pos_img = nn.Parameter(torch.randn(64, width) * 0.02)
        self.pos_text = nn.Parameter(torch.randn(max_text, width) * 0.02)
        layer = nn.TransformerEncoderLayer(width, heads, 2 * width, dropout=0.0, batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.head = nn.Sequential(nn.LayerNorm(width), nn.Linear(width, 1))

    @staticmethod
    def _cnn(channels: int, width: int) -> nn.Sequential:  # 64 x 64 -> 8 x 8 patches
        return nn.Sequential(
            nn.Conv2d(channels, 32, 3, stride=2, padding=1), nn.GELU(),
            nn.Conv2d(32, 64, 3, stride=2, padding=1), nn.GELU(),
            nn.Conv2d(64, width, 3, stride=2, padding=1), nn.GELU(),
            nn.Conv2d(width, width, 3, padding=1))

    def _patches(self, cnn: nn.Module, images: torch.Tensor, kind: int) -> torch.Tensor:
        grid = cnn(images).flatten(2).transpose(1, 2)  # [B, 64, width]
        return grid + self.pos_img + self.types[kind]

    def forward(self, source: torch.Tensor, candidate: torch.Tensor, text_ids: torch.Tensor,
                text_mask: torch.Tensor) -> torch.Tensor:
        text = self.text(text_ids) + self.pos_text[: text_ids.shape[1]] + self.types[0]
        tokens = torch.cat([self.cls.expand(len(source), -1, -1), text,
                            self._patches(self.source_cnn, source, 1),
                            self._patches(self.candidate_cnn, torch.cat([candidate, candidate - source], 1), 2)],
                           dim=1)
        pad = torch.cat([torch.zeros(len(source), 1, dtype=torch.bool, device=source.device), ~text_mask.bool(),
                         torch.zeros(len(source), 128, dtype=torch.bool, device=source.device)], dim=1)
        return self.head(self.encoder(tokens, src_key_padding_mask=pad)[:, 0]).squeeze(-1)


class MiniJudge(PairwiseJudge):
    """A trained ShapesJudgeModel as a pairwise judge (odds of the two success probabilities)."""

    def __init__(self, model: ShapesJudgeModel, tokenizer, device: str = "cpu"):
        self.model = model.eval().to(device)
        self.tokenizer = tokenizer
        self.device = device

    def encode_text(self, instructions: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        enc = self.tokenizer(instructions, padding="max_length", truncation=True,
                             max_length=self.model.config["max_text"], return_tensors="pt")
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
            save_file({k: v.contiguous().cpu() for k, v in self.model.state_dict().items()}, str(tmp))
        atomic_write_text(path / CONFIG_FILE, json.dumps(self.model.config))
        self.tokenizer.save_pretrained(path / "tokenizer")
        return path

    @classmethod
    def load(cls, path: str | Path, device: str = "cpu") -> "MiniJudge":
        from transformers import T5TokenizerFast

        path = Path(path)
        if not is_mini_judge(path) or not (path / "model.safetensors").exists():
            raise FileNotFoundError(f"{path} holds no miniature judge ({CONFIG_FILE} and model.safetensors)")
        model = ShapesJudgeModel(**json.loads((path / CONFIG_FILE).read_text()))
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
