"""Fine-tune the Fill model on in-context diptychs with LoRA or LoRA-MoE (paper section 3.2).

    python -m icedit_lib.train --base mini --adapter moe --output-dir data/models/mini-moe
    accelerate launch --num_processes 2 --cpu -m icedit_lib.train ...   # or several GPUs / machines

One step, as the authors train (their `train/` configs in River-Zhang/ICEdit; paper section 3.2):
1. the diptych (source | target), resized keeping the aspect ratio; the right half masked;
2. the IC prompt around the instruction, dropped to " " with probability 0.1;
3. rectified flow: t = sigmoid(N(0, 1)), x_t = (1 - t) x0 + t noise, target noise - x0,
   the Fill conditioning (masked-image latents + packed mask) from the pipeline's own
   `prepare_mask_latents`; guidance embedding 1.0;
4. MSE over all tokens (the authors) or over the right half only (`--loss-region right`),
   plus, for LoRA-MoE, the Switch balancing loss times `--balance-coef`; `--changed-weight`
   (an addition of this course, off by default) weighs up the right-half tokens where the
   target differs from the source, as the miniature's Fill pretraining once did: a small edit
   covers a few tokens, and a model that already copies learns little from the others (but a
   weight that depends on the target biases the optimum towards an average change: see
   `pretrain_flux`);
5. Prodigy (lr 1, bias correction, safeguard warm-up, weight decay 0.01), gradient
   clipping 0.5, batch 1 with gradient accumulation 2.

LoRA (rank 32, alpha 32, gaussian init) goes on the authors' target modules through
peft; LoRA-MoE replaces the `--moe-placement` modules with routed experts
(`lora_moe.py`) and keeps plain LoRA on the other targets. Checkpoints hold the trainable
parameters and the optimizer state (safetensors) and resume exactly after a kill;
validation edits are written every `--validate-every` steps.

`--caption-distill W` (not in the paper; ShapesWorld pairs only) blends the regression target
with what the base model itself predicts, adapters off, when prompted with the pair's
descriptive caption (the pretraining corpus's language): target = (1 - W) (noise - x0) +
W v_base(x_t, caption). The miniature base edits better from a description of the change than
an adapter does from the instruction (`lab/2026-11-30_fine_tuning_recipes`); this asks the adapter to
make the instruction do what the description does, with the base's own, lower-variance
prediction as the teacher (see `micro_batch_loss`).

`--text-encoder-rank R` (not in the paper, which keeps FLUX's encoders frozen) also puts LoRA
on the CLIP and T5 encoders' attention: the miniature's encoders never read an imperative
sentence (see `add_text_encoder_lora`). A LoRA keeps CLIP's adapter in the stock Flux LoRA
file; the other encoder adapters are saved beside the weights in transformers' adapter format
(`adapters.load_adapter` loads them all).
"""
from __future__ import annotations

import contextlib
import json
import random
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

import torch
from PIL import Image

from . import adapters, registry
from . import shapesworld as sw
from .checkpoints import TrainingRun, atomic_path, atomic_write_text, step_rng
from .config import command_line, option, parse_config
from .corpus import to_tensor
from .diptych import changed_tokens, make_prompt, plan_layout
from .edit_pairs import pair_source

# The authors' LoRA targets (their train/ config), as one full-match regex for peft.
AUTHORS_TARGETS = (r"^(x_embedder|transformer_blocks\.\d+\.(norm1\.linear|attn\.to_q|attn\.to_k|attn\.to_v|"
                   r"attn\.to_out\.0|ff\.net\.2)|single_transformer_blocks\.\d+\.(norm\.linear|proj_mlp|proj_out|"
                   r"attn\.to_q|attn\.to_k|attn\.to_v))$")


@dataclass
class TrainConfig:
    """The fine-tuning run's options (the command line is built from these fields: `config.parse_config`)."""
    output_dir: str = field(metadata={"help": "where the adapter, its record and card are written"})
    base: str = option("mini", "registry name or folder of a FluxFillPipeline")
    data: str = option("shapesworld", "shapesworld | magicbrush:FILES | omniedit:FILES")
    work_dir: str | None = option(None, "resumable state (default: OUTPUT_DIR/checkpoint)")
    adapter: Literal["lora", "moe"] = option("lora")
    rank: int = option(32)
    alpha: float = option(32.0)
    targets: str = option("authors", "'authors' or a regex of module names for plain LoRA")
    num_experts: int = option(4)
    top_k: int = option(1)
    text_encoder_rank: int = option(0, "also adapt the CLIP and T5 encoders' attention with LoRA of this rank (0: "
                                       "frozen, as the paper); one process")
    moe_placement: Literal["paper", "authors"] = option("paper")
    router: Literal["trainable", "fixed"] = option("trainable")
    router_input: Literal["token", "instruction"] = option("token", "what the MoE router reads: each token (the "
                                                           "paper) or the pooled text embedding, one expert per "
                                                           "edit (an ablation)")
    balance_coef: float = option(0.01)
    loss_region: Literal["all", "right"] = option("all")
    changed_weight: float = option(1.0, "loss weight of right-half tokens where the target differs from the source "
                                        "(1: the authors)")
    caption_distill: float = option(0.0, "blend the target with the adapter-free base's prediction from the pair's "
                                         "descriptive caption, this weight (0: the authors; ShapesWorld data only)")
    prompt: Literal["ic", "direct"] = option("ic")
    prompt_dropout: float = option(0.1)
    optimizer: Literal["prodigy", "adamw"] = option("prodigy")
    lr: float = option(1.0, "Prodigy: 1.0 (it estimates the step size)")
    weight_decay: float = option(0.01)
    max_grad_norm: float = option(0.5)
    batch_size: int = option(1)
    grad_accum: int = option(2)
    max_steps: int = option(2000, "optimizer steps")
    checkpoint_minutes: float = option(5.0)
    validate_every: int = option(500)
    mixed_precision: Literal["no", "bf16", "fp16"] = option("no")
    gradient_checkpointing: bool = option(False)
    seed: int = option(0)
    threads: int = option(0)
    eval_n: int = option(0, "after training, evaluate on this many held-out edits (the fine-tuning experiment's "
                            "suite) and put the numbers in training.json and the model card")

    def __post_init__(self):
        if not 0.0 <= self.caption_distill <= 1.0:
            raise ValueError(f"--caption-distill is a blend weight in [0, 1], got {self.caption_distill}")
        if self.caption_distill and not self.data.startswith("shapesworld"):
            raise ValueError("--caption-distill needs descriptive captions, which only ShapesWorld pairs carry")
        self.work_dir = self.work_dir or str(Path(self.output_dir) / "checkpoint")


def parse_args(argv=None) -> TrainConfig:
    return parse_config(TrainConfig, argv, description=__doc__.split("\n")[0])


# --------------------------------------------------------------------------- model
def add_adapter(transformer, config: TrainConfig) -> list[str]:
    """LoRA (peft) on the target modules; for `moe`, routed experts on the placement modules
    and plain LoRA on the remaining targets. Returns the MoE module names."""
    import re

    from peft import LoraConfig

    from .lora_moe import add_lora_moe, placement_modules

    transformer.requires_grad_(False)
    pattern = re.compile(AUTHORS_TARGETS if config.targets == "authors" else config.targets)
    moe_names = placement_modules(transformer, config.moe_placement) if config.adapter == "moe" else []
    plain = [n for n, m in transformer.named_modules()
             if isinstance(m, torch.nn.Linear) and pattern.fullmatch(n) and n not in moe_names]
    if plain:
        transformer.add_adapter(LoraConfig(r=config.rank, lora_alpha=config.alpha, init_lora_weights="gaussian",
                                           target_modules=plain))
    if moe_names:
        add_lora_moe(transformer, moe_names, config.num_experts, config.rank, config.alpha, config.top_k, config.router,
                     config.router_input)
    if not plain and not moe_names:
        raise ValueError(f"--targets {config.targets!r} matches no Linear module of the transformer")
    return moe_names


# The text encoders' attention projections (CLIP, T5), for `--text-encoder-rank`.
TEXT_ENCODER_TARGETS = {"text_encoder": ["q_proj", "k_proj", "v_proj", "out_proj"],
                        "text_encoder_2": ["q", "k", "v", "o"]}


def add_text_encoder_lora(pipe, rank: int) -> dict[str, torch.nn.Module]:
    """LoRA on both text encoders' attention (peft through transformers' adapter API).

    Not in the paper, which keeps FLUX's encoders frozen: a real T5 read imperative sentences
    in its own pretraining, the miniature's encoders learned words from descriptive captions
    only, so "make", "remove", "turn ... into" keep their random embeddings. Adapting the
    encoders lets fine-tuning teach them the instruction's wording."""
    from peft import LoraConfig

    for name, targets in TEXT_ENCODER_TARGETS.items():
        getattr(pipe, name).add_adapter(LoraConfig(r=rank, lora_alpha=rank, init_lora_weights="gaussian",
                                                   target_modules=targets))
    return {name: getattr(pipe, name) for name in TEXT_ENCODER_TARGETS}


@contextlib.contextmanager
def adapters_off(pipe, transformer):
    """The base model as pretrained: every LoRA (transformer, text encoders) and LoRA-MoE layer
    switched off for the duration, then back on."""
    from .lora_moe import moe_modules

    peft_models = [m for m in (transformer, pipe.text_encoder, pipe.text_encoder_2) if getattr(m, "peft_config", None)]
    moes = list(moe_modules(transformer).values())
    for m in peft_models:
        m.disable_adapters()
    for m in moes:
        m.disabled = True
    try:
        yield
    finally:
        for m in peft_models:
            m.enable_adapters()
        for m in moes:
            m.disabled = False


# --------------------------------------------------------------------------- one micro-batch
def diptych_pair(pair: dict, panel_width: int, multiple: int) -> torch.Tensor:
    """The training diptych (source | target), [1, 3, H, 2W] in [-1, 1]; the source's aspect
    ratio is kept (the target is resized to the same panel)."""
    layout = plan_layout(pair["source"].size, panel_width, multiple)
    panels = [im if im.size == layout.panel_size else im.resize(layout.panel_size, Image.BICUBIC)
              for im in (pair["source"], pair["target"])]
    both = to_tensor(panels)
    return torch.cat([both[0], both[1]], dim=-1)[None]


def micro_batch_loss(pipe, transformer, config: TrainConfig, pairs: list[dict], gen: torch.Generator,
                     rng: random.Random, panel_width: int, max_sequence_length: int, device,
                     guidance_embeds: bool = True):
    from .lora_moe import balance_loss

    multiple = pipe.vae_scale_factor * 2
    images = torch.cat([diptych_pair(p, panel_width, multiple) for p in pairs]).to(device, pipe.vae.dtype)
    b, _, height, width = images.shape
    mask = torch.zeros(b, 1, height, width, device=device, dtype=images.dtype)
    mask[..., width // 2:] = 1.0
    dropped = [rng.random() < config.prompt_dropout for _ in pairs]
    prompts = [" " if drop else make_prompt(p["instruction"], config.prompt) for p, drop in zip(pairs, dropped)]
    with torch.set_grad_enabled(bool(config.text_encoder_rank)):  # adapted encoders learn
        embeds, pooled, text_ids = pipe.encode_prompt(prompts, None, device=device,
                                                      max_sequence_length=max_sequence_length)
    with torch.no_grad():
        post = pipe.vae.encode(images).latent_dist
        x0 = (post.sample(gen) - pipe.vae.config.shift_factor) * pipe.vae.config.scaling_factor
        c, lh, lw = x0.shape[1:]
        x0 = pipe._pack_latents(x0, b, c, lh, lw)
        mask_packed, masked_latents = pipe.prepare_mask_latents(mask, images * (1 - mask), b, c, 1, height, width,
                                                                images.dtype, device, gen)
    noise = torch.randn(x0.shape, generator=gen).to(device, x0.dtype)
    t = torch.sigmoid(torch.randn(b, generator=gen)).to(device, x0.dtype)
    xt = (1 - t[:, None, None]) * x0 + t[:, None, None] * noise
    img_ids = pipe._prepare_latent_image_ids(b, lh // 2, lw // 2, device, x0.dtype)
    guidance = torch.full((b,), 1.0, device=device) if guidance_embeds else None
    inputs = dict(hidden_states=torch.cat([xt, masked_latents, mask_packed], -1), timestep=t, guidance=guidance,
                  img_ids=img_ids, return_dict=False)
    pred = transformer(pooled_projections=pooled, encoder_hidden_states=embeds, txt_ids=text_ids, **inputs)[0]
    target = (noise - x0).float()
    if config.caption_distill:  # the base's own velocity from the change described, the instruction's teacher
        captions = [" " if drop else p["caption"] for p, drop in zip(pairs, dropped)]  # dropped stays unconditional
        with torch.no_grad(), adapters_off(pipe, pipe.transformer):  # the pipeline holds the unwrapped model
            c_embeds, c_pooled, c_ids = pipe.encode_prompt(captions, None, device=device,
                                                           max_sequence_length=max_sequence_length)
            teacher = pipe.transformer(pooled_projections=c_pooled, encoder_hidden_states=c_embeds, txt_ids=c_ids,
                                       **inputs)[0].float()
        target = (1 - config.caption_distill) * target + config.caption_distill * teacher
    err = (pred.float() - target).pow(2).mean(-1)  # per token
    weight = torch.ones_like(err)
    if config.changed_weight != 1.0:
        weight = weight + (config.changed_weight - 1) * changed_tokens(images.float(), err.shape[1]).to(err.device)
    if config.loss_region == "right":
        right = (img_ids[:, 2] >= (lw // 2) // 2).to(err.device)  # token columns of the right half
        err, weight = err[:, right], weight[:, right]
    loss = (err * weight).sum() / weight.sum()
    if config.adapter == "moe" and config.router == "trainable":
        loss = loss + config.balance_coef * balance_loss(transformer).to(loss.device)
    return loss


# --------------------------------------------------------------------------- saving
def save_adapter(pipe, transformer, config: TrainConfig, out_dir: Path, record: dict) -> Path:
    """LoRA: the stock `save_lora_weights` layout; LoRA-MoE: one safetensors with both parts."""
    from diffusers import FluxFillPipeline
    from peft.utils import get_peft_model_state_dict

    from .checkpoints import atomic_dir
    from .lora_moe import save_lora_moe

    lora_state = get_peft_model_state_dict(transformer) if getattr(transformer, "peft_config", None) else {}
    with atomic_dir(out_dir / "adapter") as tmp:
        # adapted encoders: CLIP's in the stock Flux LoRA file when there is one, the rest in transformers'
        # adapter format beside it (adapters.TEXT_ENCODER_ADAPTER_FOLDERS)
        encoders = list(TEXT_ENCODER_TARGETS) if config.text_encoder_rank else []
        if config.adapter == "lora":
            clip = get_peft_model_state_dict(pipe.text_encoder) if encoders else None
            FluxFillPipeline.save_lora_weights(tmp, transformer_lora_layers=lora_state, text_encoder_lora_layers=clip)
            encoders = [n for n in encoders if n != "text_encoder"]
        else:
            save_lora_moe(tmp / "lora_moe.safetensors", transformer,
                          {f"transformer.{k}": v for k, v in lora_state.items()}, base_model=config.base)
        for name in encoders:
            getattr(pipe, name).save_pretrained(tmp / name)
    # replace every adapter part, so none left by an earlier run of another kind is loaded with the new ones
    for name in ("pytorch_lora_weights.safetensors", "lora_moe.safetensors", *adapters.TEXT_ENCODER_ADAPTER_FOLDERS):
        target = out_dir / name
        if target.is_dir():
            shutil.rmtree(target)
        target.unlink(missing_ok=True)
        if (out_dir / "adapter" / name).exists():
            (out_dir / "adapter" / name).replace(target)
    (out_dir / "adapter").rmdir()
    atomic_write_text(out_dir / "icedit.json", json.dumps({"base": config.base, "adapter": config.adapter,
                                                           "panel_width": record.get("panel_width")}))
    atomic_write_text(out_dir / "training.json", json.dumps(record, indent=2))
    write_card(out_dir, record)
    return out_dir


def write_card(out_dir: Path, record: dict) -> Path:
    """The adapter's model card (README.md), generated from its training record (`model_card.ModelCard`)."""
    from .model_card import ModelCard

    a = record["args"]
    kind = (f"LoRA-MoE: {a['num_experts']} experts of rank {a['rank']} (top-{a['top_k']}, {a['router']} router"
            f"{' on the pooled instruction embedding' if a.get('router_input') == 'instruction' else ''}, "
            f"placement {a['moe_placement']}) + LoRA rank {a['rank']} on the other targets"
            if record["adapter"] == "moe" else f"LoRA rank {a['rank']}, alpha {a['alpha']}")
    if a.get("text_encoder_rank"):
        kind += f"; CLIP and T5 attention LoRA rank {a['text_encoder_rank']}"
    facts = [f"command: `{record.get('command', '')}`",
             f"trainable parameters: {record['trainable_parameters']:,}",
             f"optimizer: {a['optimizer']} (lr {a['lr']}, weight decay {a['weight_decay']}), batch {a['batch_size']} "
             f"x gradient accumulation {a['grad_accum']} x {record.get('processes', 1)} process(es), "
             f"clip {a['max_grad_norm']}, prompt `{a['prompt']}` with dropout {a['prompt_dropout']}, loss on "
             f"{a['loss_region']} tokens" + (f", changed tokens weighted {a['changed_weight']}"
                                             if a.get("changed_weight", 1.0) != 1.0 else ""),
             *([f"text encoders adapted too (LoRA rank {a['text_encoder_rank']} on their attention), which the "
                "paper does not do: the miniature's encoders never read an imperative sentence in pretraining"]
               if a.get("text_encoder_rank") else []),
             *([f"target blended with the adapter-free base's prediction from the pair's descriptive caption, weight "
                f"{a['caption_distill']} (`--caption-distill`, not in the paper: the miniature base edits better from a "
                "description than from an instruction)"] if a.get("caption_distill") else []),
             f"steps: {record['steps']}; wall time {record['wall_s'] / 60:.1f} min on {record['device']}"]
    tables = []
    ev = record.get("evaluation")
    if ev:
        o = ev["overall"]
        facts.append(f"held-out evaluation ({o['n']} edits, 28 steps, suite seed {record['eval_suite_seed']}): "
                     f"success {o['success']:.1%}, L1 {o['l1']:.4f}, L1 on kept pixels {o['l1_kept']:.4f}")
        tables.append((["edit type", "success"], [[k, f"{v['success']:.0%}"] for k, v in ev["per_type"].items()]))
    return ModelCard(f"{out_dir.name}: {kind}", about=f"Fine-tuned over `{record['base']}` on {a['data']} editing "
                     "pairs (training templates, training-split scenes) as in-context diptychs.",
                     facts=facts, tables=tables).write(out_dir)


@torch.no_grad()
def validate(pipe, transformer, config: TrainConfig, step: int, out_dir: Path, panel_width: int,
             max_sequence_length: int, n: int = 8) -> float:
    """Edit n held-out ShapesWorld pairs with the model being trained; save a figure; return success."""
    from .editor import ICEditor
    from .figures import edit_grid

    was_training = transformer.training
    transformer.eval()
    editor = ICEditor(pipe, panel_width=panel_width, max_sequence_length=max_sequence_length)
    rng = random.Random(4242)
    rows, hits = [], 0
    for i in range(n):
        pair = sw.random_pair(rng, kind=sw.EDIT_TYPES[i % len(sw.EDIT_TYPES)], split="eval")
        out = editor.edit(sw.render(pair.source), pair.instruction, seed=i, steps=28, prompt_mode=config.prompt).image
        ok = sw.read_scene(out).exact == pair.target
        hits += ok
        rows.append(dict(source=sw.render(pair.source), instruction=pair.instruction, result=out,
                         target=sw.render(pair.target), ok=ok))
    fig = edit_grid(rows, title=f"validation at step {step}: {hits}/{n}")
    with atomic_path(out_dir / "validation" / f"step_{step:06d}.png") as tmp:
        fig.savefig(tmp, dpi=60, format="png")
    import matplotlib.pyplot as plt

    plt.close(fig)
    transformer.train(was_training)
    return hits / n


def attention_kernels(device: torch.device):
    """The attention kernels training may use. On CUDA cuDNN's is left out: on an H200 (torch 2.11,
    CUDA 13.0) its backward failed at FLUX's full size ('mha_graph.execute ... is_good()') and a bf16
    run of the miniature turned NaN after its first optimizer step (lab/2026-11-30_gpu_h200; that this kernel
    caused the NaN too is likely, not yet verified). Flash and memory-efficient attention remain."""
    if device.type != "cuda":
        return contextlib.nullcontext()
    from torch.nn.attention import SDPBackend, sdpa_kernel

    return sdpa_kernel([SDPBackend.FLASH_ATTENTION, SDPBackend.EFFICIENT_ATTENTION, SDPBackend.MATH])


# --------------------------------------------------------------------------- main
def main(argv=None) -> dict:
    return run_training(parse_args(argv))


def run_training(config: TrainConfig) -> dict:
    """Train one adapter as `config` says (resuming its state if there is one); write it, its record and card."""
    from accelerate import Accelerator, DistributedDataParallelKwargs

    if config.threads:
        torch.set_num_threads(config.threads)
    # experts that received no token in a step have no gradient: DDP must not wait for them
    ddp = DistributedDataParallelKwargs(find_unused_parameters=config.adapter == "moe")
    accelerator = Accelerator(gradient_accumulation_steps=config.grad_accum, mixed_precision=config.mixed_precision,
                              kwargs_handlers=[ddp])
    device = accelerator.device
    pipe, entry = registry.load_fill_pipeline(config.base, device=str(device) if device.type == "cuda" else "cpu",
                                              dtype="fp32")
    for name in ("vae", "text_encoder", "text_encoder_2"):
        getattr(pipe, name).requires_grad_(False)
    transformer = pipe.transformer
    torch.manual_seed(config.seed)  # the adapter's initialisation
    moe_names = add_adapter(transformer, config)
    encoders = add_text_encoder_lora(pipe, config.text_encoder_rank) if config.text_encoder_rank else {}
    if encoders and accelerator.num_processes > 1:
        raise ValueError("--text-encoder-rank runs in one process (the encoders are not wrapped for DDP)")
    if config.gradient_checkpointing:
        transformer.enable_gradient_checkpointing()
    transformer.train()
    params = [p for m in (transformer, *encoders.values()) for p in m.parameters() if p.requires_grad]
    if config.optimizer == "prodigy":
        from prodigyopt import Prodigy

        opt = Prodigy(params, lr=config.lr, use_bias_correction=True, safeguard_warmup=True,
                      weight_decay=config.weight_decay)
    else:
        opt = torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
    model, opt = accelerator.prepare(transformer, opt)
    out_dir = Path(config.output_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    unwrapped = accelerator.unwrap_model(model)
    # what the state holds: the transformer's adapter, and the encoders' when they are adapted
    trained = torch.nn.ModuleDict({"transformer": unwrapped, **encoders}) if encoders else unwrapped
    run = TrainingRun(config.work_dir, trained, opt.optimizer if hasattr(opt, "optimizer") else opt,
                      total=config.max_steps, desc=f"train {config.adapter}",
                      checkpoint_minutes=config.checkpoint_minutes,
                      log_every=1, log_path=out_dir / "loss.jsonl", trainable_only=True,
                      main_process=accelerator.is_main_process)
    get_pair = pair_source(config.data, config.seed)
    rank, world = accelerator.process_index, accelerator.num_processes
    record = {"base": config.base, "adapter": config.adapter,
              "trainable_parameters": sum(p.numel() for p in params),
              "moe_modules": moe_names, "panel_width": entry.panel_width, "args": asdict(config)}
    while run.step < run.total:
        step = run.step
        for micro in range(config.grad_accum):  # batch 1, gradient accumulation 2: the authors' setting
            with accelerator.accumulate(model), attention_kernels(device):
                # data and noise: a function of (seed, step, micro-batch, process) -> exact resume
                index = ((step * config.grad_accum + micro) * world + rank) * config.batch_size
                rng, gen = step_rng(config.seed, index)
                pairs = [get_pair(index + j) for j in range(config.batch_size)]
                loss = micro_batch_loss(pipe, model, config, pairs, gen, rng, entry.panel_width,
                                        entry.max_sequence_length, device, unwrapped.config.guidance_embeds)
                if not torch.isfinite(loss):  # stop before the optimizer spreads it to every weight
                    raise FloatingPointError(f"training diverged: the loss is {loss.item()} at step {step + 1}; "
                                             f"the last checkpoint ({run.state_path}) and {out_dir} are left as "
                                             "they were")
                accelerator.backward(loss)
                if accelerator.sync_gradients:
                    accelerator.clip_grad_norm_(params, config.max_grad_norm)
                opt.step()
                opt.zero_grad(set_to_none=True)
        run.advance(loss)  # Prodigy sets its own step size: no learning-rate schedule to apply
        if accelerator.is_main_process and config.validate_every and run.step % config.validate_every == 0:
            acc = validate(pipe, unwrapped, config, run.step, out_dir, entry.panel_width, entry.max_sequence_length)
            run.bar.write(f"step {run.step}: validation success {acc:.0%}")
    run.close()
    accelerator.wait_for_everyone()
    record.update(steps=run.step, wall_s=round(run.elapsed, 1), processes=world, device=str(device),
                  command=command_line("icedit_lib.train", config))
    if accelerator.is_main_process:
        if config.eval_n:
            record.update(evaluate_adapter(pipe, unwrapped, config, out_dir, entry))
        save_adapter(pipe, unwrapped, config, out_dir, record)
    return record


EVAL_SUITE_SEED = 4006  # the fine-tuning experiment's held-out suite


def evaluate_adapter(pipe, transformer, config: TrainConfig, out_dir: Path, entry) -> dict:
    """The trained adapter on a held-out suite (scored by the parser), for the model card."""
    from .editor import ICEditor
    from .evaluation import evaluate_suite
    from .suites import make_suite

    transformer.eval()
    pipe.set_progress_bar_config(disable=True)
    suite = make_suite(out_dir / "evaluation" / "suite", n=config.eval_n, seed=EVAL_SUITE_SEED)
    result = evaluate_suite(ICEditor(pipe, entry.panel_width, entry.max_sequence_length), suite,
                            out_dir / "evaluation", prompt_mode=config.prompt, title=f"{out_dir.name}, held out")
    return {"evaluation": result["summary"], "eval_suite_seed": EVAL_SUITE_SEED}


if __name__ == "__main__":
    main()
