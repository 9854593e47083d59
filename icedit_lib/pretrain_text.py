"""Language before images: pretrain the miniature's CLIP and T5 text encoders on text alone.

    python -m icedit_lib.pretrain_text --out-dir checkpoints/text [--steps 3000]
    python -m icedit_lib.pretrain_text --probe-only DIR   # measure a saved pair of encoders

FLUX's T5 learned English before FLUX learned to draw; the miniature's first encoders were
trained jointly with its image model and never learned which object a word belongs to
(`txt_ids` are all zeros in FLUX, so that binding must live in the token embeddings). This is
the stand-in for language pretraining, a simplification of it: instead of T5's span corruption
on web text, the encoders are trained to read out what `language.random_text`'s labels say:

- T5 (every output token, what FLUX's transformer attends to): the object the token's word
  belongs to (cell, shape, color, size, as far as the text states them, and its role), and what
  the whole text says (the requested change and its value, the background, the style).
- CLIP (the pooled vector, all FLUX takes from CLIP): the whole text's labels, and for texts
  that describe a whole scene, every cell's shape, color and size.

Linear heads only, so what they read is linearly there for the image model to use. The heads
are thrown away; the encoders are saved in the diffusers layout (`text_encoder`, `tokenizer`,
`text_encoder_2`, `tokenizer_2`) with `training_text.json`.

The measurement (`probe`): fresh linear probes, fitted on frozen encoders' outputs for held-out
texts about held-out scenes, from each attribute word's T5 embedding to its object's cell,
shape, color and size, from every word of an edit text to the edit type and value, and from
CLIP's pooled vector to each cell's content. The same probe runs on any encoders with a fast
tokenizer (e.g. the shipped ones), so old and new can be compared.
"""
from __future__ import annotations

import bisect
import functools
import json
import random
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from . import language as L
from . import miniature as mini
from .devices import pick_device
from .checkpoints import TrainingRun, atomic_dir, atomic_write_text, step_data, step_rng
from .config import option, parse_config
from .schedule import warmup_cosine


# --------------------------------------------------------------------------- batches
def encode_texts(tokenizer, texts: list[L.LabelledText], max_length: int) -> dict[str, torch.Tensor]:
    """Token ids (padded to `max_length`, as the FLUX pipelines pad) and per-token labels: each
    token takes its word's object labels (found by character offsets) and every token, pads
    included, the text's labels. `word` is the token's word index (-1: special or pad),
    `attribute` marks tokens of attribute words."""
    enc = tokenizer([t.string for t in texts], padding="max_length", max_length=max_length, truncation=True,
                    return_offsets_mapping=True, return_special_tokens_mask=True)
    n = len(texts)
    out = {name: torch.zeros(n, max_length, dtype=torch.long) for name in L.TOKEN_FIELDS}
    out.update({name: torch.tensor([[t.text_labels[name]] * max_length for t in texts]) for name in L.TEXT_FIELDS})
    word = torch.full((n, max_length), -1, dtype=torch.long)
    attribute = torch.zeros(n, max_length, dtype=torch.bool)
    for i, text in enumerate(texts):
        starts = [s for s, _ in text.spans]
        for j, ((a, b), special) in enumerate(zip(enc["offset_mapping"][i], enc["special_tokens_mask"][i])):
            if special or b <= a:
                continue
            while a < b and text.string[a] == " ":  # a token's offsets include the space before its word
                a += 1
            k = bisect.bisect_right(starts, a) - 1  # the last word starting at or before the token
            word[i, j] = k
            w = text.words[k]
            attribute[i, j] = w.attribute is not None
            if w.labels:
                for name, value in w.labels.items():
                    out[name][i, j] = value
    out.update(input_ids=torch.tensor(enc["input_ids"]), word=word, attribute=attribute)
    for name in L.CELL_FIELDS:
        out[f"cells_{name}"] = torch.tensor([t.cell_labels()[name] for t in texts])
    return out


def random_batch(rng: random.Random, n: int, split: str = "train") -> list[L.LabelledText]:
    return [L.random_text(rng, split) for _ in range(n)]


def step_batch(seed: int, batch_size: int, step: int) -> tuple[dict, dict]:
    """One step's encoded texts for both encoders: a function of (seed, step) alone, so it can be made ahead in
    worker processes (`--data-workers`): on a GPU, making and labelling the texts is what limits the speed."""
    rng, _ = step_rng(seed, step)
    texts = random_batch(rng, batch_size)
    clip_tok, t5_tok = _tokenizers()
    return encode_texts(clip_tok, texts, mini.CLIP_MAX_LENGTH), encode_texts(t5_tok, texts, mini.T5_MAX_LENGTH)


@functools.lru_cache(maxsize=1)
def _tokenizers():
    return mini.build_tokenizer("clip"), mini.build_tokenizer("t5")


# --------------------------------------------------------------------------- heads
class Heads(nn.Module):
    """Linear read-outs: per token (T5) and per text (CLIP's pooled vector)."""

    def __init__(self, t5_width: int, clip_width: int):
        super().__init__()
        self.token = nn.ModuleDict({name: nn.Linear(t5_width, len(c))
                                    for name, c in (L.TOKEN_FIELDS | L.TEXT_FIELDS).items()})
        self.pooled = nn.ModuleDict({name: nn.Linear(clip_width, len(c)) for name, c in L.TEXT_FIELDS.items()})
        self.cells = nn.ModuleDict({name: nn.Linear(clip_width, 9 * len(c)) for name, c in L.CELL_FIELDS.items()})


def encoder_outputs(clip, t5, clip_batch: dict, t5_batch: dict) -> tuple[torch.Tensor, torch.Tensor]:
    """(T5 tokens, CLIP pooled) exactly as FluxPipeline takes them: no attention mask."""
    tokens = t5(t5_batch["input_ids"], output_hidden_states=False)[0]
    pooled = clip(clip_batch["input_ids"], output_hidden_states=False).pooler_output
    return tokens, pooled


def loss_terms(heads: Heads, tokens, pooled, clip_batch, t5_batch) -> dict[str, torch.Tensor]:
    terms = {}
    for name, head in heads.token.items():
        terms[f"t5_{name}"] = F.cross_entropy(head(tokens).flatten(0, 1), t5_batch[name].flatten(),
                                              ignore_index=L.IGNORE)
    for name, head in heads.pooled.items():
        terms[f"clip_{name}"] = F.cross_entropy(head(pooled), clip_batch[name][:, 0], ignore_index=L.IGNORE)
    for name, head in heads.cells.items():
        logits = head(pooled).view(pooled.shape[0], 9, -1)
        target = clip_batch[f"cells_{name}"]
        if (target != L.IGNORE).any():
            terms[f"clip_cells_{name}"] = F.cross_entropy(logits.flatten(0, 1), target.flatten(),
                                                          ignore_index=L.IGNORE)
    return terms


# --------------------------------------------------------------------------- the probe
@torch.no_grad()
def probe_features(clip, clip_tok, t5, t5_tok, texts: list[L.LabelledText], batch_size: int = 128) -> dict:
    """Per word (T5, mean over the word's tokens) and per text (CLIP pooled) features with labels."""
    clip.eval(), t5.eval()
    feats = {"word": [], "word_labels": {n: [] for n in (*L.TOKEN_FIELDS, *L.TEXT_FIELDS)}, "word_attribute": [],
             "word_text": [], "word_kind": [], "pooled": [], "pooled_labels": {n: [] for n in L.TEXT_FIELDS},
             "cells": {n: [] for n in L.CELL_FIELDS}}
    for start in range(0, len(texts), batch_size):
        chunk = texts[start:start + batch_size]
        cb = encode_texts(clip_tok, chunk, clip_tok.model_max_length)
        tb = encode_texts(t5_tok, chunk, t5_tok.model_max_length)
        tokens, pooled = encoder_outputs(clip, t5, cb, tb)
        feats["pooled"].append(pooled)
        for n in L.TEXT_FIELDS:
            feats["pooled_labels"][n].append(cb[n][:, 0])
        for n in L.CELL_FIELDS:
            feats["cells"][n].append(cb[f"cells_{n}"])
        for i, text in enumerate(chunk):
            for k, w in enumerate(text.words):
                sel = tb["word"][i] == k
                if not sel.any():  # punctuation normalised away, or truncated
                    continue
                feats["word"].append(tokens[i, sel].mean(0))
                j = int(sel.nonzero()[0, 0])
                for n in feats["word_labels"]:
                    feats["word_labels"][n].append(int(tb[n][i, j]))
                feats["word_attribute"].append(w.attribute if w.labels is not None else None)
                feats["word_text"].append(start + i)
                feats["word_kind"].append(text.kind)
    return {"word": torch.stack(feats["word"]), "pooled": torch.cat(feats["pooled"]),
            "word_labels": {n: torch.tensor(v) for n, v in feats["word_labels"].items()},
            "word_attribute": feats["word_attribute"], "word_text": torch.tensor(feats["word_text"]),
            "word_kind": feats["word_kind"],
            "pooled_labels": {n: torch.cat(v) for n, v in feats["pooled_labels"].items()},
            "cells": {n: torch.cat(v) for n, v in feats["cells"].items()}}


def linear_probe(x: torch.Tensor, y: torch.Tensor, train: torch.Tensor, steps: int = 300) -> dict:
    """Fit a softmax-regression probe on the `train` rows (standardised features, L-BFGS), score
    the others; chance is the test share of the training rows' most frequent class."""
    x = x.float()
    mean, std = x[train].mean(0), x[train].std(0) + 1e-6
    x = (x - mean) / std
    classes = int(y.max()) + 1
    probe = nn.Linear(x.shape[1], classes)
    opt = torch.optim.LBFGS(probe.parameters(), lr=1, max_iter=steps, history_size=20, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = F.cross_entropy(probe(x[train]), y[train]) + 1e-4 * probe.weight.pow(2).sum()
        loss.backward()
        return loss

    with torch.enable_grad():
        opt.step(closure)
    test = ~train
    with torch.no_grad():
        accuracy = (probe(x[test]).argmax(-1) == y[test]).float().mean().item()
    majority = torch.bincount(y[train], minlength=classes).argmax()
    return {"accuracy": round(accuracy, 4), "chance": round((y[test] == majority).float().mean().item(), 4),
            "n_test": int(test.sum())}


def probe(clip, clip_tok, t5, t5_tok, n_texts: int = 3000, seed: int = 777) -> dict:
    """Binding and meaning, linearly readable from frozen encoders, on held-out texts (scenes of
    the evaluation split, a seed of their own; probes fitted on 80% of the texts, scored on 20%)."""
    rng = random.Random(seed)
    texts = [L.random_text(rng, "eval", kind=L.KINDS[i % len(L.KINDS)]) for i in range(n_texts)]
    f = probe_features(clip, clip_tok, t5, t5_tok, texts)
    text_train = torch.rand(n_texts, generator=torch.Generator().manual_seed(seed)) < 0.8
    word_train = text_train[f["word_text"]]
    out = {"n_texts": n_texts, "seed": seed, "t5_binding": {}, "t5_change": {}, "clip_pooled": {}}
    for name in ("cell", "shape", "color", "size"):
        # binding: from the words naming the object's *other* attributes (a color word -> its object's cell),
        # where the text states this one ("none" and "unstated" are classes 0 and 1)
        other = torch.tensor([a is not None and a != name for a in f["word_attribute"]])
        y = f["word_labels"][name]
        rows = other & (y >= 2)
        out["t5_binding"][name] = linear_probe(f["word"][rows], y[rows] - 2, word_train[rows])
    edit_words = f["word_labels"]["edit"] > 0
    for name in ("edit", "value"):
        y = f["word_labels"][name]
        out["t5_change"][name] = linear_probe(f["word"][edit_words], y[edit_words], word_train[edit_words])
    for name in ("edit", "value", "background", "style"):
        y = f["pooled_labels"][name]
        out["clip_pooled"][name] = linear_probe(f["pooled"], y, text_train)
    scenes = (f["cells"]["shape"] != L.IGNORE).all(1)
    for name in L.CELL_FIELDS:  # one probe per cell, averaged
        scores = [linear_probe(f["pooled"][scenes], f["cells"][name][scenes, c], text_train[scenes])
                  for c in range(9)]
        out["clip_pooled"][f"cells_{name}"] = {k: round(sum(s[k] for s in scores) / 9, 4)
                                               for k in ("accuracy", "chance")} | {"n_test": scores[0]["n_test"]}
    return out


def probe_summary(result: dict) -> str:
    rows = [f"{group} {name}: {v['accuracy']:.1%} (chance {v['chance']:.1%})"
            for group in ("t5_binding", "t5_change", "clip_pooled") for name, v in result[group].items()]
    return "\n".join(rows)


# --------------------------------------------------------------------------- training
@dataclass
class TextConfig:
    """The text stage's options (the command line is built from these fields: `config.parse_config`)."""
    out_dir: str | None = option(None, "the encoders and tokenizers, diffusers layout (e.g. a miniature folder)")
    work_dir: str = option("checkpoints/text", "resumable state")
    steps: int = option(3000)
    batch_size: int = option(128)
    lr: float = option(2e-3)
    warmup: int = option(200)
    width: int = option(64, "both encoders' width (FLUX's joint_attention_dim here)")
    layers: int = option(4, "both encoders' depth: at 4 every binding probe reads >= 99.9% on held-out texts, at 2 (the "
                            "shipped base's encoders) a cell word's object size only 85% (lab/2026-12-06_text_binding)")
    seed: int = option(0)
    probe_texts: int = option(3000)
    threads: int = option(0)
    device: str = option("auto")
    data_workers: int = option(0, "make and label each step's texts in this many worker processes, ahead of the step")
    checkpoint_minutes: float = option(2.0)
    budget_minutes: float = option(0.0, "fit --steps to this much training time (`schedule.StepBudget`), at most "
                                        "--steps")
    probe_only: str | None = option(None, "measure the encoders saved in this folder (text_encoder, tokenizer, "
                                          "text_encoder_2, tokenizer_2)", metavar="DIR")
    probe_out: str | None = option(None, "with --probe-only: write the probe as JSON", metavar="FILE")

    def __post_init__(self):
        if not self.out_dir and not self.probe_only:
            raise ValueError("give --out-dir (train) or --probe-only DIR (measure)")


def parse_args(argv=None) -> TextConfig:
    return parse_config(TextConfig, argv, description=__doc__.split("\n")[0])


def load_encoders(folder: str | Path):
    from transformers import AutoTokenizer, CLIPTextModel, T5EncoderModel

    folder = Path(folder)
    return (CLIPTextModel.from_pretrained(folder / "text_encoder").eval(),
            AutoTokenizer.from_pretrained(folder / "tokenizer"),
            T5EncoderModel.from_pretrained(folder / "text_encoder_2").eval(),
            AutoTokenizer.from_pretrained(folder / "tokenizer_2"))


def main(argv=None) -> dict:
    config = parse_args(argv)
    if config.threads:
        torch.set_num_threads(config.threads)
    if config.probe_only:
        result = probe(*load_encoders(config.probe_only), n_texts=config.probe_texts)
        print(probe_summary(result))
        if config.probe_out:
            Path(config.probe_out).parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(config.probe_out, json.dumps(result | {"encoders": str(config.probe_only)}, indent=2))
        return result
    device = pick_device(config.device)
    torch.manual_seed(config.seed)
    clip_tok, t5_tok = mini.build_tokenizer("clip"), mini.build_tokenizer("t5")
    clip, t5 = mini.build_text_encoders(len(clip_tok), len(t5_tok), clip_tok.eos_token_id, config.width, config.layers)
    heads = Heads(config.width, config.width)
    modules = nn.ModuleDict({"clip": clip, "t5": t5, "heads": heads}).to(device).train()
    opt = torch.optim.AdamW(modules.parameters(), lr=config.lr, weight_decay=0.01)
    run = TrainingRun(config.work_dir, modules, opt, config.steps, "text", config.checkpoint_minutes, config.budget_minutes)
    batches = step_data(functools.partial(step_batch, config.seed, config.batch_size), run.step, run.total,
                        config.data_workers)
    while run.step < run.total:
        data_step, (cb, tb) = next(batches)
        assert data_step == run.step, (data_step, run.step)
        cb, tb = ({k: v.to(device) for k, v in part.items()} for part in (cb, tb))
        terms = loss_terms(heads, *encoder_outputs(clip, t5, cb, tb), cb, tb)
        loss = sum(terms.values())
        run.optimizer_step(loss, warmup_cosine(run.step, config.lr, config.warmup, run.total, floor=0.05),
                           **{k: v.detach() for k, v in terms.items()})
    run.close()
    clip, t5 = clip.cpu().eval(), t5.cpu().eval()
    result = probe(clip, clip_tok, t5, t5_tok, n_texts=config.probe_texts)
    print(probe_summary(result))
    record = {"stage": "text", "step": run.step, "wall_s": round(run.elapsed, 1),
              "threads": torch.get_num_threads(), "probe": result, "args": asdict(config)}
    save_encoders(config.out_dir, clip, clip_tok, t5, t5_tok, record)
    return record


def save_encoders(out_dir: str | Path, clip, clip_tok, t5, t5_tok, record: dict) -> None:
    out = Path(out_dir)
    for sub, part in (("text_encoder", clip), ("tokenizer", clip_tok), ("text_encoder_2", t5),
                      ("tokenizer_2", t5_tok)):
        with atomic_dir(out / sub) as tmp:
            part.save_pretrained(tmp, **({} if sub.startswith("tokenizer") else {"safe_serialization": True}))
    atomic_write_text(out / "training_text.json", json.dumps(record, indent=2))


if __name__ == "__main__":
    main()
