"""The paper's automatic metrics (Tables 1-2): CLIP-I, CLIP-out, DINO and L1, with stock models.

- CLIP-I: the cosine between CLIP image embeddings of the edited image and a reference: the
  source on Emu Edit (no ground truth there: it rewards keeping the image), the ground truth
  on MagicBrush.
- CLIP-out (also CLIP-T): the cosine between the edited image's CLIP embedding and the output
  caption's text embedding (Emu Edit: does the result show what was asked?).
- DINO: the cosine between DINO ViT-S/16 [CLS] embeddings, a structure-sensitive CLIP-I.
- L1: the mean absolute difference of pixels in [0, 1], both images resized to one stated
  resolution (`L1_SIZE`), against the ground truth (MagicBrush).

Every scorer names its model by hub id or local folder; offline, a missing model is one clear
error naming the download. The protocol is ambiguous in the literature, and this module is a
reconstruction, not the authors' code (they released none): asked about it, the authors named
CLIP ViT-L/14 and said they "closely follow UltraEdit", whose code (like MagicBrush's) uses
ViT-B/32 and DINO ViT-S/16. The two CLIPs give different numbers for the same images, so a
table must say which it used (`Protocol.describe`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image
from tqdm.auto import tqdm

from .devices import pick_device

CLIP_MODELS = {"vit-l-14": "openai/clip-vit-large-patch14", "vit-b-32": "openai/clip-vit-base-patch32"}
DINO_MODEL = "facebook/dino-vits16"
L1_SIZE = (512, 512)  # (width, height) at which L1 compares images (MagicBrush's test images are 512 x 512)


class MetricModelNotAvailable(RuntimeError):
    """A metric's model is neither a local folder nor in the local cache (offline)."""


def _from_pretrained(cls, name_or_path: str, what: str):
    try:
        return cls.from_pretrained(name_or_path)
    except OSError as e:
        raise MetricModelNotAvailable(
            f"the {what} model {name_or_path!r} is not available here ({type(e).__name__}). Download it with "
            f"`hf download {name_or_path} --local-dir DIR` and pass DIR instead") from None


def _batches(items: list, batch_size: int, desc: str):
    starts = range(0, len(items), batch_size)
    for start in tqdm(starts, desc=desc, unit="batch", disable=len(starts) < 4, leave=False):
        yield items[start:start + batch_size]


def _rgb(images) -> list[Image.Image]:
    return [im.convert("RGB") for im in images]


def _projected(output) -> torch.Tensor:
    """CLIP's projected embedding: transformers 5 returns it as the output's `pooler_output`, 4 as a tensor."""
    return (output if isinstance(output, torch.Tensor) else output.pooler_output).float().cpu()


def cosine(a: torch.Tensor, b: torch.Tensor) -> list[float]:
    """Row-wise cosine similarity of two [N, D] tensors, as plain floats (fp64 arithmetic)."""
    a, b = a.double(), b.double()
    return (torch.nn.functional.normalize(a, dim=-1) * torch.nn.functional.normalize(b, dim=-1)).sum(-1).tolist()


class ClipScorer:
    """CLIP-I and CLIP-out with a stock `CLIPModel` and its processor (hub id or local folder)."""

    def __init__(self, name_or_path: str = CLIP_MODELS["vit-l-14"], device: str = "auto", batch_size: int = 32):
        from transformers import AutoProcessor, CLIPModel

        self.name = name_or_path
        self.device = pick_device(device)
        self.model = _from_pretrained(CLIPModel, name_or_path, "CLIP").to(self.device).eval()
        self.processor = _from_pretrained(AutoProcessor, name_or_path, "CLIP")
        self.batch_size = batch_size

    @torch.no_grad()
    def image_features(self, images: list[Image.Image]) -> torch.Tensor:
        out = []
        for chunk in _batches(_rgb(images), self.batch_size, "CLIP images"):
            pixels = self.processor(images=chunk, return_tensors="pt")["pixel_values"].to(self.device)
            out.append(_projected(self.model.get_image_features(pixel_values=pixels)))
        return torch.cat(out)

    @torch.no_grad()
    def text_features(self, texts: list[str]) -> torch.Tensor:
        out = []
        for chunk in _batches(list(texts), self.batch_size, "CLIP texts"):
            tokens = self.processor(text=chunk, return_tensors="pt", padding=True, truncation=True)
            tokens = {k: v.to(self.device) for k, v in tokens.items() if k in ("input_ids", "attention_mask")}
            out.append(_projected(self.model.get_text_features(**tokens)))
        return torch.cat(out)

    def clip_i(self, edited: list[Image.Image], reference: list[Image.Image]) -> list[float]:
        """Per pair: cosine of the image embeddings (reference: source on Emu Edit, ground truth on MagicBrush)."""
        _check_pairs(edited, reference)
        return cosine(self.image_features(edited), self.image_features(reference))

    def clip_out(self, edited: list[Image.Image], captions: list[str]) -> list[float]:
        """Per pair: cosine of the edited image's embedding and its output caption's (CLIP-T)."""
        _check_pairs(edited, captions)
        return cosine(self.image_features(edited), self.text_features(captions))


class DinoScorer:
    """DINO: cosine of the [CLS] embeddings of a stock ViT (`facebook/dino-vits16` by default)."""

    def __init__(self, name_or_path: str = DINO_MODEL, device: str = "auto", batch_size: int = 32):
        from transformers import AutoImageProcessor, AutoModel

        self.name = name_or_path
        self.device = pick_device(device)
        self.model = _from_pretrained(AutoModel, name_or_path, "DINO").to(self.device).eval()
        self.processor = _from_pretrained(AutoImageProcessor, name_or_path, "DINO")
        self.batch_size = batch_size

    @torch.no_grad()
    def features(self, images: list[Image.Image]) -> torch.Tensor:
        out = []
        for chunk in _batches(_rgb(images), self.batch_size, "DINO"):
            pixels = self.processor(images=chunk, return_tensors="pt")["pixel_values"].to(self.device)
            out.append(self.model(pixel_values=pixels).last_hidden_state[:, 0].float().cpu())
        return torch.cat(out)

    def dino(self, edited: list[Image.Image], reference: list[Image.Image]) -> list[float]:
        _check_pairs(edited, reference)
        return cosine(self.features(edited), self.features(reference))


def l1_distance(edited: Image.Image, reference: Image.Image, size: tuple[int, int] | None = L1_SIZE) -> float:
    """Mean absolute difference of RGB pixels in [0, 1], both images resized (bicubic) to `size`
    first (None: compared as they are, which needs equal sizes)."""
    a, b = edited.convert("RGB"), reference.convert("RGB")
    if size is not None:
        a, b = a.resize(size, Image.BICUBIC), b.resize(size, Image.BICUBIC)
    if a.size != b.size:
        raise ValueError(f"L1 compares images of one size: {a.size} vs {b.size} (give a size to resize to)")
    return float(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64)).mean() / 255.0)


def _check_pairs(a: list, b: list) -> None:
    if len(a) != len(b):
        raise ValueError(f"pairs of unequal length: {len(a)} edited vs {len(b)} references")


@dataclass
class Protocol:
    """What a table's numbers mean: which models, and what each metric compares against."""
    clip: str
    dino: str
    l1_size: tuple[int, int] | None
    reference: str  # "source" (Emu Edit) or "ground truth" (MagicBrush)

    def describe(self) -> str:
        size = "native size" if self.l1_size is None else f"{self.l1_size[0]} x {self.l1_size[1]}"
        return (f"CLIP {self.clip}, DINO {self.dino}; CLIP-I and DINO against the {self.reference}; "
                f"L1 on pixels in [0, 1] at {size}")


def mean(values: list[float]) -> float:
    finite = [v for v in values if not math.isnan(v)]
    return sum(finite) / len(finite) if finite else float("nan")
