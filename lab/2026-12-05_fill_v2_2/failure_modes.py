"""What the Fill drew where a one-change edit failed, by edit type, from the saved diptychs of an evaluation run
(`icedit eval-pretrained --part fill --n 256 --out-dir DIR`, seed 2025): ok, unclean (the parser reads no clean
scene; its first issue), unchanged, or another clean scene (objects missing / extra against the target).

    python lab/2026-12-05_fill_v2_2/failure_modes.py checkpoints/fill_v4a_256/images
"""
import random, collections, sys
from pathlib import Path
from PIL import Image
from icedit_lib import shapesworld as sw
d = Path(sys.argv[1])
rng = random.Random(2025)
modes = collections.defaultdict(collections.Counter)
detail = collections.defaultdict(collections.Counter)
for i in range(256):
    pair = sw.random_pair(rng, split="eval")
    k = pair.edit.kind
    f = list(d.glob(f"{i:04d}_{k}_*.png"))
    if not f: continue
    im = Image.open(f[0]).convert("RGB")
    right = im.crop((im.width // 2, 0, im.width, im.height)).resize((64, 64)) if im.width != 64 else im
    rd = sw.read_scene(right)
    if rd.exact == pair.target: modes[k]["ok"] += 1; continue
    if not rd.clean:
        modes[k]["unclean"] += 1
        detail[k]["; ".join(x.split(" at the")[0].split(" (")[0] for x in rd.issues)[:60]] += 1
        continue
    if rd.scene == pair.source: modes[k]["unchanged"] += 1; continue
    modes[k]["clean_wrong"] += 1
    tgt = set(pair.target.objects); got = set(rd.scene.objects)
    detail[k][f"missing {len(tgt-got)} extra {len(got-tgt)} bg_ok {rd.scene.background==pair.target.background}"] += 1
for k in sw.EDIT_TYPES:
    print(k, dict(modes[k]), dict(detail[k].most_common(4)))
