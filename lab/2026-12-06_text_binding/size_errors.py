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
import torch.nn as nn
import torch.nn.functional as F

from icedit_lib import language as L
from icedit_lib import pretrain_text as PT


def fit_predict(x, y, train, steps=300):
    """`pretrain_text.linear_probe`'s fit (standardised features, L-BFGS, the same penalty), returning the
    held-out predictions instead of their accuracy."""
    x = x.float()
    mean, std = x[train].mean(0), x[train].std(0) + 1e-6
    x = (x - mean) / std
    probe = nn.Linear(x.shape[1], int(y.max()) + 1)
    opt = torch.optim.LBFGS(probe.parameters(), lr=1, max_iter=steps, history_size=20, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = F.cross_entropy(probe(x[train]), y[train]) + 1e-4 * probe.weight.pow(2).sum()
        loss.backward()
        return loss

    with torch.enable_grad():
        opt.step(closure)
    with torch.no_grad():
        return probe(x).argmax(-1), probe(x[train]).argmax(-1).eq(y[train]).float().mean().item()


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
    pred, train_acc = fit_predict(f["word"][rows], y[rows] - 2, word_train[rows])
    ok = (pred == y[rows] - 2)
    test = ~word_train[rows]
    idx = rows.nonzero()[:, 0]
    # per text: how many objects have their size stated
    sized = collections.Counter()
    for i, t in enumerate(texts):
        sized[i] = len({tuple(sorted(w.labels.items())) for w in t.words
                        if w.labels and w.attribute == "size"})
    groups = collections.defaultdict(lambda: [0, 0])
    for r, good in zip(idx[test].tolist(), ok[test].tolist()):
        t = int(f["word_text"][r])
        for key in (f"kind={f['word_kind'][r]}", f"attribute={f['word_attribute'][r]}",
                    f"sized_objects_in_text={sized[t]}", "all"):
            groups[key][0] += good
            groups[key][1] += 1
    out = {"encoders": args.encoders, "probe_train_accuracy": round(train_acc, 4),
           "held_out": {k: {"accuracy": round(a / n, 4), "n": n} for k, (a, n) in sorted(groups.items())}}
    examples = []
    for r, good in zip(idx[test].tolist(), ok[test].tolist()):
        if not good and len(examples) < 12:
            t = texts[int(f["word_text"][r])]
            examples.append(t.string)
    out["failing_texts"] = examples
    text = json.dumps(out, indent=2)
    print(text)
    if args.out:
        open(args.out, "w").write(text + "\n")


if __name__ == "__main__":
    sys.exit(main())
