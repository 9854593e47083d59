"""An auxiliary objective for the miniature's pretraining: read the finished scene out of the transformer's middle.

REPA (Yu et al., 2024, "Representation Alignment for Generation Training Diffusion Transformers") trains a
diffusion transformer faster and better by asking an early block's image tokens, at every noise level, to predict a
pretrained vision encoder's features of the clean image. ShapesWorld needs no encoder: its semantics are exact.
Every 8 x 8-pixel token (the VAE's 4x downsampling, then FLUX's 2 x 2 packing) lies in one cell of its panel's
3 x 3 grid, so its label is the object drawn in that cell (colour, shape and size, or none) and the panel's
background and style. A linear head on the image tokens after the last double-stream block predicts the labels of
the clean image: in a one-change diptych that block must already have worked out what the right panel will show
(which object the caption names, what it becomes, where it goes) before the single-stream blocks draw it; the
Fill's hard edit types (move, recolor, replace) are the ones that need exactly that.

The head is used in training only: the exported transformer is a plain `FluxTransformer2DModel`, and sampling costs
nothing more. An addition of this course, not part of FLUX or ICEdit: FLUX learns the same from web-scale data.
"""
from __future__ import annotations

import numpy as np
import torch

from . import shapesworld as sw

TOKEN = 8  # pixels per packed latent token
ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "color": ("none", *sw.COLORS),
    "shape": ("none", *sw.SHAPES),
    "size": ("none", *sw.SIZES),
    "background": tuple(sw.BACKGROUNDS),
    "style": sw.STYLES,
}
_CENTRES = sorted({x for x, _ in sw.CELLS.values()})  # the grid's column (and row) centres, in pixels
_CELL_AT = {xy: name for name, xy in sw.CELLS.items()}


def _nearest_centre(pixel: float) -> int:
    return min(_CENTRES, key=lambda c: abs(c - pixel))


def panel_token_labels(scene: sw.Scene) -> np.ndarray:
    """[(64 / 8)^2 tokens, 5 attributes] class indices for one panel, tokens in row-major order as
    `FluxPipeline._pack_latents` lays them out; a token belongs to the cell whose centre is nearest its own."""
    by_cell = {o.cell: o for o in scene.objects}
    side = sw.PANEL // TOKEN
    labels = np.zeros((side * side, len(ATTRIBUTES)), np.int64)
    for row in range(side):
        for col in range(side):
            cell = _CELL_AT[(_nearest_centre(col * TOKEN + TOKEN / 2), _nearest_centre(row * TOKEN + TOKEN / 2))]
            obj = by_cell.get(cell)
            values = (obj.color if obj else "none", obj.shape if obj else "none", obj.size if obj else "none",
                      scene.background, scene.style)
            labels[row * side + col] = [ATTRIBUTES[a].index(v) for a, v in zip(ATTRIBUTES, values)]
    return labels


def image_token_labels(panels: tuple[sw.Scene, ...]) -> np.ndarray:
    """Labels of an image made of panels side by side (one panel, or a diptych's two): each token row is the
    panels' rows in turn, as the packed latents of the whole image are."""
    side = sw.PANEL // TOKEN
    grids = [panel_token_labels(s).reshape(side, side, -1) for s in panels]
    return np.concatenate(grids, axis=1).reshape(side * side * len(panels), -1)


class SceneHead(torch.nn.Module):
    """A linear read-out of every attribute from an image token's hidden state; `forward` returns the mean
    cross-entropy over attributes and tokens."""

    def __init__(self, width: int):
        super().__init__()
        self.proj = torch.nn.Linear(width, sum(len(v) for v in ATTRIBUTES.values()))

    def logits(self, hidden: torch.Tensor) -> list[torch.Tensor]:
        return list(self.proj(hidden.float()).split([len(v) for v in ATTRIBUTES.values()], dim=-1))

    def forward(self, hidden: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        losses = [torch.nn.functional.cross_entropy(lg.flatten(0, 1), labels[..., i].flatten())
                  for i, lg in enumerate(self.logits(hidden))]
        return torch.stack(losses).mean()

    @torch.no_grad()
    def accuracy(self, hidden: torch.Tensor, labels: torch.Tensor) -> dict[str, float]:
        return {name: (lg.argmax(-1) == labels[..., i]).float().mean().item()
                for i, (name, lg) in enumerate(zip(ATTRIBUTES, self.logits(hidden)))}


class BlockTap:
    """Keeps the image-token hidden states a FLUX block last returned (its output is (text, image)). Hooked
    once, before `torch.compile`, so that the compiled graph carries the hook and never recompiles."""

    def __init__(self, block: torch.nn.Module):
        self.hidden: torch.Tensor | None = None
        self.handle = block.register_forward_hook(self._keep)

    def _keep(self, module, args, output) -> None:
        self.hidden = output[1]
