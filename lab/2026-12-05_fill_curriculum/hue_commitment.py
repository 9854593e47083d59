"""Are the Fill's wrong colours committed or in between? For every object a failed edit draws in the wrong colour
(clean readings of a 256-pair evaluation's right panels, as `../2026-12-05_fill_v2_3/hard_type_errors.py` finds
them), the mean RGB of its paint is placed on the segment from the right colour (0) to the colour the parser read
(1): near 1, the Fill drew the wrong colour cleanly (a decision); near 0.5, a hue in between that the parser snapped
to the nearer palette colour. Objects drawn in the right colour give the reference spread around 0.

    python lab/2026-12-05_fill_curriculum/hue_commitment.py DIR/images
"""
import random
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from icedit_lib import shapesworld as sw

W = 10  # shapesworld's cell window half-width: the windows the parser reads


def paint_rgb(panel: np.ndarray, cell: str, color: str) -> np.ndarray:
    """Mean RGB of the pixels in the cell's window that snap to `color`."""
    cx, cy = sw.CELLS[cell]
    window = (slice(cy - W, cy + W + 1), slice(cx - W, cx + W + 1))
    snapped = sw.classify_pixels(panel)[window] == list(sw.COLORS).index(color)
    return panel[window].astype(float)[snapped].mean(0)


def position(rgb: np.ndarray, right: str, other: str) -> float:
    a, b = np.array(sw.COLORS[right], float), np.array(sw.COLORS[other], float)
    return float((rgb - a) @ (b - a) / ((b - a) @ (b - a)))


def main(folder: Path):
    rng, wrong, right = random.Random(2025), [], []
    for i in range(256):
        pair = sw.random_pair(rng, split="eval")
        image = Image.open(next(folder.glob(f"{i:04d}_{pair.edit.kind}_*.png"))).convert("RGB")
        panel = np.asarray(image.crop((image.width // 2, 0, image.width, image.height)))
        reading = sw.read_scene(panel)
        if not reading.clean:
            continue
        want, drawn = {o.cell: o for o in pair.target.objects}, {o.cell: o for o in reading.scene.objects}
        for cell in set(want) & set(drawn):
            w, d = want[cell].color, drawn[cell].color
            rgb = paint_rgb(panel, cell, d)
            if w != d:
                wrong.append((pair.edit.kind, w, d, position(rgb, w, d)))
            elif pair.edit.kind in ("move", "recolor") and pair.edit.target and cell in (pair.edit.value, pair.edit.target.cell):
                # the edited object drawn right: its position towards its nearest other colour
                near = min((c for c in sw.COLORS if c != w),
                           key=lambda c: np.linalg.norm(np.subtract(sw.COLORS[c], sw.COLORS[w])))
                right.append((pair.edit.kind, w, near, position(rgb, w, near)))
    print("wrong colours: edit type, right colour, read colour, position (0 right, 1 read)")
    for row in sorted(wrong):
        print(f"  {row[0]:10s} {row[1]:7s} {row[2]:7s} {row[3]:.2f}")
    pos = np.array([r[3] for r in wrong])
    print(f"wrong: n {len(pos)}, median {np.median(pos):.2f}, quartiles {np.quantile(pos, 0.25):.2f} "
          f"{np.quantile(pos, 0.75):.2f}, share above 0.8: {(pos > 0.8).mean():.2f}")
    ref = np.array([r[3] for r in right])
    print(f"edited objects drawn right (move, recolor), towards their nearest other colour: n {len(ref)}, "
          f"median {np.median(ref):.2f}, quartiles {np.quantile(ref, 0.25):.2f} {np.quantile(ref, 0.75):.2f}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
