"""Where move, recolor and replace fail, object by object, from the saved diptychs of a 256-pair Fill evaluation
(`icedit eval-pretrained --part fill --n 256 --out-dir DIR`, seed 2025): for each failed edit whose right panel
parses cleanly, what differs from the target cell by cell; then every wrongly coloured object of any edit type
(target colour, drawn colour, whether the drawn colour is in the source scene); then success by style.

    python lab/2026-12-05_fill_v2_3/hard_type_errors.py DIR/images
"""
import collections
import random
import sys
from pathlib import Path

from PIL import Image

from icedit_lib import shapesworld as sw

HARD = ("move", "recolor", "replace")


def pairs_and_readings(folder: Path):
    rng = random.Random(2025)
    for i in range(256):
        pair = sw.random_pair(rng, split="eval")
        image = Image.open(next(folder.glob(f"{i:04d}_{pair.edit.kind}_*.png"))).convert("RGB")
        yield pair, sw.read_scene(image.crop((image.width // 2, 0, image.width, image.height)))


def cell_diffs(target: sw.Scene, got: sw.Scene) -> list[str]:
    want, drawn = {o.cell: o for o in target.objects}, {o.cell: o for o in got.objects}
    out = []
    for cell in sorted(set(want) | set(drawn)):
        a, b = want.get(cell), drawn.get(cell)
        if a == b:
            continue
        if a and b:
            out.append(cell + ": " + "/".join(f"{k}->{getattr(b, k)}" for k in ("shape", "color", "size")
                                               if getattr(a, k) != getattr(b, k)))
        else:
            out.append(f"{cell}: {'missing' if a else 'extra'}")
    return out


def main(folder: Path):
    colors, by_style = collections.Counter(), collections.Counter()
    for pair, reading in pairs_and_readings(folder):
        kind, ok = pair.edit.kind, reading.exact == pair.target
        by_style[(kind in HARD, pair.source.style, ok)] += 1
        if ok or not reading.clean:
            continue
        if kind in HARD:
            print(f"{kind:8s} {pair.instruction[:52]:52s} | {'; '.join(cell_diffs(pair.target, reading.scene))}")
        want, drawn = {o.cell: o for o in pair.target.objects}, {o.cell: o for o in reading.scene.objects}
        source_colors = {o.color for o in pair.source.objects}
        for cell in set(want) & set(drawn):
            if want[cell].color != drawn[cell].color:
                colors[(kind, want[cell].color, drawn[cell].color, drawn[cell].color in source_colors)] += 1
    print("\nwrong colours (edit type, target, drawn, drawn colour in the source scene): count")
    for key, n in sorted(colors.items()):
        print(" ", key, n)
    print("\nexact edits by style")
    for hard in (True, False):
        for style in ("filled", "outline"):
            n_ok, n = by_style[(hard, style, True)], by_style[(hard, style, True)] + by_style[(hard, style, False)]
            print(f"  {'move/recolor/replace' if hard else 'other types':20s} {style:8s} {n_ok}/{n}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
