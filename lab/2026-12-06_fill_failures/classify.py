"""What a Fill's failed move and recolor edits draw instead (a probe, not a lesson).

Re-creates the held-out pairs of `icedit eval-pretrained --part fill` (seed 2025) and parses the right half of
each saved diptych (`images/NNNN_KIND_fail.png`; every failed edit but add and remove): is the acted-on object
left where and as it was, drawn changed but wrong, doubled, or gone; are the other objects, the background and the
style kept; is the reading clean (no blobs), and if not, what the parser said of it.

    python lab/2026-12-06_fill_failures/classify.py EVAL_DIR [N]

Writes `failures_<EVAL_DIR's name>.json` here.
"""
import collections
import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from PIL import Image  # noqa: E402
from icedit_lib import shapesworld as sw  # noqa: E402

eval_dir = Path(sys.argv[1])
n = int(sys.argv[2]) if len(sys.argv) > 2 else 256
rng = random.Random(2025)
rows = []
for i in range(n):
    pair = sw.random_pair(rng, split="eval")
    kind = pair.edit.kind
    path = eval_dir / "images" / f"{i:04d}_{kind}_fail.png"
    if kind not in ("move", "recolor", "resize", "replace", "background", "restyle") or not path.exists():
        continue
    diptych = Image.open(path).convert("RGB")
    right = diptych.crop((sw.PANEL, 0, 2 * sw.PANEL, sw.PANEL))
    reading = sw.read_scene(right)
    got = reading.scene.objects if reading.scene else ()
    t = pair.edit.target
    new = [o for o in pair.target.objects if o not in pair.source.objects]
    others = [o for o in pair.source.objects if o != t]
    row = {"id": i, "kind": kind, "n_objects": len(pair.source.objects), "clean": reading.clean,
           "issues": list(reading.issues),
           "others_kept": all(o in got for o in others) if reading.scene else False,
           "old_left": t in got if t else None, "new_drawn": all(o in new and o in got for o in new) if new else None}
    if t is not None and reading.scene:
        same_cell = [o for o in got if o.cell == (pair.edit.value if kind == "move" else t.cell)]
        row["at_target_cell"] = [f"{o.size} {o.color} {o.shape}" for o in same_cell]
        row["wanted"] = [f"{o.size} {o.color} {o.shape} @{o.cell}" for o in new]
    row["background_ok"] = bool(reading.scene) and reading.scene.background == pair.target.background
    row["style_ok"] = bool(reading.scene) and reading.scene.style == pair.target.style
    rows.append(row)

summary = collections.defaultdict(collections.Counter)
for r in rows:
    if not r["clean"]:
        verdict = "unclean reading (blob or smear)"
    elif r["kind"] in ("background", "restyle"):
        asked, other = ("background", "style") if r["kind"] == "background" else ("style", "background")
        if not r[f"{asked}_ok"]:
            verdict = f"{asked} wrong"
        elif not r["others_kept"]:
            verdict = f"{asked} right, objects not kept"
        else:
            verdict = f"{asked} right, {other} lost"
    elif r["old_left"] and not r["new_drawn"]:
        verdict = "unchanged: the object left as it was"
    elif r["old_left"] and r["new_drawn"]:
        verdict = "doubled: the old object and the new one"
    elif r["new_drawn"] and not r["others_kept"]:
        verdict = "changed right, another object disturbed"
    elif r["new_drawn"]:
        verdict = "changed right, " + ("style lost" if not r["style_ok"] else "background lost")
    elif not r["old_left"] and r.get("at_target_cell"):
        verdict = "changed wrong (wrong attribute at the target cell)"
    else:
        verdict = "gone: the object vanished"
    r["verdict"] = verdict
    summary[r["kind"]][verdict] += 1
for kind, counts in sorted(summary.items()):
    print(kind, sum(counts.values()), dict(counts.most_common()))
# the acted-on object drawn at its target cell with the right size and shape but another colour: which colour
confusions = collections.Counter()
for r in rows:
    if r.get("wanted") and r.get("at_target_cell"):
        want, got = r["wanted"][0].split(), r["at_target_cell"][0].split()
        if want[0] == got[0] and want[2] == got[2] and want[1] != got[1]:
            confusions["/".join(sorted((want[1], got[1])))] += 1
print("colour swaps (either way), move / recolor / replace / resize:", dict(confusions.most_common()))
# what the parser said of the unclean readings, by kind of complaint ("mixed colors", "stray paint", ...)
COMPLAINTS = ("mixed colors", "stray paint", "matches no shape", "more than")
complaints = collections.Counter(next((c for c in COMPLAINTS if c in issue), issue)
                                 for r in rows if not r["clean"] for issue in r["issues"])
print("the parser's complaints on the unclean readings:", dict(complaints.most_common()))
out = Path(__file__).parent / f"failures_{eval_dir.name}.json"
out.write_text(json.dumps({"eval_dir": str(eval_dir), "verdicts": {k: dict(v) for k, v in summary.items()},
                           "colour_swaps": dict(confusions), "complaints": dict(complaints), "rows": rows}, indent=1))
