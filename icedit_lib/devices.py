"""Where models run: the device, the dtype, and offloading for GPUs smaller than the model.

One module for placement, so that loading (`registry`), judging (`judge`) and training agree on
what "auto" means: the GPU when there is one, bf16 on it (as the authors run FLUX), fp32 on a CPU.
"""
from __future__ import annotations

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
        return dtype
    if dtype in (None, "auto"):
        return torch.bfloat16 if device.startswith("cuda") else torch.float32
    table = {"float32": torch.float32, "fp32": torch.float32, "bfloat16": torch.bfloat16, "bf16": torch.bfloat16,
             "float16": torch.float16, "fp16": torch.float16}
    if dtype not in table:
        raise ValueError(f"unknown dtype {dtype!r}; use one of {sorted(table)}")
    return table[dtype]


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
