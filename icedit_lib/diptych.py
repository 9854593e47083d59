"""The in-context diptych (paper section 3.1): source on the left, the edit inpainted on the right.

ICEdit never changes the model: it changes the input. The source image is placed in
both halves of a side-by-side canvas, the right half is masked, and the instruction
is wrapped in the in-context (IC) prompt that describes the diptych. The Fill model
then "completes the collage", and the right half is the edit.

Sizes: FLUX works on 16-pixel tokens (8x VAE, 2x2 packing), the miniature on 8-pixel
ones (4x VAE). The authors' script forces width 512 and rounds the height to a
multiple of 8, not 16: for a height like 520 the pipeline resizes the diptych to the
multiple of 16 below (512 rows, the image squashed), and the script's crop of the
520-row output then takes 8 rows that are not there (black). Here the panel is resized
to exactly (panel_width, H) with H a multiple of the token size, and the edited panel
is resized back to the source's size: nothing is squashed unasked and no row is black.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from PIL import Image

# The IC prompt, verbatim from the authors' inference script (the paper's Fig. 3 says
# "identical to the left"; the released code and weights use this wording).
DIPTYCH_PREFIX = "A diptych with two side-by-side images of the same scene."
SAME_AS_LEFT = "On the right, the scene is exactly the same as on the left"
IC_TEMPLATE = DIPTYCH_PREFIX + " " + SAME_AS_LEFT + " but {instruction}"
PROMPT_MODES = ("ic", "direct")
# The guidance embedding each framework samples with (paper 3.1, 3.2; the authors' inference script): they run
# FLUX.1 Fill [dev] at 50; FLUX.1 [dev] text-to-image (the inversion framework) at its default 3.5.
FILL_GUIDANCE = 50.0
T2I_GUIDANCE = 3.5
MAX_ASPECT = 4.0  # working height is clamped to [panel_width / 4, panel_width * 4]


class InstructionError(ValueError):
    """An instruction that cannot be used (empty, not text)."""


def clean_instruction(instruction) -> str:
    """Whitespace-normalised instruction; any text is accepted, an empty one is not."""
    if not isinstance(instruction, str):
        raise InstructionError(f"the instruction must be text, got {type(instruction).__name__}")
    text = " ".join(instruction.split())
    if not text:
        raise InstructionError("the instruction is empty")
    return text


def make_prompt(instruction: str, mode: str = "ic") -> str:
    """`ic`: the paper's in-context prompt; `direct`: the bare instruction (ablation)."""
    text = clean_instruction(instruction)
    if mode == "ic":
        return IC_TEMPLATE.format(instruction=text)
    if mode == "direct":
        return text
    raise ValueError(f"prompt mode must be one of {PROMPT_MODES}, got {mode!r}")


@dataclass(frozen=True)
class DiptychLayout:
    source_size: tuple[int, int]  # (width, height) of the input image
    panel_size: tuple[int, int]  # (width, height) of one half at the model's working size

    @property
    def size(self) -> tuple[int, int]:
        return 2 * self.panel_size[0], self.panel_size[1]


def plan_layout(source_size: tuple[int, int], panel_width: int, multiple: int) -> DiptychLayout:
    """Scale the source to `panel_width` and round its height to a multiple of `multiple`
    (rounding the scaled height, not cropping it: nothing is lost)."""
    if panel_width % multiple:
        raise ValueError(f"panel width {panel_width} is not a multiple of {multiple}")
    w, h = source_size
    height = round(h * panel_width / w / multiple) * multiple
    lo, hi = panel_width / MAX_ASPECT, panel_width * MAX_ASPECT
    height = int(min(max(height, multiple, (lo // multiple) * multiple), (hi // multiple) * multiple))
    return DiptychLayout((w, h), (panel_width, height))


def make_diptych(source: Image.Image, layout: DiptychLayout) -> tuple[Image.Image, Image.Image]:
    """(diptych, mask): the source in both halves, as the authors' script does (the
    right copy is masked away, so only its statistics could leak); mask white on the right."""
    panel = source.convert("RGB").resize(layout.panel_size, Image.BICUBIC) \
        if source.size != layout.panel_size else source.convert("RGB")
    w, h = layout.panel_size
    diptych = Image.new("RGB", (2 * w, h))
    diptych.paste(panel, (0, 0))
    diptych.paste(panel, (w, 0))
    mask = Image.new("L", (2 * w, h), 0)
    mask.paste(255, (w, 0, 2 * w, h))
    return diptych, mask


def right_half(diptych: Image.Image, layout: DiptychLayout) -> Image.Image:
    """The edited panel, returned at the source's size."""
    w, h = layout.panel_size
    panel = diptych.crop((w, 0, 2 * w, h))
    return panel if panel.size == layout.source_size else panel.resize(layout.source_size, Image.BICUBIC)


def changed_tokens(diptychs: torch.Tensor, n_tokens: int, threshold: float = 0.1) -> torch.Tensor:
    """(batch, tokens) 1.0 where a token of a diptych's right half differs from the token at the
    same place in the left half (pixels in [-1, 1]), in the packed token order (row-major over
    the token grid). In a small edit the change is a few tokens and the copy all the others, so
    a loss that weighs every token alike has almost nothing left to learn from once the model
    copies: the training scripts' `--changed-weight` uses this to weigh the change up."""
    b, _, height, width = diptychs.shape
    half = width // 2
    differs = (diptychs[..., half:] - diptychs[..., :half]).abs().amax(1, keepdim=True) > threshold
    differs = torch.cat([torch.zeros_like(differs), differs], dim=-1).float()
    side = math.isqrt(height * width // n_tokens)  # pixels per token side
    return F.max_pool2d(differs, side).flatten(1)
