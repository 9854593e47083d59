"""Move success by how far the object goes and how many objects the scene has, from a 256-pair evaluation's
verdicts (`metrics.json` of `icedit eval-pretrained --part fill`, seed 2025): the pairs are drawn again with the
evaluation's generator, in its order.

    python lab/2026-12-05_fill_depth/move_by_distance.py METRICS.json [METRICS.json ...]
"""
import collections
import json
import random
import sys

from icedit_lib import shapesworld as sw


def pairs(n: int, seed: int):
    rng = random.Random(seed)
    return [sw.random_pair(rng, split="eval") for _ in range(n)]


for path in sys.argv[1:]:
    m = json.load(open(path))
    drawn = pairs(m["n"], m["seed"])
    by_dist, by_count = collections.defaultdict(list), collections.defaultdict(list)
    for v in m["pairs"]:
        pair = drawn[v["id"]]
        assert pair.edit.kind == v["kind"]
        if v["kind"] != "move":
            continue
        (x0, y0), (x1, y1) = sw.CELLS[pair.edit.target.cell], sw.CELLS[pair.edit.value]
        steps = (abs(x1 - x0) + abs(y1 - y0)) // 21  # cells apart, along the grid
        by_dist[steps].append(v["success"])
        by_count[len(pair.source.objects)].append(v["success"])
    print(path)
    print("  cells apart:", {k: f"{sum(s)}/{len(s)}" for k, s in sorted(by_dist.items())})
    print("  objects in the scene:", {k: f"{sum(s)}/{len(s)}" for k, s in sorted(by_count.items())})
