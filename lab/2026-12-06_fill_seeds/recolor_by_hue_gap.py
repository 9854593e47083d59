"""Recolor success by how far the asked colour lies from the old one in the VAE's latent space.

If the Fill's recolor failures come from the loss's weak signal between close hues (the shipped VAE puts
orange-yellow, blue-purple and orange-red closest: `../2026-12-05_fill_curriculum/latent_hue_gaps_45000.txt`),
recolors between those pairs should fail more than recolors between far colours. Reads a 256-pair evaluation's
verdicts (`icedit eval-pretrained --part fill --n 256`, seed 2025) and regenerates its pairs.

    python lab/2026-12-06_fill_seeds/recolor_by_hue_gap.py DIR/metrics.json [DIR/metrics.json ...]
"""
import collections
import json
import random
import sys

from icedit_lib import shapesworld as sw

CLOSE = ({"orange", "yellow"}, {"blue", "purple"}, {"orange", "red"})


def main(paths):
    rng, pairs = random.Random(2025), {}
    for i in range(256):
        pairs[i] = sw.random_pair(rng, split="eval")
    for path in paths:
        verdicts = {p["id"]: p["success"] for p in json.load(open(path))["pairs"] if p["kind"] in ("recolor", "move")}
        table = collections.defaultdict(lambda: [0, 0])
        for i, ok in verdicts.items():
            edit = pairs[i].edit
            if edit.kind == "recolor":
                key = ("recolor", "close" if {edit.target.color, edit.value} in CLOSE else "far")
            else:  # a move carries the object's own colour: is a close hue of it elsewhere in the palette?
                key = ("move", edit.target.color)
            table[key][0] += int(ok)
            table[key][1] += 1
        print(path)
        for key in sorted(table):
            print(f"  {key[0]:8s} {key[1]:7s} {table[key][0]}/{table[key][1]}")


if __name__ == "__main__":
    main(sys.argv[1:])
