"""Adapters (LoRA, LoRA-MoE) by registry name, folder or file: found, checked against the base, loaded.

`load_adapter` refuses an adapter made for another base model (`check_adapter_fits`) before touching the
pipeline, loads a plain LoRA with diffusers' stock `load_lora_weights` (optionally fused into the weights) and a
LoRA-MoE through `lora_moe.load_lora_moe`; the names themselves live in `registry`.
"""
from __future__ import annotations

import json
from pathlib import Path

import torch

from .registry import REGISTRY, Entry, local_snapshot, looks_like_hub_id, resolve


class AdapterError(ValueError):
    """An adapter that is unknown, unreadable, or made for another base model."""


def adapter_file(adapter: str, download: bool | None = None) -> tuple[Entry, Path]:
    """(entry, safetensors file) of an adapter given by registry name, folder or file."""
    if adapter in REGISTRY and REGISTRY[adapter].kind != "adapter":
        raise AdapterError(f"{adapter!r} is a base model, not an adapter")
    if adapter not in REGISTRY and not Path(adapter).expanduser().exists() and not looks_like_hub_id(adapter):
        known = ", ".join(n for n, e in REGISTRY.items() if e.kind == "adapter")
        raise AdapterError(f"unknown adapter {adapter!r}: not a registry name (none, {known}), a folder or a file")
    entry, location = resolve(adapter, kind="adapter")
    path = Path(location).expanduser()
    if path.is_file():
        return entry, path
    folder = Path(local_snapshot(entry, location, download))
    files = [folder / entry.weight_name] if entry.weight_name else sorted(folder.glob("*.safetensors"))
    files = [f for f in files if f.exists()]
    if not files:
        raise AdapterError(f"no .safetensors adapter weights in {folder}")
    return entry, files[0]


def check_adapter_fits(transformer, weights: Path, adapter_name: str, base_name: str,
                       text_encoder: torch.nn.Module | None = None) -> None:
    """Refuse an adapter made for another base: every LoRA matrix must name a Linear of the
    transformer (or, for `text_encoder.` keys, of the CLIP encoder) with matching in/out features."""
    from safetensors import safe_open

    try:
        with safe_open(str(weights), "pt") as f:
            shapes = {k: f.get_slice(k).get_shape() for k in f.keys()}
            moe_config = json.loads((f.metadata() or {}).get("icedit_lora_moe", "{}"))
    except Exception as e:
        raise AdapterError(f"cannot read adapter {weights}: {e}") from None
    # an instruction-routed LoRA-MoE's router reads the pooled text embedding, not the layer's input
    route_features = transformer.config.pooled_projection_dim \
        if moe_config.get("router_input") == "instruction" else None
    modules = dict(transformer.named_modules())
    encoder_modules = dict(text_encoder.named_modules()) if text_encoder is not None else {}
    for key, shape in shapes.items():
        for part, dim in ((".lora_A.", 1), (".lora_B.", 0), (".lora_route.", 1)):
            if part not in key:
                continue
            module_name = key.split(part)[0]
            if module_name.startswith("text_encoder."):  # an adapted CLIP encoder (train --text-encoder-rank)
                module = encoder_modules.get(module_name.removeprefix("text_encoder."))
            else:
                module_name = module_name.removeprefix("transformer.")
                module = modules.get(module_name)
            module = getattr(module, "base", module)  # a LoRA-MoE layer already in place wraps the Linear
            if module is None:
                raise AdapterError(f"adapter {adapter_name} does not fit base {base_name}: it targets "
                                   f"{module_name!r}, which this model does not have")
            want = module.in_features if dim == 1 else module.out_features
            if part == ".lora_route." and route_features:
                want = route_features
            if shape[dim] != want:
                raise AdapterError(f"adapter {adapter_name} does not fit base {base_name}: {module_name} has "
                                   f"{want} features, the adapter expects {shape[dim]} (made for another base model?)")


def is_lora_moe(weights: Path) -> bool:
    from safetensors import safe_open

    from .lora_moe import MOE_KEY_MARKERS

    with safe_open(str(weights), "pt") as f:
        return any(marker in k for k in f.keys() for marker in MOE_KEY_MARKERS)


def load_adapter(pipe, adapter: str, base_name: str, download: bool | None = None, scale: float = 1.0,
                 fuse: bool = False) -> str:
    """Load a LoRA with the stock `load_lora_weights` after checking that it fits; a LoRA-MoE
    file (the course's or the authors') goes through `lora_moe.load_lora_moe`.

    `fuse=True` merges a plain LoRA into the base weights (`fuse_lora`, then `unload_lora_weights`):
    the same edits with no per-step LoRA cost (at the miniature's size the unfused layers add about
    30% to an edit: benchmarks/adapter_fusion.py), but the scale can no longer change. A LoRA-MoE is never fused: its router
    picks an expert per token."""
    entry, weights = adapter_file(adapter, download)
    check_adapter_fits(pipe.transformer, weights, adapter, base_name, getattr(pipe, "text_encoder", None))
    name = entry.name.replace(".", "_").replace("-", "_")
    moe = is_lora_moe(weights)
    if moe:
        from .lora_moe import load_lora_moe

        load_lora_moe(pipe, weights, adapter_name=name)
    else:
        pipe.load_lora_weights(str(weights.parent), weight_name=weights.name, adapter_name=name)
    for folder in TEXT_ENCODER_ADAPTER_FOLDERS:  # adapted encoders (train --text-encoder-rank)
        if (weights.parent / folder).is_dir():
            getattr(pipe, folder).load_adapter(str(weights.parent / folder), adapter_name=name)
    if not moe:
        set_adapter_scale(pipe, name, scale)
        if fuse:  # an encoder adapter from a folder, run once per edit, stays unfused
            # both components: the default fuses the transformer only, and unloading would drop CLIP's adapter
            pipe.fuse_lora(components=["transformer", "text_encoder"], adapter_names=[name], lora_scale=1.0)
            pipe.unload_lora_weights()
    return name


def set_adapter_scale(pipe, name: str, scale: float) -> None:
    """A plain LoRA's strength wherever it acts: the transformer and CLIP (diffusers' `set_adapters`)
    and an adapted T5, which diffusers' Flux LoRA support does not know (peft's `set_scale`)."""
    from peft.tuners.lora import LoraLayer

    pipe.set_adapters([name], adapter_weights=[scale])
    for module in pipe.text_encoder_2.modules():
        if isinstance(module, LoraLayer) and name in module.scaling:
            module.set_scale(name, scale)


# Beside an adapter's weights, the folders of its text encoders' adapters, in transformers' adapter
# format: T5 always (diffusers' Flux LoRA format carries the transformer and CLIP only), CLIP for a
# LoRA-MoE (a plain LoRA keeps CLIP's in the stock file).
TEXT_ENCODER_ADAPTER_FOLDERS = ("text_encoder", "text_encoder_2")
