"""The miniature's own CLIP: a tiny CLIPModel trained contrastively on ShapesWorld panels and their captions.

    python -m icedit_lib.mini_clip --output-dir data/models/mini_clip [--steps 3000] [--threads 1]

The paper's CLIP-I and CLIP-out (`metrics`) need a CLIP that knows the images it scores; OpenAI's has never
seen ShapesWorld. This one is the stock `CLIPModel` and `CLIPProcessor` at a tiny size (a ViT with 8-pixel
patches on the 64 x 64 panel, a 2-layer text tower on the miniature's word-level tokenizer), saved in the hub
layout, so `metrics.ClipScorer("data/models/mini_clip")` loads it as it loads openai/clip-vit-large-patch14,
and CLIP-I / CLIP-out can be set beside exact success on the miniature's edits: which failures do they reward,
which successes do they punish?

Training: CLIP's symmetric contrastive loss with a learned temperature, on batches of training-split scenes
with their captions (the pretraining grammar and `language`'s variants). Half of each batch is the other
half edited once (`shapesworld.random_pair`): hard negatives that differ in one object or attribute, the
differences an edit metric must see. Evaluation: held-out retrieval (each panel's caption among a batch of
64 held-out captions, half of them one edit away, and the reverse).
"""
from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F

from . import language as L
from . import shapesworld as sw
from .checkpoints import TrainingRun, atomic_dir, step_rng
from .config import option, parse_config
from .devices import pick_device
from .miniature import CLIP_MAX_LENGTH, build_tokenizer
from .schedule import warmup_cosine


def build(width: int = 64, layers: int = 2):
    """(CLIPModel, CLIPProcessor) at the miniature's size: 64 x 64 panels, the word-level tokenizer."""
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPProcessor

    tokenizer = build_tokenizer("clip")
    model = CLIPModel(CLIPConfig(
        text_config=dict(vocab_size=len(tokenizer), hidden_size=width, intermediate_size=2 * width,
                         num_hidden_layers=layers, num_attention_heads=2, max_position_embeddings=CLIP_MAX_LENGTH,
                         bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                         pad_token_id=tokenizer.pad_token_id),
        vision_config=dict(image_size=sw.PANEL, patch_size=8, hidden_size=width, intermediate_size=2 * width,
                           num_hidden_layers=layers, num_attention_heads=2),
        projection_dim=width))
    images = CLIPImageProcessor(size={"shortest_edge": sw.PANEL}, crop_size={"height": sw.PANEL, "width": sw.PANEL})
    return model, CLIPProcessor(image_processor=images, tokenizer=tokenizer)


def batch(rng: random.Random, n: int, split: str) -> tuple[list, list[str]]:
    """n/2 scenes and the same scenes edited once: panels and captions (canonical or a variant)."""
    images, captions = [], []
    pairs = [sw.random_pair(rng, split=split) for _ in range(n // 2)]
    for scene in [p.source for p in pairs] + [p.target for p in pairs]:
        images.append(sw.render(scene))
        captions.append(L.caption(scene, rng, canonical=rng.random() < 0.7).string)
    return images, captions


def encode(model, processor, images, captions, device):
    pixels = processor(images=images, return_tensors="pt")["pixel_values"].to(device)
    tokens = processor(text=captions, return_tensors="pt", padding=True, truncation=True)
    out = model(input_ids=tokens["input_ids"].to(device), attention_mask=tokens["attention_mask"].to(device),
                pixel_values=pixels)
    return out.logits_per_image


@torch.no_grad()
def retrieval(model, processor, device, n_batches: int = 8, size: int = 64, seed: int = 4242) -> dict:
    """Held-out top-1 retrieval within batches (half of each one edit away from the other half)."""
    was = model.training
    model.eval()
    rng = random.Random(seed)
    hits_i, hits_t, total = 0, 0, 0
    for _ in range(n_batches):
        logits = encode(model, processor, *batch(rng, size, "eval"), device)
        target = torch.arange(logits.shape[0], device=device)
        hits_i += int((logits.argmax(1) == target).sum())
        hits_t += int((logits.argmax(0) == target).sum())
        total += logits.shape[0]
    model.train(was)
    return {"image_to_text": hits_i / total, "text_to_image": hits_t / total, "batch": size, "n": total,
            "seed": seed}


@dataclass
class ClipConfig:
    """The mini CLIP run's options (the command line is built from these fields: `config.parse_config`)."""
    output_dir: str = option("data/models/mini_clip")
    work_dir: str = option("checkpoints/mini_clip")
    steps: int = option(3000)
    batch_size: int = option(64)
    lr: float = option(1e-3)
    warmup: int = option(200)
    width: int = option(64)
    layers: int = option(2)
    seed: int = option(0)
    threads: int = option(0)
    device: str = option("auto")
    checkpoint_minutes: float = option(2.0)


def parse_args(argv=None) -> ClipConfig:
    return parse_config(ClipConfig, argv, description=__doc__.split("\n")[0])


def main(argv=None) -> dict:
    config = parse_args(argv)
    if config.threads:
        torch.set_num_threads(config.threads)
    device = pick_device(config.device)
    torch.manual_seed(config.seed)
    model, processor = build(config.width, config.layers)
    model.to(device).train()
    opt = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=0.1)
    run = TrainingRun(config.work_dir, model, opt, config.steps, "mini CLIP", config.checkpoint_minutes)
    while run.step < run.total:
        rng, _ = step_rng(config.seed, run.step)
        logits = encode(model, processor, *batch(rng, config.batch_size, "train"), device)
        target = torch.arange(logits.shape[0], device=device)
        loss = (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target)) / 2  # CLIP's loss
        run.optimizer_step(loss, warmup_cosine(run.step, config.lr, config.warmup, run.total, floor=0.05))
    run.close()
    model.eval()
    record = {"step": run.step, "wall_s": round(run.elapsed, 1), "threads": torch.get_num_threads(),
              "parameters": sum(p.numel() for p in model.parameters()),
              "evaluation": retrieval(model, processor, device), "args": asdict(config)}
    with atomic_dir(config.output_dir) as tmp:
        model.save_pretrained(tmp, safe_serialization=True)
        processor.save_pretrained(tmp)
        (tmp / "training.json").write_text(json.dumps(record, indent=2))
        (tmp / "README.md").write_text(card(record))
    return record


def card(record: dict) -> str:
    """The model card, from the run record (`model_card.ModelCard`)."""
    from .model_card import ModelCard

    ev, a = record["evaluation"], record["args"]
    command = (f"python -m icedit_lib.mini_clip --output-dir {a['output_dir']} --steps {a['steps']} "
               f"--batch-size {a['batch_size']} --lr {a['lr']} --width {a['width']} --layers {a['layers']} "
               f"--seed {a['seed']}" + (f" --threads {a['threads']}" if a["threads"] else ""))
    return ModelCard(
        "mini-clip: the miniature's CLIP",
        about=f"A `CLIPModel` ({record['parameters'] / 1e6:.2f}M parameters: a ViT with 8-pixel patches on 64 x 64 "
              f"panels and a {a['layers']}-layer text tower of width {a['width']} on the miniature's word-level "
              "tokenizer) with its `CLIPProcessor`, trained contrastively on ShapesWorld training-split panels and "
              "captions, half of each batch one edit away from the other half (`icedit_lib/mini_clip.py`). For "
              "CLIP-I and CLIP-out on the miniature's edits (`metrics.ClipScorer`).",
        facts=[f"Trained: {record['step']} steps of {a['batch_size']} pairs, {record['wall_s'] / 60:.1f} minutes on "
               f"{record['threads']} CPU thread(s).",
               f"Held-out retrieval (top-1 in batches of {ev['batch']}, half one edit away): image to caption "
               f"{ev['image_to_text']:.1%}, caption to image {ev['text_to_image']:.1%} ({ev['n']} panels, seed "
               f"{ev['seed']}).",
               f"Reproduce: `{command}`"]).render()


if __name__ == "__main__":
    main()
