"""The full-scale edit's recipes side by side (issue 31): eager and compiled bf16, float8, 4-bit, and the
memory presets for 80, 24 and 16 GB cards. Writes benchmarks/results/flux_recipes.json and a table.

    python benchmarks/flux_recipes.py                        # full size: an H200 / H100 (about 7 minutes)
    python benchmarks/flux_recipes.py --size mini --device cpu # the miniature's shape: a smoke run

Transformer recipes (`--recipes`), each on the same random weights of FLUX.1 Fill [dev]'s shape and the same
inputs, for the paper's 1024 x 512 diptych and a 1024 x 768 one (two 512 x 768 panels):
- `bf16`: eager bf16, the reference;
- `bf16-compiled`: `devices.compile_transformer` (regional compilation, dynamic sequence length);
- `fp8`, `fp8-compiled`: torchao float8 weights and activations (Ada / Hopper);
- `fp8-weight`: torchao float8 weights, bf16 compute (memory only);
- `nf4`: bitsandbytes 4-bit NormalFloat weights (loaded through diffusers from a saved checkpoint).
For each: the median time of a denoising step, a 28-step edit, the first call's extra time (compilation),
the peak memory, and for the lossy recipes the relative error ||pred - ref|| / ||ref|| of the step's
prediction against bf16 eager at several timesteps. A recipe this machine cannot run is recorded with the
reason (on a CPU: everything float8-compute and 4-bit).

Memory presets (`--presets`): the whole FluxFillPipeline (random weights; T5-XXL, CLIP-L, VAE and the
transformer at their real sizes) with a LoRA of the authors' shape (rank 32 on their targets, 116M parameters),
loaded and placed as `icedit edit --memory N` does (the LoRA fused into bf16 weights, wrapped around quantized
ones), one 28-step edit of a 512 x 512 image (the 1024 x 512 diptych): peak GPU memory and time per edit. A preset
whose adapter will not load is measured without it, and the adapter's error recorded.
"""
import argparse
import gc
import tempfile
import time
from pathlib import Path

import torch
from diffusers import FluxTransformer2DModel
from flux_full_scale import FLUX_FILL_DEV, build, make_inputs, peak_gib, reset_peak, sync
from record import timing_summary, write_record

from icedit_lib import devices
from icedit_lib import miniature as mini

RECIPES = ("bf16", "bf16-compiled", "fp8", "fp8-compiled", "fp8-weight", "nf4")
TIMESTEPS = (0.9, 0.5, 0.1)  # where each lossy recipe's prediction is compared with bf16 eager


def grids(size: str) -> dict:
    """Token grids (h, w) of the two diptychs: 1024 x 512 and 1024 x 768 at 16 px a token (miniature: 8 px)."""
    if size == "full":
        return {"1024x512": (32, 64), "1024x768": (48, 64)}
    return {"128x64": (8, 16), "128x96": (12, 16)}


def shape_of(size: str, grid) -> dict:
    config = FLUX_FILL_DEV if size == "full" else mini.transformer_config(fill=True)
    return dict(config=config, grid=grid, text_tokens=512 if size == "full" else mini.T5_MAX_LENGTH)


def load_quantized(folder: Path, mode: str, config, device) -> FluxTransformer2DModel:
    """The reference's weights (saved in `folder`) under a quantization config (diffusers', as the editor loads)."""
    model = FluxTransformer2DModel.from_pretrained(folder, quantization_config=config, dtype=torch.bfloat16)
    return (model if mode == "nf4" else model.to(device)).eval().requires_grad_(False)


def time_steps(model, inputs: dict, steps: int, repeats: int, device) -> tuple[dict, float]:
    """(timing of `steps` forward passes, seconds of the first call beyond a steady step)."""
    with torch.inference_mode():
        sync(device)
        t = time.perf_counter()
        model(**inputs)
        sync(device)
        first = time.perf_counter() - t
        times = []
        for _ in range(repeats):
            sync(device)
            t = time.perf_counter()
            for _ in range(steps):
                model(**inputs)
            sync(device)
            times.append(time.perf_counter() - t)
    summary = timing_summary(times)
    return summary, max(0.0, first - summary["median_s"] / steps)


def predictions(model, inputs: dict) -> list[torch.Tensor]:
    """The step's prediction at each of `TIMESTEPS`, on the same inputs."""
    with torch.inference_mode():
        return [model(**dict(inputs, timestep=torch.full_like(inputs["timestep"], t)))[0].float()
                for t in TIMESTEPS]


def run_recipes(args, device, dtype, tmp: Path, save=lambda results: None) -> dict:
    """Each recipe in turn, bf16 first: the reference then goes to disk and leaves the GPU, so each quantized
    recipe's peak memory is its own; a quantized model is kept for its compiled recipe. `save(results)` after each
    recipe, so a time-boxed run keeps what it measured."""
    torch.manual_seed(0)
    first_grid = next(iter(grids(args.size).values()))
    reference = build(shape_of(args.size, first_grid), device, dtype)
    inputs = {name: make_inputs(shape_of(args.size, grid), 1, device, dtype) for name, grid in grids(args.size).items()}
    eager = {name: predictions(reference, x) for name, x in inputs.items()}  # bf16 eager: what lossy recipes approximate
    recipes = sorted(args.recipes, key=RECIPES.index)
    results, kept, model = {}, {}, None
    for i, recipe in enumerate(recipes):
        mode = recipe.replace("-compiled", "")
        try:
            if recipe.startswith("bf16"):
                model = reference
            else:
                config = devices.transformer_quantization(mode, device.type)  # raises with the reason here
                if reference is not None:  # the bf16 recipes are done: the weights to disk, the GPU freed
                    reference.save_pretrained(tmp / "reference")
                    model = reference = None
                    gc.collect()
                    reset_peak(device)
                model = kept.pop(mode) if mode in kept else load_quantized(tmp / "reference", mode, config, device)
            if recipe.endswith("-compiled"):
                torch._dynamo.reset()
                devices.compile_transformer(model, device.type)
        except (ValueError, RuntimeError, ImportError) as e:
            results[recipe] = {"skipped": f"{type(e).__name__}: {e}"}
            print(f"{recipe}: skipped ({e})", flush=True)
            continue
        results[recipe] = {}
        for name, x in inputs.items():
            reset_peak(device)
            timing, compile_s = time_steps(model, x, args.steps, args.repeats, device)
            row = dict(per_step_s=timing["median_s"] / args.steps, edit_s=timing["median_s"],
                       first_call_extra_s=round(compile_s, 2), peak_gib=peak_gib(device))
            if recipe != "bf16":
                row["relative_error"] = [round(((got - ref).norm() / ref.norm()).item(), 5)
                                         for got, ref in zip(predictions(model, x), eager[name])]
            results[recipe][name] = row
            print(f"{recipe} {name}: {row}", flush=True)
        save(results)
        if model is reference:
            for module in reference.modules():  # back to eager for the recipes after a compiled one
                module._compiled_call_impl = None
        elif not recipe.endswith("-compiled") and f"{mode}-compiled" in recipes[i + 1:]:
            kept[mode] = model
        model = None
        gc.collect()
    return results


def run_presets(args, device, save=lambda presets: None) -> dict:
    """Whole pipelines as `icedit edit --memory N` loads and places them, random weights of the real sizes."""
    from PIL import Image

    from icedit_lib.editor import ICEditor

    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder, lora = random_fill_pipeline(args.size, Path(tmp), device)
        gc.collect()  # its models leave the GPU: each preset loads from the folder
        source = Image.new("RGB", (512, 512) if args.size == "full" else (64, 64), "white")
        for gib in args.presets:
            preset = devices.memory_preset(gib, device.type)  # as `icedit edit --memory` picks it here
            row = dict(quantize=preset.quantize, offload=preset.offload, compile=preset.compile)
            for adapter in (str(lora), "none"):  # without the adapter only where it will not load
                try:
                    reset_peak(device)
                    editor = ICEditor.from_registry(str(folder), adapter=adapter, device=device.type,
                                                    offload=preset.offload, quantize=preset.quantize,
                                                    compile=preset.compile, fuse_adapter=True)  # as `icedit edit`
                except (ValueError, RuntimeError, ImportError, TypeError) as e:
                    row["skipped" if adapter == "none" else "adapter_error"] = f"{type(e).__name__}: {e}"
                    continue
                try:
                    editor.edit(source, "make it red", steps=2)  # warm-up (and compilation)
                    sync(device)
                    t = time.perf_counter()
                    editor.edit(source, "make it red", steps=args.steps)
                    sync(device)
                    row.update(adapter="LoRA rank 32" if adapter != "none" else "none",
                               edit_s=round(time.perf_counter() - t, 2), peak_gib=peak_gib(device))
                except (ValueError, RuntimeError) as e:
                    row["skipped"] = f"{type(e).__name__}: {e}"
                del editor
                gc.collect()
                break
            if "skipped" in row and row.get("adapter_error") == row["skipped"]:  # the preset cannot run here
                del row["adapter_error"]
            out[str(gib)] = row
            print(f"preset {gib} GB: {row}", flush=True)
            save(out)  # after each preset: a time-boxed run keeps what it measured
    return out


def random_lora(transformer, folder: Path) -> Path:
    """A LoRA of the authors' shape on `transformer` (`train.add_adapter`: rank 32 on their target modules; random
    weights), saved in diffusers' LoRA layout as ICEdit's own is, then taken off the transformer again."""
    from diffusers import FluxFillPipeline
    from peft.utils import get_peft_model_state_dict

    from icedit_lib import train

    train.add_adapter(transformer, train.parse_args(["--output-dir", "unused", "--adapter", "lora"]))
    FluxFillPipeline.save_lora_weights(folder, transformer_lora_layers=get_peft_model_state_dict(transformer))
    transformer.delete_adapters("default")
    return folder


def random_fill_pipeline(size: str, tmp: Path, device=torch.device("cpu")) -> tuple[Path, Path]:
    """(pipeline folder, LoRA folder): a FluxFillPipeline with random weights, the real FLUX.1 Fill [dev]
    component sizes (`full`, 34 GB: made on `device`, where random initialisation is fast, then written to disk)
    or the miniature's (`mini`), and a LoRA of the authors' shape for it."""
    folder = tmp / "pipe"
    if size == "mini":
        pipe = mini.build_fill_pipeline()
        mini.save_miniature(folder, pipe)
        return folder, random_lora(pipe.transformer, tmp / "lora")
    from diffusers import AutoencoderKL, FluxFillPipeline
    from transformers import CLIPTextConfig, CLIPTextModel, T5Config, T5EncoderModel

    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.bfloat16)
    try:
        with torch.device(device):
            clip = CLIPTextModel(CLIPTextConfig(hidden_size=768, intermediate_size=3072, num_hidden_layers=12,
                                                num_attention_heads=12, projection_dim=768))
            t5 = T5EncoderModel(T5Config(vocab_size=32128, d_model=4096, d_kv=64, d_ff=10240, num_layers=24,
                                         num_heads=64, feed_forward_proj="gated-gelu", is_encoder_decoder=False))
            vae = AutoencoderKL(in_channels=3, out_channels=3, latent_channels=16,
                                block_out_channels=(128, 256, 512, 512), down_block_types=("DownEncoderBlock2D",) * 4,
                                up_block_types=("UpDecoderBlock2D",) * 4, layers_per_block=2, scaling_factor=0.3611,
                                shift_factor=0.1159)
            transformer = FluxTransformer2DModel(**FLUX_FILL_DEV)
    finally:
        torch.set_default_dtype(default)
    FluxFillPipeline(scheduler=mini.build_scheduler(), vae=vae, text_encoder=clip,
                     tokenizer=mini.build_tokenizer("clip"), text_encoder_2=t5, tokenizer_2=mini.build_tokenizer("t5"),
                     transformer=transformer).save_pretrained(folder)
    return folder, random_lora(transformer, tmp / "lora")


def table(record: dict) -> str:
    lines = ["| recipe | diptych | step (ms) | 28-step edit (s) | first call extra (s) | peak GiB | rel. error |",
             "|---|---|---|---|---|---|---|"]
    for recipe, rows in record["recipes"].items():
        if "skipped" in rows:
            lines.append(f"| {recipe} | | skipped: {rows['skipped'][:80]} | | | | |")
            continue
        for name, r in rows.items():
            err = ", ".join(f"{e:.3g}" for e in r.get("relative_error", [])) or "reference"
            lines.append(f"| {recipe} | {name} | {1000 * r['per_step_s']:.1f} | {r['edit_s']:.2f} | "
                         f"{r['first_call_extra_s']:.1f} | {r['peak_gib']} | {err} |")
    for gib, r in record.get("presets", {}).items():
        note = r.get("skipped", "")[:80] or f"adapter: {r.get('adapter')}" + (
            f" ({r['adapter_error'][:60]})" if "adapter_error" in r else "")
        lines.append(f"| --memory {gib} | whole pipeline | | {r.get('edit_s', '')} | | {r.get('peak_gib', '')} | "
                     f"{note} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--size", choices=("full", "mini"), default="full")
    p.add_argument("--device", default="auto")
    p.add_argument("--recipes", nargs="*", default=list(RECIPES), choices=RECIPES)
    p.add_argument("--presets", nargs="*", type=int, default=[80, 24, 16])
    p.add_argument("--steps", type=int, default=28)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--out", default=None, help="default benchmarks/results/flux_recipes.json, or flux_presets.json when "
                   "no recipe is measured (mini: not written)")
    args = p.parse_args(argv)
    device = torch.device(devices.pick_device(args.device))
    dtype = torch.bfloat16  # every recipe computes in bf16 (FLUX in fp16 gives black or NaN images)
    name = "flux_recipes.json" if args.recipes else "flux_presets.json"  # what `icedit_lib.report` reads
    out = args.out or (str(Path(__file__).parent / "results" / name) if args.size == "full" else None)
    record = dict(size=args.size, device=torch.cuda.get_device_name() if device.type == "cuda" else "cpu",
                  cuda=torch.version.cuda, timesteps_compared=TIMESTEPS)
    def saver(part: str):
        return (lambda got: write_record(out, "flux_recipes.py", argv, **dict(record, **{part: got}))) if out \
            else (lambda got: None)

    with tempfile.TemporaryDirectory() as tmp:
        record["recipes"] = run_recipes(args, device, dtype, Path(tmp), saver("recipes")) if args.recipes else {}
    if args.presets:
        gc.collect()
        record["presets"] = run_presets(args, device, saver("presets"))
    record["table"] = table(record)
    print(record["table"])
    if out:
        write_record(out, "flux_recipes.py", argv, **record)
        Path(out).with_suffix(".md").write_text(record["table"])
    return record


if __name__ == "__main__":
    main()
