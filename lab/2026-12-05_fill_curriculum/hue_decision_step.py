"""When does the Fill decide an object's colour? For the one-change pairs of a 256-pair evaluation (seed 2025) whose
changed object the Fill drew in the wrong colour (from the saved diptychs, as `hue_commitment.py`), and as a
reference those it drew right: the same edit again (same seed, 28 steps, the evaluation's settings) with the x0
preview decoded after steps 1-27, and the colour of the object's paint in its target cell read at each (nearest
palette colour of the mean non-background paint in the cell's window). Prints, per edit, the colours by step and the
first step from which the colour is the final one (28: only the finished edit).

    python lab/2026-12-05_fill_curriculum/hue_decision_step.py --base DIR --images DIR/images
"""
import argparse
import random
from pathlib import Path

import numpy as np
from PIL import Image

from icedit_lib import miniature as mini, registry, shapesworld as sw
from icedit_lib.editor import ICEditor

W = 10
STEPS_SEEN = tuple(range(1, 28))


def paint_color(panel: np.ndarray, cell: str) -> str | None:
    cx, cy = sw.CELLS[cell]
    window = (slice(cy - W, cy + W + 1), slice(cx - W, cx + W + 1))
    idx = sw.classify_pixels(panel)[window]
    paint = panel[window].astype(float)[(idx >= 0) & (idx < len(sw.COLORS))]
    if len(paint) < 10:
        return None
    mean = paint.mean(0)
    return min(sw.COLORS, key=lambda c: np.linalg.norm(mean - np.array(sw.COLORS[c], float)))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--base", required=True)
    p.add_argument("--images", required=True)
    p.add_argument("--right-reference", type=int, default=12, help="how many correctly coloured edits to follow too")
    args = p.parse_args()
    pipe, _ = registry.load_fill_pipeline(args.base, device="cpu")
    editor = ICEditor(pipe, panel_width=sw.PANEL, max_sequence_length=mini.T5_MAX_LENGTH)
    rng, folder, n_right = random.Random(2025), Path(args.images), 0
    decided = {"wrong": [], "right": []}
    for i in range(256):
        pair = sw.random_pair(rng, split="eval")
        if pair.edit.kind not in ("move", "recolor"):
            continue
        cell = pair.edit.value if pair.edit.kind == "move" else pair.edit.target.cell
        want = next(o.color for o in pair.target.objects if o.cell == cell)
        image = Image.open(next(folder.glob(f"{i:04d}_{pair.edit.kind}_*.png"))).convert("RGB")
        final = paint_color(np.asarray(image.crop((image.width // 2, 0, image.width, image.height))), cell)
        group = "right" if final == want else "wrong" if final else None
        if group is None or (group == "right" and n_right >= args.right_reference):
            continue
        n_right += group == "right"
        caption = sw.diptych_caption(pair.source, pair.edit)
        _, previews = editor.edit_with_previews(sw.render(pair.source), caption, [i], steps=28,
                                                preview_at=STEPS_SEEN, guidance=30.0, prompt_mode="direct")
        colors = [paint_color(np.asarray(previews[m][0].convert("RGB")), cell) for m in STEPS_SEEN]
        first = next((m for k, m in enumerate(STEPS_SEEN) if all(c == final for c in colors[k:])), 28)
        decided[group].append(first)
        print(f"{group:5s} {pair.edit.kind:8s} want {want:7s} final {final:7s} fixed from step {first:2d}: "
              + " ".join((c or "-")[:2] for c in colors), flush=True)
    for group, firsts in decided.items():
        if firsts:
            print(f"{group}: n {len(firsts)}, step from which the final colour holds: median {np.median(firsts):.0f}, "
                  f"quartiles {np.quantile(firsts, 0.25):.0f}-{np.quantile(firsts, 0.75):.0f}")


if __name__ == "__main__":
    main()
