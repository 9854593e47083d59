"""Pretrain the miniature FLUX transformers on ShapesWorld: text-to-image, then Fill.

    python -m icedit_lib.pretrain_flux --stage t2i  --work-dir checkpoints/t2i   # FLUX.1 [dev] stand-in
    python -m icedit_lib.pretrain_flux --stage fill --work-dir checkpoints/fill  # FLUX.1 Fill [dev] stand-in

ICEdit's premise is a DiT that already understands diptychs. FLUX learned that from web
images; the miniature learns it from the corpus in `corpus.py`: descriptive captions of
panels and diptychs (identical or with one change), never an imperative.

Recipe (rectified flow, as FLUX / SD3):
- x_t = (1 - t) x0 + t noise, target v = noise - x0, t = sigmoid(N(0, 1)) (logit-normal)
  then shifted by the same resolution-dependent mu the sampler uses.
- DiT-style zero init of every modulation (adaLN) layer and of the output projection,
  AdamW with warm-up, an EMA of the weights (what gets exported).
- Guidance embedding: FLUX.1 [dev] learned it by distilling classifier-free guidance. The
  miniature is not distilled: it sees guidance values drawn from [1, 60] and learns to
  ignore them, so any `guidance_scale` works at inference (a simplification).
- Stage `t2i` with `--pretrained-text` (the shipped recipe, issue 28: language before images)
  trains a fresh transformer on the frozen encoders that `pretrain_text` made; without it, the
  transformer and the tiny CLIP + T5 train jointly (the first base's recipe; frozen from then on).
- Stage `fill` makes the Fill model as FLUX Fill was made: the T2I weights with the input
  layer widened to take the masked-image latents and the packed mask (new columns zero),
  trained on inpainting (by default right-half masks of diptychs; see below). The loss on
  masked tokens weighs 1.0, on the others 0.1. In a one-change diptych the change covers a
  few of the 64 right-half tokens and the copy all the others, so a model that copies has
  almost no loss left to learn from: `--changed-weight` multiplies the weight of the masked
  tokens where the right panel differs from the left (an addition of this course; FLUX's
  web data needs no such help). Measured, it hurts: a weight that depends on the target
  moves the flow-matching optimum from the conditional mean towards the outcomes that
  differ, i.e. towards an average of possible changes (blobs, and redrawn objects that
  should stay); the shipped third phase trains with 1 (lab/2026-11-24_pretraining_attempts.md,
  sessions 12-13).
  Steps cycle through the kinds of example in `--fill-kinds`. The default is the in-context
  layout alone (`right`): the shipped base v2 Fill cycled right, right, rectangle on a diptych,
  rectangle on a panel until step 11440, and its one-change success stalled at 17% from step
  8000 with copy at 100%, then rose once every step was a right-half diptych; base v3's Fill,
  right-half from its first step, passed 20% at 6000 steps (lab/2026-12-06_base_v3).
- `--scene-loss W` adds W times an auxiliary loss that leaves the flow target alone: a linear head
  reads every image token's cell (object colour, shape, size; background, style) of the clean image
  from the last double-stream block (`scene_loss`, after REPA); training-only, never exported.
  From the first step it buys speed: base v3's Fill with weight 0.02 completed at 10000 steps as
  many held-out one-change diptychs as the same run without it at 16000 (lab/2026-12-06_base_v3);
  added to a Fill already trained 30000 steps it changed nothing (lab/2026-12-05_fill_v2_3).
  `pretrain --all` trains the Fill with it.

Learning rate: warm-up, then cosine from --lr to --lr / 10 over steps 0 to --steps. A run continued
from an export takes that schedule's tail (re-warmed), which late in a schedule is far below --lr;
`--fresh-schedule` gives it a warm-up and cosine of its own from the exported step to --steps (a new
phase with a new peak).

Resumable after a kill (state every `--checkpoint-minutes`; data is a function of (seed,
step)); `--export-only` writes the current EMA weights into the model folder.
"""
from __future__ import annotations

import copy
from functools import partial
import json
import math
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from diffusers import AutoencoderKL, FluxFillPipeline, FluxPipeline, FluxTransformer2DModel
from diffusers.pipelines.flux.pipeline_flux import calculate_shift

from . import miniature as mini
from . import shapesworld as sw
from .devices import pick_device
from .checkpoints import TrainingRun, atomic_dir, atomic_write_text, step_data, step_rng
from .config import option, parse_config
from .corpus import random_diptych
from .diptych import changed_tokens
from .pretrain_eval import evaluate_fill, evaluate_t2i
from .scene_loss import BlockTap, SceneHead, image_token_labels
from .schedule import warmup_cosine

STAGES = ("t2i", "fill")
FILL_KINDS = ("right", "rect_diptych", "rect_panel")  # the in-context layout, and plain inpainting of rectangles
T2I_KINDS = ("panel", "diptych")  # every other step a described scene, every other a described diptych


@dataclass
class PretrainConfig:
    """A pretraining stage's options (the command line is built from these fields: `config.parse_config`)."""
    stage: Literal["t2i", "fill"] = field(metadata={"help": "which transformer to train"})
    model_dir: str = option("data/models/mini", "the miniature folder to read and export into")
    work_dir: str | None = option(None, "resumable state (default checkpoints/<stage>)")
    steps: int = option(20000)
    batch_size: int = option(16)
    lr: float = option(1e-3)
    warmup: int = option(500)
    ema: float = option(0.999)
    unmasked_weight: float = option(0.1, "fill: loss weight of unmasked tokens")
    scene_loss: float = option(0.0, "weight of the auxiliary scene read-out (`scene_loss`, after REPA): a linear "
                                    "head on the image tokens after the last double-stream block predicts each "
                                    "token's object and panel attributes in the clean image; 0: off")
    changed_weight: float = option(1.0, "fill: loss weight of masked diptych tokens where the right panel differs "
                                        "from the left")
    p_identical: float = option(0.5, "share of diptychs whose halves are identical (the rest show one change); a "
                                     "later phase can lower it once the copy skill is learned")
    t2i_kinds: str = option(",".join(T2I_KINDS), "t2i: the kinds of example the steps cycle through, one kind per "
                                                 "step (panel: a described scene; diptych: a described diptych, its "
                                                 "halves identical with probability --p-identical)")
    fill_kinds: str = option("right", "fill: the kinds of example the steps cycle through, one kind per "
                                      "step (right: a diptych with its right half masked; rect_diptych, "
                                      "rect_panel: random rectangles)")
    seed: int = option(0)
    checkpoint_minutes: float = option(5.0)
    export_every: int = option(0, "also export to --model-dir every N steps")
    stop_at: int = option(0, "stop (state saved, EMA exported and evaluated) at this step, with the learning-rate "
                             "schedule still that of --steps: the first phase of a run continued differently")
    max_minutes: float = option(0.0, "stop this run cleanly after so many minutes (state saved, EMA exported and "
                                     "evaluated); the schedule still spans --steps, so a later run resumes it")
    budget_minutes: float = option(0.0, "fit --steps to this much training time, timed over the first steps "
                                        "(`schedule.StepBudget`; --steps is then the most it may take): a stage of "
                                        "`pretrain --all`'s time box")
    log_every: int = option(25)
    eval_every: int = option(2000)
    eval_n: int = option(64)
    threads: int = option(0)
    device: str = option("auto")
    data_workers: int = option(0, "make each step's data in this many worker processes, ahead of the training step "
                                  "(the same data as without: `checkpoints.step_data`); on a GPU the rendering is "
                                  "what limits the speed")
    mixed_precision: Literal["no", "bf16"] = option("no", "bf16: the loss computed under bf16 autocast (weights, "
                                                          "optimizer and EMA stay fp32)")
    compile: bool = option(False, "torch.compile the transformer for training: a few minutes of compilation at the "
                                  "start; on the 2-core CPU a 1-thread step ran 1.5x faster, a 2-thread run about "
                                  "as fast as eager")
    export_only: bool = option(False, "export the saved state's EMA and evaluate")
    freeze_text_encoders: bool = option(False, "t2i: train the transformer only, with the encoders already in "
                                               "--model-dir (frozen once the Fill stage has started from them)")
    pretrained_text: bool = option(False, "t2i: a fresh transformer on the frozen encoders that `pretrain_text` "
                                          "wrote into --model-dir (language before images); without it, a fresh "
                                          "T2I trains fresh encoders jointly")
    continue_from_export: bool = option(False, "no state in --work-dir: continue from the weights exported in "
                                               "--model-dir (a new session's fresh checkout), with a fresh optimizer "
                                               "re-warmed over --warmup steps")
    fresh_schedule: bool = option(False, "with --continue-from-export: a learning-rate schedule of the run's own "
                                         "(warm-up to --lr, then cosine to a tenth of it at --steps) from the "
                                         "exported step, instead of the tail of one cosine over steps 0 to --steps, "
                                         "which starts a late continuation far below --lr")

    def __post_init__(self):
        self.work_dir = self.work_dir or f"checkpoints/{self.stage}"
        if self.fresh_schedule and not self.continue_from_export:
            raise ValueError("--fresh-schedule starts a schedule at an exported step: it needs --continue-from-export")
        if set(self.t2i_kinds.split(",")) - set(T2I_KINDS):
            raise ValueError(f"--t2i-kinds: unknown kinds in {self.t2i_kinds!r}; choose from {', '.join(T2I_KINDS)}")
        unknown = set(self.fill_kinds.split(",")) - set(FILL_KINDS)
        if unknown:
            raise ValueError(f"--fill-kinds: unknown kind(s) {sorted(unknown)}; choose from {', '.join(FILL_KINDS)}")


def parse_args(argv=None) -> PretrainConfig:
    return parse_config(PretrainConfig, argv, description=__doc__.split("\n")[0])


# --------------------------------------------------------------------------- data
def t2i_example(rng: random.Random, diptych: bool, p_identical: float = 0.5) -> tuple:
    """(image, caption, panels' scenes): a panel with its description, or a described diptych."""
    if not diptych:
        scene = sw.random_scene(rng, split="train")
        return sw.render(scene), sw.describe_scene(scene).capitalize() + ".", (scene,)
    left, edit, right = random_diptych(rng, p_identical)
    return (sw.render_diptych(left, right),
            sw.diptych_caption(left, edit, describe_left=describe_left(rng, left, 0.5)), (left, right))


def describe_left(rng: random.Random, scene: sw.Scene, p: float) -> bool:
    """Describe the left panel too, sometimes: only for scenes of at most two objects, so the
    caption fits the 77 CLIP / 80 T5 tokens and the change at its end is never truncated."""
    return len(scene.objects) <= 2 and rng.random() < p


def random_rect_mask(rng: random.Random, width: int, height: int, unit: int = 4) -> np.ndarray:
    """A random axis-aligned rectangle, on the latent grid, covering 10-60% of the image."""
    mask = np.zeros((height, width), np.float32)
    w = rng.randrange(width // 4, int(width * 0.8) + 1, unit)
    h = rng.randrange(height // 4, int(height * 0.8) + 1, unit)
    x, y = rng.randrange(0, width - w + 1, unit), rng.randrange(0, height - h + 1, unit)
    mask[y:y + h, x:x + w] = 1.0
    return mask


def fill_example(rng: random.Random, kind: str, p_identical: float = 0.5) -> tuple:
    """(image, mask, caption, panels' scenes) for one Fill training example of `kind`:
    `right` (a diptych, right half masked: the in-context layout), `rect_diptych` or `rect_panel`."""
    if kind == "rect_panel":
        scene = sw.random_scene(rng, split="train")
        return sw.render(scene), random_rect_mask(rng, 64, 64), sw.describe_scene(scene).capitalize() + ".", (scene,)
    left, edit, right = random_diptych(rng, p_identical)
    caption = sw.diptych_caption(left, edit, describe_left=describe_left(rng, left, 0.25))
    if kind == "right":
        mask = np.zeros((64, 128), np.float32)
        mask[:, 64:] = 1.0
    else:
        mask = random_rect_mask(rng, 128, 64)
    return sw.render_diptych(left, right), mask, caption, (left, right)


# --------------------------------------------------------------------------- model
def zero_init_modulation(transformer: FluxTransformer2DModel) -> None:
    """adaLN-Zero (DiT): zero the modulation layers and the output projection, so every
    block starts as the identity and the model starts by predicting zero."""
    for name, module in transformer.named_modules():
        if name.endswith(("norm1.linear", "norm1_context.linear", "norm.linear", "norm_out.linear")) or \
                name == "proj_out":
            torch.nn.init.zeros_(module.weight)
            if module.bias is not None:
                torch.nn.init.zeros_(module.bias)


def widen_to_fill(t2i: FluxTransformer2DModel) -> FluxTransformer2DModel:
    """The Fill transformer from the T2I one: same weights, input layer widened from 4C to
    8C + 4 s^2 channels with the new columns zero (the model starts as the T2I model)."""
    config = {k: v for k, v in t2i.config.items() if not k.startswith("_")}
    fill = FluxTransformer2DModel(**(config | {"in_channels": mini.fill_in_channels()}))
    state = t2i.state_dict()
    w = state.pop("x_embedder.weight")
    missing, unexpected = fill.load_state_dict(state, strict=False)
    assert missing == ["x_embedder.weight"] and not unexpected, (missing, unexpected)
    with torch.no_grad():
        fill.x_embedder.weight.zero_()
        fill.x_embedder.weight[:, : w.shape[1]] = w
    return fill


class Trainable(torch.nn.Module):
    """The modules a stage trains, under one name for checkpoints and the EMA."""

    def __init__(self, transformer, text_encoder=None, text_encoder_2=None):
        super().__init__()
        self.transformer = transformer
        self.text_encoder = text_encoder
        self.text_encoder_2 = text_encoder_2


def build_stage(config, device):
    """(pipeline with every component, Trainable) for a fresh start of the stage."""
    model_dir = Path(config.model_dir)
    vae = AutoencoderKL.from_pretrained(model_dir / "vae").to(device).eval().requires_grad_(False)
    if config.stage == "t2i" and config.freeze_text_encoders:  # continue the T2I model beside a Fill run
        pipe = FluxPipeline.from_pretrained(model_dir, transformer=FluxTransformer2DModel.from_pretrained(
            model_dir, subfolder=mini.T2I_SUBFOLDER))
        pipe.vae = vae
        pipe.register_modules(vae=vae)
        for enc in (pipe.text_encoder, pipe.text_encoder_2):
            enc.eval().requires_grad_(False)
        trainable = Trainable(pipe.transformer)
    elif config.stage == "t2i" and config.pretrained_text:  # a fresh transformer reading frozen, pretrained encoders
        torch.manual_seed(config.seed)
        pipe = FluxPipeline.from_pretrained(model_dir, transformer=None)
        width = pipe.text_encoder_2.config.d_model
        transformer = mini.build_transformer(fill=False, text_width=width)
        zero_init_modulation(transformer)
        pipe.register_modules(vae=vae, transformer=transformer)
        for enc in (pipe.text_encoder, pipe.text_encoder_2):
            enc.eval().requires_grad_(False)
        trainable = Trainable(transformer)
    elif config.stage == "t2i":
        torch.manual_seed(config.seed)
        tok, tok2 = mini.build_clip_tokenizer(), mini.build_t5_tokenizer()
        # the first base's joint recipe: its encoders, two layers deep, learned language from the images alone
        clip, t5 = mini.build_text_encoders(len(tok), len(tok2), tok.eos_token_id, layers=2)
        transformer = mini.build_transformer(fill=False)
        zero_init_modulation(transformer)
        pipe = FluxPipeline(scheduler=mini.build_scheduler(), vae=vae, text_encoder=clip.train(), tokenizer=tok,
                            text_encoder_2=t5.train(), tokenizer_2=tok2, transformer=transformer)
        trainable = Trainable(transformer, clip, t5)
    else:
        base = FluxPipeline.from_pretrained(model_dir, transformer=FluxTransformer2DModel.from_pretrained(
            model_dir, subfolder=mini.T2I_SUBFOLDER))
        if config.continue_from_export and (model_dir / "transformer" / "config.json").exists():
            # a continued Fill keeps the exported architecture, which need not be the T2I model's widened: a
            # transformer grown by blocks that start as the identity continues as it was saved. The architecture
            # only (the weights come from `load_export` or the state), and not the folder it was read from, which
            # `from_pretrained` would carry into every export's config as `_name_or_path`
            arch = FluxTransformer2DModel.load_config(model_dir, subfolder="transformer")
            transformer = FluxTransformer2DModel.from_config({k: v for k, v in arch.items() if k != "_name_or_path"})
        else:
            transformer = widen_to_fill(base.transformer)
        pipe = FluxFillPipeline(scheduler=base.scheduler, vae=vae, text_encoder=base.text_encoder.eval(),
                                tokenizer=base.tokenizer, text_encoder_2=base.text_encoder_2.eval(),
                                tokenizer_2=base.tokenizer_2, transformer=transformer)
        for enc in (pipe.text_encoder, pipe.text_encoder_2):
            enc.requires_grad_(False)
        trainable = Trainable(transformer)
    pipe.to(device)
    return pipe, trainable.to(device).train()


# --------------------------------------------------------------------------- one step
def encode_images(pipe, images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Images in [-1, 1] -> normalised latents, as the pipelines do (sampled posterior)."""
    post = pipe.vae.encode(images).latent_dist
    return (post.sample(generator) - pipe.vae.config.shift_factor) * pipe.vae.config.scaling_factor


def shifted_logit_normal(n: int, seq_len: int, scheduler_config, generator) -> torch.Tensor:
    """t = sigmoid(N(0,1)), then the sampler's time shift for this many image tokens."""
    mu = calculate_shift(seq_len, scheduler_config.base_image_seq_len, scheduler_config.max_image_seq_len,
                         scheduler_config.base_shift, scheduler_config.max_shift)
    t = torch.sigmoid(torch.randn(n, generator=generator))
    return math.exp(mu) / (math.exp(mu) + (1 / t - 1))


def step_examples(config, step: int) -> dict:
    """One step's data, a function of (seed, step) alone: uint8 images [B, H, W, 3], masks [B, H, W]
    (Fill), captions and, with --scene-loss, every image token's labels (`scene_loss.image_token_labels`).
    Made in the main process, or ahead of it in worker processes (`step_batches`)."""
    rng, _ = step_rng(config.seed, step)
    if config.stage == "t2i":
        kinds = config.t2i_kinds.split(",")
        examples = [t2i_example(rng, kinds[step % len(kinds)] == "diptych", config.p_identical)
                    for _ in range(config.batch_size)]
    else:
        kinds = config.fill_kinds.split(",")
        examples = [fill_example(rng, kinds[step % len(kinds)], config.p_identical) for _ in range(config.batch_size)]
    return {"images": np.stack([np.asarray(e[0].convert("RGB")) for e in examples]),
            "masks": np.stack([e[1] for e in examples]) if config.stage == "fill" else None,
            "captions": [e[-2] for e in examples],
            "token_labels": np.stack([image_token_labels(e[-1]) for e in examples]) if config.scene_loss else None}


def step_batches(config, start: int, stop: int):
    """(step, examples) in order, made in `--data-workers` processes (`checkpoints.step_data`)."""
    return step_data(partial(step_examples, config), start, stop, config.data_workers)


def training_loss(pipe, config, step: int, device, examples: dict | None = None, scene=None) -> torch.Tensor:
    """The step's loss: rectified flow, plus --scene-loss times its term (`training_losses`)."""
    return total_loss(training_losses(pipe, config, step, device, examples, scene), config)


def total_loss(parts: dict[str, torch.Tensor], config) -> torch.Tensor:
    weights = {"flow": 1.0, "scene": config.scene_loss}
    return sum(weights[name] * part for name, part in parts.items())


def training_losses(pipe, config, step: int, device, examples: dict | None = None,
                    scene: tuple[BlockTap, SceneHead] | None = None) -> dict[str, torch.Tensor]:
    """The step's rectified-flow loss (module docstring) under "flow"; `examples` as `step_examples` makes them.
    With `scene` (the tap on the transformer's last double-stream block and the head reading it), also the scene
    read-out's cross-entropy on the image tokens under "scene" (`scene_loss`)."""
    examples = step_examples(config, step) if examples is None else examples
    _, gen = step_rng(config.seed, step)
    b = config.batch_size
    images = torch.as_tensor(examples["images"]).to(device).permute(0, 3, 1, 2).float() / 127.5 - 1.0
    masks = None if examples["masks"] is None else torch.as_tensor(examples["masks"])[:, None].to(device)
    captions = list(examples["captions"])
    height, width = images.shape[-2:]
    with torch.no_grad():
        x0 = encode_images(pipe, images, gen)
    c, lh, lw = x0.shape[1:]
    packed_x0 = pipe._pack_latents(x0, b, c, lh, lw)
    noise = torch.randn(packed_x0.shape, generator=gen).to(device)
    t = shifted_logit_normal(b, packed_x0.shape[1], pipe.scheduler.config, gen).to(device)
    xt = (1 - t[:, None, None]) * packed_x0 + t[:, None, None] * noise
    prompt_embeds, pooled, text_ids = pipe.encode_prompt(prompt=captions, prompt_2=None, device=device,
                                                         max_sequence_length=mini.T5_MAX_LENGTH)
    img_ids = pipe._prepare_latent_image_ids(b, lh // 2, lw // 2, device, xt.dtype)
    hidden = xt
    if masks is not None:
        with torch.no_grad():  # the pipeline's own conditioning: masked image latents + packed mask
            mask_packed, masked_latents = pipe.prepare_mask_latents(masks, images * (1 - masks), b, c, 1, height,
                                                                    width, xt.dtype, device, gen)
        hidden = torch.cat([xt, masked_latents, mask_packed], dim=-1)
    guidance = torch.empty(b).uniform_(1.0, 60.0, generator=gen).to(device)
    pred = pipe.transformer(hidden_states=hidden, timestep=t, guidance=guidance, pooled_projections=pooled,
                            encoder_hidden_states=prompt_embeds, txt_ids=text_ids, img_ids=img_ids,
                            return_dict=False)[0]
    err = (pred - (noise - packed_x0)).pow(2).mean(-1)  # per token
    parts = {}
    if scene is not None:
        tap, head = scene
        parts["scene"] = head(tap.hidden, torch.as_tensor(examples["token_labels"]).to(device))
    if masks is None:
        return {"flow": err.mean(), **parts}
    masked_tokens = (mask_packed.mean(-1) > 0).float()  # a token is masked if any of its pixels is
    weight = masked_tokens + config.unmasked_weight * (1 - masked_tokens)
    if config.changed_weight != 1.0 and width == 2 * height:  # single panels have no left to differ from
        weight = weight * (1 + (config.changed_weight - 1) * masked_tokens * changed_tokens(images, err.shape[1]))
    return {"flow": (err * weight).sum() / weight.sum(), **parts}


def learning_rate(step: int, peak: float, warmup: int, total: int, rewarm_from: int = 0,
                  fresh_schedule: bool = False) -> float:
    """Warm-up, then cosine from `peak` to `peak` / 10 at `total` (module docstring). A run continued from an export
    at `rewarm_from` either takes that schedule's tail, re-warmed over `warmup` steps, or (`fresh_schedule`) a
    warm-up and cosine of its own from `rewarm_from` to `total`."""
    if fresh_schedule:
        return warmup_cosine(step, peak, warmup, total, floor=0.1, start=rewarm_from)
    rewarm = min(1.0, (step - rewarm_from + 1) / warmup) if rewarm_from else 1.0
    return warmup_cosine(step, peak, warmup, total, floor=0.1) * rewarm


# --------------------------------------------------------------------------- main
def export(pipe, ema: Trainable, config, record: dict) -> None:
    """Write the EMA weights into the model folder (diffusers layout) with a record."""
    out = Path(config.model_dir)
    parts = {mini.T2I_SUBFOLDER if config.stage == "t2i" else "transformer": ema.transformer}
    if ema.text_encoder is not None:  # trained jointly in the first T2I run
        parts.update(text_encoder=ema.text_encoder, text_encoder_2=ema.text_encoder_2,
                     tokenizer=pipe.tokenizer, tokenizer_2=pipe.tokenizer_2)
    for sub, part in parts.items():
        with atomic_dir(out / sub) as tmp:
            part.save_pretrained(tmp, **({} if sub.startswith("tokenizer") else {"safe_serialization": True}))
    write_training_record(config, record)


def write_training_record(config, record: dict) -> None:
    """training_<stage>.json beside the exported weights: step, wall time, evaluation, arguments."""
    atomic_write_text(Path(config.model_dir) / f"training_{config.stage}.json", json.dumps(record, indent=2))


def load_export(model: Trainable, config, device) -> tuple[int, float]:
    """Load the weights `export` wrote (the EMA) into `model`; return (step, wall seconds) so far."""
    from transformers import CLIPTextModel, T5EncoderModel

    out = Path(config.model_dir)
    record_path = out / f"training_{config.stage}.json"
    if not record_path.exists():
        raise SystemExit(f"--continue-from-export: {record_path} does not exist (nothing was exported)")
    record = json.loads(record_path.read_text())
    sub = mini.T2I_SUBFOLDER if config.stage == "t2i" else "transformer"
    exported = FluxTransformer2DModel.from_pretrained(out, subfolder=sub)
    model.transformer.load_state_dict(exported.state_dict())
    if model.text_encoder is not None:
        model.text_encoder.load_state_dict(CLIPTextModel.from_pretrained(out / "text_encoder").state_dict())
        model.text_encoder_2.load_state_dict(T5EncoderModel.from_pretrained(out / "text_encoder_2").state_dict())
    model.to(device)
    return record["step"], record["wall_s"]


def eval_pipeline(pipe, ema: Trainable, config):
    """A pipeline over the EMA weights, in eval mode, for sampling."""
    components = dict(pipe.components)
    components["transformer"] = ema.transformer
    if ema.text_encoder is not None:
        components.update(text_encoder=ema.text_encoder, text_encoder_2=ema.text_encoder_2)
    cls = FluxPipeline if config.stage == "t2i" else FluxFillPipeline
    sampler = cls(**components)
    sampler.set_progress_bar_config(disable=True)
    for m in (sampler.transformer, sampler.text_encoder, sampler.text_encoder_2):
        m.eval()
    return sampler


def evaluate(pipe, ema, config) -> dict:
    sampler = eval_pipeline(pipe, ema, config)
    result = (evaluate_t2i if config.stage == "t2i" else evaluate_fill)(sampler, n=config.eval_n)
    for m in (ema.transformer, ema.text_encoder, ema.text_encoder_2):
        if m is not None:
            m.train()
    return result


def add_scene_head(model, config, device) -> None:
    """With --scene-loss, the read-out's head (`scene_loss.SceneHead`): trained beside the transformer, never
    exported. Add it before the optimizer and the EMA copy are made."""
    if config.scene_loss:
        model.scene_head = SceneHead(model.transformer.inner_dim).to(device)


def scene_readout(model, config) -> tuple[BlockTap, SceneHead] | None:
    """`training_losses`' `scene`: a tap on the last double-stream block and the head that reads it. Hook it after
    the EMA copy (which must not carry the hook) and before `torch.compile` (`BlockTap`)."""
    return (BlockTap(model.transformer.transformer_blocks[-1]), model.scene_head) if config.scene_loss else None


def main(argv=None) -> dict:
    config = parse_args(argv)
    if config.threads:
        torch.set_num_threads(config.threads)
    device = pick_device(config.device)
    pipe, model = build_stage(config, device)
    add_scene_head(model, config, device)
    ema = copy.deepcopy(model).requires_grad_(False)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=config.lr, weight_decay=0.0,
                            betas=(0.9, 0.99))
    run = TrainingRun(config.work_dir, model, opt, total=config.steps, desc=config.stage,
                      checkpoint_minutes=config.checkpoint_minutes, budget_minutes=config.budget_minutes,
                      log_every=config.log_every, ema=ema, ema_decay=config.ema)
    if not run.state_path.exists() and config.continue_from_export:
        step, elapsed = load_export(model, config, device)
        ema.load_state_dict(model.state_dict())
        run.start_at(step, elapsed, rewarm_from=step)  # a fresh optimizer on trained weights warms up again
        print(f"continuing {config.stage} from the weights exported at step {step} (fresh optimizer)")
    elif not run.state_path.exists() and config.export_only:
        raise SystemExit(f"nothing to export: {run.state_path} does not exist")
    rewarm_from = run.extra.get("rewarm_from", 0)
    scene = scene_readout(model, config)
    if config.compile and not config.export_only:  # after the EMA copy: the EMA and its evaluations stay eager
        model.transformer.compile(dynamic=False)

    def record(ev: dict | None) -> dict:
        return {"stage": config.stage, "step": run.step, "wall_s": round(run.elapsed, 1), "device": device,
                **({"gpu": torch.cuda.get_device_name()} if device.startswith("cuda") else {}),
                "threads": torch.get_num_threads(), "evaluation": ev,
                # steps: the schedule's length, fitted to --budget-minutes if one was given
                "args": {**asdict(config), "steps": run.total}}

    if config.export_only:
        run.close()
        rec = record(evaluate(pipe, ema, config))
        export(pipe, ema, config, rec)
        return rec
    deadline = time.time() + config.max_minutes * 60 if config.max_minutes else math.inf
    def last() -> int:  # the total may be fitted to a time budget after the first steps
        return min(run.total, config.stop_at) if config.stop_at else run.total
    batches = step_batches(config, run.step, last())
    autocast = torch.autocast(torch.device(device).type, dtype=torch.bfloat16, enabled=config.mixed_precision == "bf16")
    while run.step < last():
        data_step, examples = next(batches)
        assert data_step == run.step, (data_step, run.step)
        with autocast:
            parts = training_losses(pipe, config, run.step, device, examples, scene)
        loss = total_loss(parts, config)
        logged = {k: v.detach() for k, v in parts.items() if k != "flow"}  # auxiliary terms beside the total
        run.optimizer_step(loss, learning_rate(run.step, config.lr, config.warmup, run.total, rewarm_from,
                                               config.fresh_schedule), **logged)
        if run.step % config.eval_every == 0:
            ev = evaluate(pipe, ema, config)
            run.log({"step": run.step, "eval": ev})
            run.bar.write(f"step {run.step}: {ev}")
        out_of_time = time.time() > deadline
        if run.step == last() or out_of_time:  # stopped before the schedule's end: save where it stands
            run.save()
        if config.export_every and run.step % config.export_every == 0 and run.step != last() and not out_of_time:
            export(pipe, ema, config, record(None))  # the last step's export follows the loop
        if out_of_time:
            break
    run.close()
    export(pipe, ema, config, record(None))  # the weights before the evaluation: a failure there loses nothing
    rec = record(evaluate(pipe, ema, config))
    write_training_record(config, rec)
    return rec


if __name__ == "__main__":
    main()
