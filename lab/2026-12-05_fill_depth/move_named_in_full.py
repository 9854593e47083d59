"""Can the Fill redraw a moved object when the caption gives its attributes? The moves of a 256-pair evaluation
(seed 2025) run again as the evaluation runs them, once with the evaluation's caption ("the circle is at the
bottom left") and once with the moved object named in full ("the small red circle is at the bottom left"; when
that phrase is not unique, the evaluation's phrase is kept). An inference-time probe of the first lever in the
README: no training.

    python lab/2026-12-05_fill_depth/move_named_in_full.py BASE_DIR METRICS.json
"""
import json
import random
import sys

from icedit_lib import miniature as mini, shapesworld as sw
from icedit_lib.editor import ICEditor
from icedit_lib.registry import load_fill_pipeline


def main(base: str, metrics: str):
    m = json.load(open(metrics))
    rng = random.Random(m["seed"])
    drawn = [sw.random_pair(rng, split="eval") for _ in range(m["n"])]
    editor = ICEditor(load_fill_pipeline(base, device="cpu")[0], panel_width=sw.PANEL,
                      max_sequence_length=mini.T5_MAX_LENGTH)
    counts = {"as evaluated": [0, 0], "named in full": [0, 0]}
    for v in m["pairs"]:
        pair = drawn[v["id"]]
        if v["kind"] != "move":
            continue
        o = pair.edit.target
        full = f"the {o.size} {o.color} {o.shape}"
        same = [p for p in pair.source.objects if (p.size, p.color, p.shape) == (o.size, o.color, o.shape)]
        ref = sw.referring_phrase(pair.source, o)
        caption = sw.diptych_caption(pair.source, pair.edit)
        captions = {"as evaluated": caption,
                    "named in full": caption.replace(f"but {ref} is", f"but {full} is") if len(same) == 1 else caption}
        verdict = []
        for name, text in captions.items():
            result = editor.edit(sw.render(pair.source), text, seed=v["id"], steps=28, guidance=30.0,
                                 prompt_mode="direct")
            ok = sw.read_scene(result.image).exact == pair.target
            counts[name][0] += ok
            counts[name][1] += 1
            verdict.append("right" if ok else "wrong")
        print(f"{len(pair.source.objects)} objects  {verdict[0]:5s} -> {verdict[1]:5s}  {captions['named in full'].split(' but ')[-1]}")
    for name, (ok, n) in counts.items():
        print(f"{name}: {ok}/{n}")


if __name__ == "__main__":
    main(*sys.argv[1:])
