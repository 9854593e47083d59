"""Across-edit check of a judge on finished edits: the AUC of its success probability against the
parser's label over every output of the fine-tuning table (`results/fine_tuning/runs/*`, 10 runs x 64 edits).

    python lab/2026-11-30_judge_ranking/finished_auc.py JUDGE_DIR

An AUC says whether the judge tells successful edits from failed ones across edits (easy edits
from hard ones included); selection needs the within-edit agreement of `train_judge.pool_agreement`.
"""
import glob
import json
import os
import sys

import torch
from PIL import Image

from icedit_lib import shapesworld as sw
from icedit_lib.mini_judge import MiniJudge

torch.set_num_threads(1)
judge = MiniJudge.load(sys.argv[1])
rows = [json.loads(line) for line in open("results/fine_tuning/suite/suite.jsonl")]
source = {r["id"]: sw.render(sw.Scene.from_dict(r["source_scene"])) for r in rows}
instruction = {r["id"]: r["instruction"] for r in rows}
scores, labels = [], []
for run in sorted(glob.glob("results/fine_tuning/runs/*/results.json")):
    folder = os.path.dirname(run)
    for row in json.load(open(run))["rows"]:
        image = Image.open(f"{folder}/images/{row['id']}.png").convert("RGB")
        scores.append(judge.success_probability(source[row["id"]], [image], instruction[row["id"]])[0])
        labels.append(row["success"])
pos = [p for p, y in zip(scores, labels) if y]
neg = [p for p, y in zip(scores, labels) if not y]
auc = sum((a > b) + 0.5 * (a == b) for a in pos for b in neg) / (len(pos) * len(neg))
print(json.dumps({"judge": sys.argv[1], "n": len(scores), "successes": len(pos), "auc": round(auc, 3)}))
