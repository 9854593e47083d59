"""Move and recolor success by colour, on more pairs than the 256-pair evaluation holds (31 moves, 40 recolors).

In the 256 pairs at 60000 and 65000 steps, moves of purple objects complete 1 and 0 of 11, and recolors between
the three hue pairs the VAE puts closest 3 of 9 against 18-19 of 31 (`recolor_by_hue_gap.py`). Too few to say
more; this draws N held-out pairs of each type (split "eval", seed 7, not the evaluation's seed) and edits them as
the evaluation does (28 steps, guidance 30, the descriptive diptych caption, seed = pair index).

    python lab/2026-12-06_fill_seeds/hard_types_by_colour.py --base checkpoints/fill_v11 --n 96 --out FILE
"""
import argparse
import collections
import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
import torch  # noqa: E402

from icedit_lib import miniature as mini, registry, shapesworld as sw  # noqa: E402
from icedit_lib.editor import ICEditor  # noqa: E402

CLOSE = ({"orange", "yellow"}, {"blue", "purple"}, {"orange", "red"})


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--base", required=True)
    p.add_argument("--n", type=int, default=96)
    p.add_argument("--out", default=None)
    a = p.parse_args()
    torch.set_num_threads(1)
    pipe, _ = registry.load_fill_pipeline(a.base, device="cpu")
    pipe.set_progress_bar_config(disable=True)
    editor = ICEditor(pipe, panel_width=sw.PANEL, max_sequence_length=mini.T5_MAX_LENGTH)
    rows, table = [], collections.defaultdict(lambda: [0, 0])
    for kind in ("move", "recolor"):
        rng = random.Random(7)
        for i in range(a.n):
            pair = sw.random_pair(rng, kind=kind, split="eval")
            result = editor.edit(sw.render(pair.source), sw.diptych_caption(pair.source, pair.edit), seed=i, steps=28,
                                 guidance=30.0, prompt_mode="direct")
            ok = sw.read_scene(result.image).exact == pair.target
            old = pair.edit.target.color
            key = (kind, old if kind == "move" else
                   "close" if {old, pair.edit.value} in CLOSE else "far")
            table[key][0] += int(ok)
            table[key][1] += 1
            rows.append({"kind": kind, "i": i, "color": old, "value": str(pair.edit.value),
                         "objects": len(pair.source.objects), "ok": ok})
    for key in sorted(table):
        print(f"{key[0]:8s} {key[1]:7s} {table[key][0]}/{table[key][1]}", flush=True)
    if a.out:
        Path(a.out).write_text(json.dumps({"base": a.base, "n": a.n, "rows": rows,
                                           "table": {" ".join(k): v for k, v in sorted(table.items())}}, indent=1))


if __name__ == "__main__":
    main()
