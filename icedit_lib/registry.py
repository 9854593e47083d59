"""Model names -> sources, and loading them with the stock diffusers classes.

One registry serves both scales: `mini` is the miniature shipped in `data/models/`,
the others are the hub models of the paper. Loading adapters onto a pipeline is `adapters.py`. Every entry can be pointed at a local
folder (`--base PATH`, or the entry's environment variable), which is also how the
tests load tiny random models saved in the real layouts. Nothing is downloaded
behind your back when offline: a missing model raises `ModelNotAvailable` naming
what to download and where to put it.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace
from pathlib import Path

import torch

from .devices import pick_device, pick_dtype, place, transformer_quantization

DATA_DIR = Path(os.environ.get("ICEDIT_DATA", Path(__file__).resolve().parent.parent / "data"))
MODELS_DIR = DATA_DIR / "models"
SETTINGS_FILE = "icedit.json"  # optional, in a model folder: panel_width, max_sequence_length, base, word_level_text
SETTINGS = ("panel_width", "max_sequence_length", "word_level_text")


class ModelNotAvailable(RuntimeError):
    """A registered model that is neither on disk nor downloadable now."""


@dataclass(frozen=True)
class Entry:
    name: str
    kind: str  # "fill" | "t2i" | "adapter" | "judge"
    source: str  # hub id, or a path relative to data/models
    about: str
    base: str | None = None  # adapters: the base model they were trained on
    subfolder: str | None = None  # t2i transformer inside a shared folder
    weight_name: str | None = None  # adapters: the safetensors file in the repo
    panel_width: int = 512  # working width of one diptych half
    max_sequence_length: int = 512  # T5 tokens
    word_level_text: bool = False  # the miniature's tokenizers: a word outside their vocabulary is spelled out
    size_note: str = ""

    @property
    def local(self) -> bool:
        return not looks_like_hub_id(self.source)

    @property
    def env_var(self) -> str:
        return "ICEDIT_MODEL_" + self.name.upper().replace("-", "_")


REGISTRY: dict[str, Entry] = {e.name: e for e in [
    Entry("mini", "fill", "mini", "miniature FLUX.1 Fill pretrained on ShapesWorld (this course)",
          panel_width=64, max_sequence_length=80, word_level_text=True),
    Entry("mini-t2i", "t2i", "mini", "miniature FLUX.1 [dev] text-to-image, same folder as `mini`",
          subfolder="transformer_t2i", panel_width=64, max_sequence_length=80, word_level_text=True),
    Entry("flux-fill-dev", "fill", "black-forest-labs/FLUX.1-Fill-dev", "FLUX.1 Fill [dev], 12B (gated: accept the "
          "licence on the hub first)",
          size_note="~34 GB download; ~34 GB of GPU memory in bf16, `--memory 24|16` for smaller cards"),
    Entry("flux-dev", "t2i", "black-forest-labs/FLUX.1-dev", "FLUX.1 [dev], 12B text-to-image (gated)",
          size_note="~34 GB download; ~34 GB of GPU memory in bf16, about 24 GB with `--offload model`"),
    Entry("icedit-lora", "adapter", "RiverZ/normal-lora", "the authors' ICEdit LoRA (rank 32)",
          base="flux-fill-dev", weight_name="pytorch_lora_weights.safetensors", size_note="~230 MB"),
    Entry("icedit-moe", "adapter", "sanaka87/ICEdit-MoE-LoRA", "the authors' ICEdit LoRA-MoE (4 experts)",
          base="flux-fill-dev", weight_name="ICEdit-MoE-LoRA.safetensors", size_note="~430 MB"),
    Entry("mini-lora", "adapter", "mini_lora", "LoRA fine-tuned on ShapesWorld edits over `mini` (this course)",
          base="mini"),
    Entry("mini-moe", "adapter", "mini_moe", "LoRA-MoE fine-tuned on ShapesWorld edits over `mini` (this course)",
          base="mini"),
    Entry("mini-judge", "judge", "mini_judge", "miniature judge trained on ShapesWorld candidates (this course)"),
    Entry("qwen2.5-vl-3b", "judge", "Qwen/Qwen2.5-VL-3B-Instruct", "Qwen2.5-VL 3B judge", size_note="~7.5 GB"),
    Entry("qwen2.5-vl-7b", "judge", "Qwen/Qwen2.5-VL-7B-Instruct", "Qwen2.5-VL 7B judge", size_note="~16 GB"),
    Entry("qwen2.5-vl-72b", "judge", "Qwen/Qwen2.5-VL-72B-Instruct", "Qwen2.5-VL 72B judge (the paper's; 4-bit "
          "fits one 80 GB GPU)", size_note="~145 GB in bf16"),
]}


# What `icedit edit --adapter default` means for each base: on the miniature the better shipped
# adapter, chosen by the fine-tuning comparison (results/fine_tuning); on FLUX.1 Fill [dev] the
# authors' ICEdit LoRA, which their inference script always loads (about 230 MB beside the 34 GB
# base): a user asking for ICEdit gets ICEdit, not plain FLUX Fill. `--adapter none` is the
# training-free model at both scales.
DEFAULT_ADAPTERS = {"mini": "mini-lora", "flux-fill-dev": "icedit-lora"}


def default_adapter(base: str) -> str:
    """The adapter `--adapter default` stands for on `base`: its registered default (a shipped
    miniature adapter only when it is on disk, else "none", the training-free model)."""
    name = DEFAULT_ADAPTERS.get(base, "none")
    if name == "none" or not REGISTRY[name].local:
        return name
    return name if available(name) else "none"


def looks_like_hub_id(source: str) -> bool:
    return source.count("/") == 1 and not source.startswith((".", "/", "~")) and not Path(source).exists()


def resolve(name_or_path: str, kind: str | None = None) -> tuple[Entry, str]:
    """(entry, location): a registry name (its env override first) or a local folder / hub id."""
    if name_or_path in REGISTRY:
        entry = REGISTRY[name_or_path]
        if kind and entry.kind != kind:
            raise ValueError(f"{name_or_path!r} is a {entry.kind} model, not a {kind} one")
        location = os.environ.get(entry.env_var) or (str(MODELS_DIR / entry.source) if entry.local else entry.source)
        settings = read_settings(location) if Path(location).is_dir() else {}
        if settings:  # a folder's own icedit.json wins over the registry's defaults
            entry = replace(entry, **{k: v for k, v in settings.items() if k in SETTINGS})
        return entry, location
    path = Path(name_or_path).expanduser()
    if path.exists():
        settings = read_settings(path)
        # a miniature folder keeps its T2I transformer beside the Fill one (`miniature.T2I_SUBFOLDER`)
        subfolder = "transformer_t2i" if kind == "t2i" and (path / "transformer_t2i").is_dir() else None
        entry = Entry(path.name, kind or "fill", str(path), f"local model {path}",
                      base=settings.get("base"), subfolder=subfolder,
                      **{k: v for k, v in settings.items() if k in SETTINGS})
        return entry, str(path)
    if looks_like_hub_id(name_or_path):
        return Entry(name_or_path, kind or "fill", name_or_path, f"hub model {name_or_path}"), name_or_path
    known = ", ".join(n for n, e in REGISTRY.items() if kind is None or e.kind == kind)
    raise ModelNotAvailable(f"unknown model {name_or_path!r}: not a registry name ({known}), "
                            "an existing folder, or a hub id (owner/name)")


def available(name: str) -> bool:
    """Whether a registry name can be used without downloading: a local model that is there
    (or overridden by its environment variable), or a hub model already in the local cache."""
    entry, location = resolve(name)
    if Path(location).exists():
        return True
    if entry.local:
        return False
    try:
        local_snapshot(entry, location, download=False)
        return True
    except ModelNotAvailable:
        return False


def read_settings(path: str | Path) -> dict:
    f = Path(path) / SETTINGS_FILE if Path(path).is_dir() else Path(path).parent / SETTINGS_FILE
    return json.loads(f.read_text()) if f.exists() else {}


def local_snapshot(entry: Entry, location: str, download: bool | None = None) -> str:
    """A local folder for `location`: itself if it is a folder, else the hub cache,
    downloading only when allowed (default: unless HF_HUB_OFFLINE is set)."""
    if Path(location).exists():
        return location
    if not looks_like_hub_id(location):
        raise ModelNotAvailable(f"{entry.name}: {location} does not exist. " + _how_to_get(entry))
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import GatedRepoError, LocalEntryNotFoundError

    if download is None:
        download = os.environ.get("HF_HUB_OFFLINE", "0") in ("0", "", "false", "False")
    try:
        return snapshot_download(location, local_files_only=True)
    except (LocalEntryNotFoundError, OSError):
        if not download:
            raise ModelNotAvailable(f"{entry.name} ({location}) is not in the local cache and downloads are off. "
                                    + _how_to_get(entry)) from None
    try:
        return snapshot_download(location)
    except GatedRepoError:
        raise ModelNotAvailable(f"{location} is gated: accept its licence at https://huggingface.co/{location} "
                                "and log in (`hf auth login`). " + _how_to_get(entry)) from None
    except Exception as e:  # network errors come in many types; the message is what matters
        raise ModelNotAvailable(f"could not download {location} ({type(e).__name__}). " + _how_to_get(entry)) from None


def model_folder(base: str, kind: str = "fill", download: bool | None = None) -> Path:
    """The local folder of a model (registry name, folder or hub id): where its parts are read from."""
    entry, location = resolve(base, kind=kind)
    return Path(local_snapshot(entry, location, download))


def _how_to_get(entry: Entry) -> str:
    size = f" ({entry.size_note})" if entry.size_note else ""
    if entry.local:
        return ("The miniature models ship with the repository in data/models/; re-clone it or "
                "retrain them (see data/models/README.md).")
    return (f"Download it{size} with `hf download {entry.source} --local-dir DIR`, then pass the folder "
            f"(--base DIR / --adapter DIR) or set {entry.env_var}=DIR.")


# --------------------------------------------------------------------------- pipelines
def load_fill_pipeline(base: str = "mini", device: str = "auto", dtype=None, offload: str = "none",
                       download: bool | None = None, quantize: str = "none"):
    """A FluxFillPipeline for `base` (registry name, folder or hub id), placed on a device; `quantize`
    loads its transformer through a diffusers quantization config (`devices.transformer_quantization`),
    computing in bf16."""
    from diffusers import FluxFillPipeline, FluxTransformer2DModel

    entry, location = resolve(base, kind="fill")
    device = pick_device(device)
    quantization = transformer_quantization(quantize, device)  # a recipe this machine cannot run fails first
    folder = local_snapshot(entry, location, download)
    torch_dtype = pick_dtype("bf16" if quantization is not None else dtype, device)
    try:
        parts = {}
        if quantization is not None:
            parts["transformer"] = FluxTransformer2DModel.from_pretrained(
                folder, subfolder="transformer", quantization_config=quantization, dtype=torch_dtype)
        pipe = FluxFillPipeline.from_pretrained(folder, dtype=torch_dtype, use_safetensors=True, **parts)
    except (OSError, ValueError, KeyError) as e:
        raise ModelNotAvailable(f"{folder} is not a FluxFillPipeline folder in the diffusers layout ({e})") from None
    pipe.set_progress_bar_config(disable=True)
    _eval_all(pipe)
    return place(pipe, device, offload), entry


def load_t2i_pipeline(base: str = "mini-t2i", device: str = "auto", dtype=None, offload: str = "none",
                      download: bool | None = None):
    """A FluxPipeline (text-to-image) for the inversion framework."""
    from diffusers import FluxPipeline, FluxTransformer2DModel

    entry, location = resolve(base, kind="t2i")
    folder = local_snapshot(entry, location, download)
    device = pick_device(device)
    torch_dtype = pick_dtype(dtype, device)
    try:
        if entry.subfolder:  # the miniature keeps the T2I transformer beside the Fill one
            transformer = FluxTransformer2DModel.from_pretrained(folder, subfolder=entry.subfolder,
                                                                 dtype=torch_dtype)
            pipe = FluxPipeline.from_pretrained(folder, transformer=transformer, dtype=torch_dtype)
        else:
            pipe = FluxPipeline.from_pretrained(folder, dtype=torch_dtype, use_safetensors=True)
    except (OSError, ValueError, KeyError) as e:
        raise ModelNotAvailable(f"{folder} is not a FluxPipeline folder in the diffusers layout ({e})") from None
    pipe.set_progress_bar_config(disable=True)
    _eval_all(pipe)
    return place(pipe, device, offload), entry


def _eval_all(pipe) -> None:
    """Models built from configs start in train mode (T5 dropout): inference wants eval."""
    for component in pipe.components.values():
        if isinstance(component, torch.nn.Module):
            component.eval()


# --------------------------------------------------------------------------- judges
def load_judge(name: str, device: str = "auto", dtype=None, load_in_4bit: bool = False,
               download: bool | None = None):
    """A pairwise judge for early-filter scaling: `mini-judge` (or a folder holding a miniature
    judge), or a Qwen2.5-VL registry name, folder or hub id."""
    from .judge import QwenVLJudge
    from .mini_judge import MiniJudge, is_mini_judge

    if name in REGISTRY and REGISTRY[name].kind != "judge":
        raise ValueError(f"{name!r} is a {REGISTRY[name].kind} model, not a judge")
    entry, location = resolve(name, kind="judge")
    if entry.local and not Path(location).exists():
        raise ModelNotAvailable(f"judge {name!r} is not in {location}: {_how_to_get(entry)}")
    if is_mini_judge(location):
        return MiniJudge.load(location, device=pick_device(device))
    return QwenVLJudge.from_pretrained(local_snapshot(entry, location, download), device=device, dtype=dtype,
                                       load_in_4bit=load_in_4bit)
