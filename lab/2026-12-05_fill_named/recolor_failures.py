"""What a failed recolor draws in the recoloured object's cell, from a 256-pair evaluation's saved diptychs
(`icedit eval-pretrained --part fill --n 256`, seed 2025): the old colour kept (the change not applied), the colour
of another object of the scene, the neighbouring hue of the one asked for, or another colour; or the cell is wrong
in something other than colour, or the panel does not parse.

    python lab/2026-12-05_fill_named/recolor_failures.py DIR/images
"""
import collections
import random
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from icedit_lib import shapesworld as sw


def nearest_hue(color: str) -> str:
    return min((c for c in sw.COLORS if c != color),
               key=lambda c: np.linalg.norm(np.subtract(sw.COLORS[c], sw.COLORS[color])))


def main(folder: Path):
    rng, verdicts, rows = random.Random(2025), collections.Counter(), []
    for i in range(256):
        pair = sw.random_pair(rng, split="eval")
        if pair.edit.kind != "recolor":
            continue
        image = Image.open(next(folder.glob(f"{i:04d}_{pair.edit.kind}_*.png"))).convert("RGB")
        reading = sw.read_scene(np.asarray(image.crop((image.width // 2, 0, image.width, image.height))))
        old, new, cell = pair.edit.target.color, pair.edit.value, pair.edit.target.cell
        if not reading.clean:
            verdicts["panel does not parse"] += 1
            continue
        if reading.exact == pair.target:
            verdicts["success"] += 1
            continue
        drawn = {o.cell: o for o in reading.scene.objects}.get(cell)
        others = {o.color for o in pair.source.objects if o.cell != cell}
        if drawn is None:
            verdict = "object missing"
        elif drawn.color == new:
            verdict = "colour right, something else wrong"
        elif drawn.color == old:
            verdict = "old colour kept"
        elif drawn.color in others:
            verdict = "another object's colour"
        elif drawn.color == nearest_hue(new):
            verdict = "neighbouring hue of the new colour"
        else:
            verdict = "another colour"
        verdicts[verdict] += 1
        rows.append((verdict, old, new, drawn.color if drawn else "-", len(pair.source.objects)))
    print("recolor: verdict, old colour, asked, drawn, objects in the scene")
    for row in sorted(rows):
        print(f"  {row[0]:36s} {row[1]:7s} {row[2]:7s} {row[3]:7s} {row[4]}")
    print(dict(verdicts))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
