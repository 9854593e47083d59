"""Which colours a T2I run draws for which: read the images of an `icedit eval-pretrained --part t2i` run, pair
them with their held-out scenes (the evaluation's seed and order), and count each wrongly coloured object by its
(asked, drawn) colour pair, the three pairs the shipped VAE puts closest (orange-yellow, blue-purple, orange-red)
apart from the rest.

    python lab/2026-12-06_latent_design/t2i_colour_confusions.py EVAL_DIR [EVAL_DIR ...]
"""
import collections
import random
import sys
from pathlib import Path

from PIL import Image

from icedit_lib import shapesworld as sw

CLOSE = {frozenset(p) for p in (("orange", "yellow"), ("blue", "purple"), ("orange", "red"))}
SEED = 2024  # `pretrain_eval.evaluate_t2i`'s default


def confusions(eval_dir: Path) -> dict:
    images = sorted((eval_dir / "images").glob("*.png"))
    rng = random.Random(SEED)
    scenes = [sw.random_scene(rng, split="eval") for _ in range(len(images))]
    wrong = collections.Counter()
    objects = drawn = 0
    for i, (path, scene) in enumerate(zip(images, scenes)):
        if int(path.name.split("_")[0]) != i:
            raise ValueError(f"{path.name}: expected image {i} (a run with missing images?)")
        got = sw.read_scene(Image.open(path)).scene
        objects += len(scene.objects)
        if got is None:
            continue
        for o in scene.objects:
            g = got.object_at(o.cell)
            if g is None:
                continue
            drawn += 1
            if g.color != o.color:
                wrong[frozenset((o.color, g.color))] += 1
    close = sum(v for k, v in wrong.items() if k in CLOSE)
    return {"scenes": len(images), "objects": objects, "objects_read": drawn, "wrong_colour": sum(wrong.values()),
            "wrong_close_pairs": close, "pairs": {"-".join(sorted(k)): v for k, v in wrong.most_common()}}


if __name__ == "__main__":
    for d in sys.argv[1:]:
        print(d, confusions(Path(d)))
