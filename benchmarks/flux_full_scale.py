"""The full-size FLUX.1 Fill [dev] transformer on a GPU: time and memory of an edit's 28 denoising steps
(batch 1, and the batch of M previews early filtering runs) and of one LoRA / LoRA-MoE training step
with the course's own adapter code. Writes benchmarks/results/flux_full_scale.json.

    python benchmarks/flux_full_scale.py                 # full size: a GPU with at least 40 GB
    python benchmarks/flux_full_scale.py --size mini      # the miniature's shape: a smoke run on a CPU

Weights are random: a transformer times the same with random and trained weights, so this needs
neither the 24 GB download nor the gated licence. The text encoders, VAE and judge are not timed
(the transformer is about 95% of an edit's FLOPs). The diptych is the paper's 1024 x 512 (two
512 x 512 panels) with 512 T5 tokens: 2048 image tokens, L = 2560 (FLUX's FLOPs per step, about 37.7 TFLOP there).
"""
import argparse
import contextlib
import time
from pathlib import Path

import torch
from diffusers import FluxFillPipeline, FluxTransformer2DModel
from record import timing_summary, write_record

from icedit_lib import miniature as mini
from icedit_lib import train
from icedit_lib.lora_moe import balance_loss

# black-forest-labs/FLUX.1-Fill-dev transformer/config.json: 19 double and 38 single blocks, width 3072;
# 384 input channels = 64 noisy + 64 masked-image + 256 mask (paper 3.1, the inpainting diptych).
FLUX_FILL_DEV = dict(patch_size=1, in_channels=384, out_channels=64, num_layers=19, num_single_layers=38,
                     attention_head_dim=128, num_attention_heads=24, joint_attention_dim=4096,
                     pooled_projection_dim=768, guidance_embeds=True, axes_dims_rope=(16, 56, 56))
# About 37.7 TFLOP per step at L = 2560 (2 (57 x 12 d^2) L + 57 x 4 L^2 d, d = 3072: matmuls + attention), no CFG pass.
PAPER_TFLOP_PER_STEP = 37.7


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--size", choices=("full", "mini"), default="full")
    p.add_argument("--device", default="auto")
    p.add_argument("--steps", type=int, default=28)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--preview-batch", type=int, default=6, help="M: the seeds early filtering previews at once")
    p.add_argument("--train-steps", type=int, default=5)
    p.add_argument("--gradient-checkpointing", action=argparse.BooleanOptionalAction, default=False,
                   help="recompute activations in the backward pass (less memory, about 1.3x the time)")
    p.add_argument("--skip-inference", action="store_true", help="time the training steps only")
    p.add_argument("--cudnn-attention", action=argparse.BooleanOptionalAction, default=False,
                   help="let SDPA pick cuDNN attention in training (its backward failed on an H200 with "
                        "torch 2.11 + CUDA 13.0: 'mha_graph.execute ... is_good()'); default: train.py's "
                        "choice, train.attention_kernels")
    p.add_argument("--out", default=None, help="default benchmarks/results/flux_full_scale.json (mini: not written)")
    return p.parse_args(argv)


def shapes(size: str) -> dict:
    """Token counts of the timed diptych: 1024 x 512 at FLUX's 16 px per token; the miniature's 128 x 64 at 8."""
    if size == "full":
        return dict(config=FLUX_FILL_DEV, grid=(32, 64), text_tokens=512)
    return dict(config=mini.transformer_config(fill=True), grid=(8, 16), text_tokens=mini.T5_MAX_LENGTH)


def make_inputs(shape: dict, batch: int, device, dtype) -> dict:
    cfg, (gh, gw) = shape["config"], shape["grid"]
    img_ids = FluxFillPipeline._prepare_latent_image_ids(batch, gh, gw, device, dtype)
    return dict(hidden_states=torch.randn(batch, gh * gw, cfg["in_channels"], device=device, dtype=dtype),
                encoder_hidden_states=torch.randn(batch, shape["text_tokens"], cfg["joint_attention_dim"],
                                                  device=device, dtype=dtype),
                pooled_projections=torch.randn(batch, cfg["pooled_projection_dim"], device=device, dtype=dtype),
                timestep=torch.full((batch,), 0.5, device=device, dtype=dtype),
                guidance=torch.full((batch,), 50.0, device=device, dtype=dtype),
                img_ids=img_ids, txt_ids=torch.zeros(shape["text_tokens"], 3, device=device, dtype=dtype),
                return_dict=False)


def sync(device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def peak_gib(device) -> float | None:
    return round(torch.cuda.max_memory_allocated() / 2 ** 30, 2) if device.type == "cuda" else None


def reset_peak(device) -> None:
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()


def build(shape: dict, device, dtype) -> FluxTransformer2DModel:
    """Random weights made directly on the device in `dtype` (12B parameters: no fp32 copy on the host)."""
    default = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        with torch.device(device):
            return FluxTransformer2DModel(**shape["config"]).eval().requires_grad_(False)
    finally:
        torch.set_default_dtype(default)


def time_denoising(model, shape, batch: int, steps: int, repeats: int, device, dtype) -> dict:
    """Wall time of `steps` forward passes in a row: one edit's transformer work at this batch."""
    inputs = make_inputs(shape, batch, device, dtype)
    reset_peak(device)
    times = []
    with torch.inference_mode():
        for i in range(repeats + 1):  # the first run warms up kernels and the allocator
            sync(device)
            start = time.perf_counter()
            for _ in range(steps):
                model(**inputs)
            sync(device)
            if i:
                times.append(time.perf_counter() - start)
    summary = timing_summary(times)
    per_step = summary["median_s"] / steps
    return dict(summary, batch=batch, steps=steps, per_step_s=per_step, peak_gib=peak_gib(device),
                tflops_per_s=PAPER_TFLOP_PER_STEP * batch / per_step if shape["config"] is FLUX_FILL_DEV else None)


def time_training(model, shape, adapter: str, steps: int, device, dtype, checkpointing: bool,
                  cudnn_attention: bool) -> dict:
    """One optimizer step of the course's fine-tuning (train.py's adapter placement and defaults, Prodigy,
    gradient checkpointing, bf16 autocast as accelerate's mixed precision): batch 1, one diptych."""
    from prodigyopt import Prodigy

    args = train.parse_args(["--output-dir", "unused", "--adapter", adapter])
    train.add_adapter(model, args)
    model.train()
    if checkpointing:
        model.enable_gradient_checkpointing()
    params = [p for p in model.parameters() if p.requires_grad]
    for p in params:  # adapter weights train in fp32 on a bf16 base, as peft and accelerate keep them
        p.data = p.data.float()
    opt = Prodigy(params, lr=1.0, use_bias_correction=True, safeguard_warmup=True, weight_decay=0.01)
    inputs = make_inputs(shape, 1, device, dtype)
    target = torch.randn_like(inputs["hidden_states"][..., :shape["config"]["out_channels"]])
    reset_peak(device)
    times = []
    for i in range(steps + 1):
        sync(device)
        start = time.perf_counter()
        # train.py's kernel choice, the backward included (gradient checkpointing reruns the forward there)
        with contextlib.nullcontext() if cudnn_attention else train.attention_kernels(device):
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
                pred = model(**inputs)[0]
                loss = torch.nn.functional.mse_loss(pred.float(), target.float())
                if adapter == "moe":
                    loss = loss + args.balance_coef * balance_loss(model).to(loss.device)
            loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 0.5)
        opt.step()
        opt.zero_grad(set_to_none=True)
        sync(device)
        if i:
            times.append(time.perf_counter() - start)
    return dict(timing_summary(times), adapter=adapter, rank=args.rank, trainable_params=sum(p.numel() for p in params),
                gradient_checkpointing=checkpointing, cudnn_attention=cudnn_attention, peak_gib=peak_gib(device),
                finite_loss=bool(torch.isfinite(loss).item()))


def main(argv=None) -> dict:
    args = parse_args(argv)
    device = torch.device(("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" else args.device)
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    shape = shapes(args.size)
    out = args.out or (str(Path(__file__).parent / "results" / "flux_full_scale.json") if args.size == "full" else None)
    record = dict(what=f"FluxTransformer2DModel ({args.size} size), random weights, {dtype}, a 1024 x 512 diptych "
                       f"({shape['grid'][0] * shape['grid'][1]} image + {shape['text_tokens']} text tokens)"
                  if args.size == "full" else "the miniature's Fill transformer shape (smoke run)",
                  device=torch.cuda.get_device_name() if device.type == "cuda" else "cpu",
                  cuda=torch.version.cuda, dtype=str(dtype))
    t = time.perf_counter()
    model = build(shape, device, dtype)
    record["build_s"] = round(time.perf_counter() - t, 1)
    record["transformer_params"] = sum(p.numel() for p in model.parameters())
    record["weights_gib"] = round(sum(p.numel() * p.element_size() for p in model.parameters()) / 2 ** 30, 2)
    print(f"built {record['transformer_params'] / 1e9:.2f}B parameters in {record['build_s']} s", flush=True)
    if not args.skip_inference:
        record["edit"] = time_denoising(model, shape, 1, args.steps, args.repeats, device, dtype)
        print("edit (batch 1):", record["edit"], flush=True)
        record["previews"] = time_denoising(model, shape, args.preview_batch, args.steps, 1, device, dtype)
        print(f"previews (batch {args.preview_batch}):", record["previews"], flush=True)
        record["preview_step_ratio"] = record["previews"]["per_step_s"] / record["edit"]["per_step_s"]
        if out:  # kept if a training step fails
            write_record(out, "flux_full_scale.py", argv, **record)
    record["training"] = {}
    for adapter in ("lora", "moe"):
        if adapter == "moe":  # a fresh base: the LoRA of the previous run is not part of the MoE model
            del model
            model = build(shape, device, dtype)
        record["training"][adapter] = time_training(model, shape, adapter, args.train_steps, device, dtype,
                                                   args.gradient_checkpointing, args.cudnn_attention)
        print(f"training step ({adapter}):", record["training"][adapter], flush=True)
    if out:
        write_record(out, "flux_full_scale.py", argv, **record)
    return record


if __name__ == "__main__":
    main()
