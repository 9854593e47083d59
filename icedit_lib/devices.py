"""Where and how models run: the device, the dtype, offloading, quantization and compilation.

One module for placement, so that loading (`registry`), judging (`judge`) and training agree on
what "auto" means: the GPU when there is one, bf16 on it (as the authors run FLUX), fp32 on a CPU.
"""
from __future__ import annotations

import dataclasses
import importlib.util
import warnings

import torch


def pick_device(device: str = "auto") -> str:
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError("--device cuda was asked for, but no CUDA GPU is visible")
    return device


def pick_dtype(dtype: str | torch.dtype | None, device: str) -> torch.dtype:
    """bf16 on GPU (as the authors), fp32 on CPU, unless told otherwise."""
    if isinstance(dtype, torch.dtype):
        chosen = dtype
    elif dtype in (None, "auto"):
        chosen = torch.bfloat16 if device.startswith("cuda") else torch.float32
    else:
        table = {"float32": torch.float32, "fp32": torch.float32, "bfloat16": torch.bfloat16, "bf16": torch.bfloat16,
                 "float16": torch.float16, "fp16": torch.float16}
        if dtype not in table:
            raise ValueError(f"unknown dtype {dtype!r}; use one of {sorted(table)}")
        chosen = table[dtype]
    if chosen == torch.bfloat16 and device.startswith("cuda") and torch.cuda.is_available() \
            and torch.cuda.get_device_capability(device) < (8, 0):
        warnings.warn("this GPU (compute capability < 8.0: a T4, a V100) has no bf16 arithmetic; PyTorch emulates it, "
                      "slowly. FLUX in fp16 gives black or NaN images, so bf16 it stays", stacklevel=2)
    return chosen


OFFLOAD_MODES = ("none", "model", "sequential", "group")


def place(pipe, device: str, offload: str = "none"):
    """Move to `device`, or offload to fit a 24 GB card: `model` (whole models move to
    the GPU in turn), `sequential` (layer by layer, slowest, least memory), `group`
    (transformer blocks stream in groups)."""
    if offload not in OFFLOAD_MODES:
        raise ValueError(f"offload must be one of {OFFLOAD_MODES}, got {offload!r}")
    if offload == "none":
        return pipe.to(device)
    if not device.startswith("cuda"):
        raise ValueError(f"--offload {offload} moves weights between CPU and GPU; it needs --device cuda")
    if offload == "model":
        pipe.enable_model_cpu_offload(device=device)
    elif offload == "sequential":
        pipe.enable_sequential_cpu_offload(device=device)
    else:
        pipe.transformer.enable_group_offload(onload_device=torch.device(device), offload_type="block_level",
                                              num_blocks_per_group=1)
        for name in ("vae", "text_encoder", "text_encoder_2"):
            getattr(pipe, name).to(device)
    return pipe


# --------------------------------------------------------------------------- quantization
QUANTIZE_MODES = ("none", "fp8", "fp8-weight", "nf4")


def transformer_quantization(mode: str, device: str = "cuda"):
    """diffusers' quantization config for the transformer, through the stock libraries:

    - `fp8`: torchao float8 weights and dynamically quantized float8 activations (row-wise scales):
      float8 matrix products, the fast recipe on Hopper / Ada GPUs (CUDA compute capability >= 8.9);
    - `fp8-weight`: torchao float8 weights, bf16 compute: half the weight memory on any device;
    - `nf4`: bitsandbytes 4-bit NormalFloat weights, bf16 compute (a quarter of the memory, slower steps);
      needs a CUDA GPU and `pip install bitsandbytes`.
    None for `none`. FLUX in fp16 gives black or NaN images, so every mode computes in bf16."""
    if mode not in QUANTIZE_MODES:
        raise ValueError(f"--quantize must be one of {QUANTIZE_MODES}, got {mode!r}")
    if mode == "none":
        return None
    if mode == "nf4":
        if not device.startswith("cuda"):
            raise ValueError("--quantize nf4 (bitsandbytes) needs a CUDA GPU; on a CPU use fp8-weight or none")
        if importlib.util.find_spec("bitsandbytes") is None:
            raise ValueError("--quantize nf4 needs bitsandbytes: pip install bitsandbytes")
        from diffusers import BitsAndBytesConfig

        return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=torch.bfloat16)
    if importlib.util.find_spec("torchao") is None:
        raise ValueError(f"--quantize {mode} needs torchao: pip install torchao")
    from diffusers import TorchAoConfig
    from torchao.quantization import Float8DynamicActivationFloat8WeightConfig, Float8WeightOnlyConfig, PerRow

    if mode == "fp8":
        if not float8_compute(device):
            raise ValueError("--quantize fp8 computes in float8: it needs a CUDA GPU of compute capability 8.9 or "
                             "more (Ada, Hopper); elsewhere use fp8-weight (float8 weights, bf16 compute)")
        return TorchAoConfig(Float8DynamicActivationFloat8WeightConfig(granularity=PerRow()))
    return TorchAoConfig(Float8WeightOnlyConfig())


# --------------------------------------------------------------------------- memory presets
@dataclasses.dataclass(frozen=True)
class MemoryPreset:
    """What to ask for on a GPU of `gib` GiB, for FLUX.1 Fill [dev] (12B transformer, 4.7B T5) at 1024 x 512."""
    gib: int
    quantize: str
    offload: str
    compile: bool
    why: str


MEMORY_PRESETS = {
    80: MemoryPreset(80, "none", "none", True,
                     "everything on the GPU in bf16 (transformer 24 GB, T5 9.5 GB), compiled: the fastest"),
    24: MemoryPreset(24, "fp8", "model", False,
                     "float8 transformer (12 GB) and whole-model offload: the T5 comes to the GPU only to "
                     "encode the prompt, then leaves room for the transformer (before Ada / Hopper GPUs: float8 "
                     "weights, bf16 compute)"),
    16: MemoryPreset(16, "nf4", "model", False,
                     "4-bit NormalFloat transformer (about 7 GB) and whole-model offload"),
}


def float8_compute(device: str) -> bool:
    """Whether `device` multiplies float8 matrices: a CUDA GPU of compute capability 8.9 or more (Ada, Hopper)."""
    return device.startswith("cuda") and torch.cuda.is_available() and torch.cuda.get_device_capability(device) >= (8, 9)


def memory_preset(gib: int, device: str = "cuda") -> MemoryPreset:
    """The preset for a card of `gib` GiB. On a GPU without float8 matrix products (an A10G, an RTX 3090 or an
    A100 among those with 24 GB or more), the 24 GB preset keeps its float8 weights but computes in bf16
    (`fp8-weight`): the same memory, without float8's speed-up, where `--quantize fp8` would stop with an error."""
    if gib not in MEMORY_PRESETS:
        raise ValueError(f"--memory must be one of {sorted(MEMORY_PRESETS)} (GiB of GPU memory), got {gib}")
    preset = MEMORY_PRESETS[gib]
    if preset.quantize == "fp8" and not float8_compute(device):
        preset = dataclasses.replace(preset, quantize="fp8-weight")
    return preset


def compile_transformer(transformer, device: str, cpu_options: dict | None = None) -> None:
    """torch.compile for the denoising loop. On CUDA, regional compilation (`compile_repeated_blocks`:
    one FLUX block of each kind is compiled and reused by the others, seconds instead of a minute)
    with a dynamic sequence length, since the diptych's height follows the image's aspect. On a CPU,
    the whole miniature transformer with `cpu_options` (its per-op overhead is what compilation saves)."""
    if device.startswith("cuda"):  # not fullgraph: a LoRA-MoE's per-token routing breaks the graph, by design
        # Duck shaping gives a size equal to a width of the model that width's symbol, and so specialises it: the
        # 1024 x 768 diptych's 3072 image tokens are FLUX.1's inner width, the miniature's 128 x 64 diptych's 128
        # tokens its own, and the next aspect recompiled every block. Without it one compilation serves every aspect
        # (a process-wide setting of torch's symbolic shapes; `tests/test_recipes.py` checks it).
        from torch.fx.experimental import _config as symbolic_shapes_config

        symbolic_shapes_config.use_duck_shape = False
        transformer.compile_repeated_blocks(fullgraph=False, dynamic=True)
    else:
        transformer.compile(dynamic=False, options=cpu_options)
