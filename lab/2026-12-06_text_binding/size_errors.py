"""Where the size-binding probe fails (issue 28): the probe of `pretrain_text.probe` for size, refitted, its
held-out errors broken down by text kind, by the attribute of the word read, and by whether another object of the
same text has its size stated too.

    python lab/2026-12-06_text_binding/size_errors.py ENCODERS_DIR [--out FILE]
"""
import argparse
import collections
import json
import random
import sys

import torch

from icedit_lib import language as L
from icedit_lib import pretrain_text as PT


def probe_on(x, y, train, test):
    """`pretrain_text.linear_probe` fitted on the `train` rows and scored on the `test` rows only (the rows are
    stacked so that the probe's held-out part is exactly `test`; a fixed seed, so every group's probe is the same)."""
    torch.manual_seed(0)
    rows = torch.cat([train.nonzero()[:, 0], test.nonzero()[:, 0]])
    mask = torch.zeros(len(rows), dtype=torch.bool)
    mask[:int(train.sum())] = True
    return PT.linear_probe(x[rows], y[rows], mask)


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("encoders")
    ap.add_argument("--out")
    ap.add_argument("--n-texts", type=int, default=3000)
    args = ap.parse_args(argv)
    seed = 777  # `pretrain_text.probe`'s texts and split
    rng = random.Random(seed)
    texts = [L.random_text(rng, "eval", kind=L.KINDS[i % len(L.KINDS)]) for i in range(args.n_texts)]
    f = PT.probe_features(*PT.load_encoders(args.encoders), texts)
    text_train = torch.rand(args.n_texts, generator=torch.Generator().manual_seed(seed)) < 0.8
    word_train = text_train[f["word_text"]]
    other = torch.tensor([a is not None and a != "size" for a in f["word_attribute"]])
    y = f["word_labels"]["size"]
    rows = other & (y >= 2)
    x, y, train = f["word"][rows], y[rows] - 2, word_train[rows]
    words = rows.nonzero()[:, 0]
    # per text: how many objects have their size stated
    sized = [len({tuple(sorted(w.labels.items())) for w in t.words if w.labels and w.attribute == "size"})
             for t in texts]
    groups = collections.defaultdict(lambda: torch.zeros(len(words), dtype=torch.bool))
    for j, r in enumerate(words.tolist()):
        if train[j]:
            continue
        for key in (f"kind={f['word_kind'][r]}", f"attribute={f['word_attribute'][r]}",
                    f"sized_objects_in_text={sized[int(f['word_text'][r])]}", "all"):
            groups[key][j] = True
    held_out = {k: probe_on(x, y, train, test) for k, test in sorted(groups.items())}
    out = {"encoders": args.encoders, "probe_train_accuracy": probe_on(x, y, train, train)["accuracy"],
           "held_out": {k: {"accuracy": v["accuracy"], "n": v["n_test"]} for k, v in held_out.items()}}
    text = json.dumps(out, indent=2)
    print(text)
    if args.out:
        open(args.out, "w").write(text + "\n")


if __name__ == "__main__":
    sys.exit(main())
