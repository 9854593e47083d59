"""Can the shipped Fill base memorise a few one-change diptychs? (a diagnostic, session 11)

    python lab/2026-11-24_fill_memorization/memorize.py --pairs 32 --steps 1000 --eval-every 250 --threads 1
    python lab/2026-11-24_fill_memorization/memorize.py --pairs 256 --score-pairs 64 --held-out 64 --steps 1000 \
        --eval-every 500 --threads 2 --out lab/2026-11-24_fill_memorization/results_256.json

The shipped Fill inpaints held-out descriptive one-change diptychs only 6.2% exactly, and the same on
training-split pairs. This separates two explanations: if it cannot even fit a fixed handful of pairs
(trained on exactly those, scored on exactly those, with the training's own loss and settings), the
limit is what the model can represent or how the conditioning reaches it; if it fits them, the limit
is learning the general rule from the corpus, i.e. data and steps.

Continues from `data/models/toy` (the shipped weights, not modified: nothing is exported), trains the
transformer with the second pretraining phase's loss (`pretrain_flux.training_loss`: changed tokens
weighted 10, unmasked 0.1, right-half masks only) on batches drawn from the fixed pairs, and scores
those same pairs (28 steps, the evaluation's seeds and guidance) every `--eval-every` steps; with a larger
pool, the first `--score-pairs` of it. `--held-out N` also scores N held-out pairs (the evaluation split): does
fitting the pool teach the rule, or is it a lookup? Writes `results.json` beside this script (or `--out`).
"""
import argparse
import json
import random
import time
from pathlib import Path

import numpy as np
import torch

from icedit_lib import miniature as mini, pretrain_flux, registry, shapesworld as sw
from icedit_lib.checkpoints import atomic_write_text
from icedit_lib.editor import ICEditor

HERE = Path(__file__).parent


def parse_args(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("--pairs", type=int, default=32)
    p.add_argument("--score-pairs", type=int, default=0, help="score the first K pairs of the pool (0: all)")
    p.add_argument("--held-out", type=int, default=0, help="also score this many held-out pairs")
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--eval-every", type=int, default=250)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", default=str(HERE / "results.json"))
    return p.parse_args(argv)


def score(editor, pairs) -> dict:
    """Exact right halves for the change captions (as `evaluate_fill` scores them), per edit type."""
    editor.pipe.transformer.eval()
    hits = {}
    for i, pair in enumerate(pairs):
        result = editor.edit(sw.render(pair.source), sw.diptych_caption(pair.source, pair.edit), seed=i, steps=28,
                             guidance=30.0, prompt_mode="direct")
        hits.setdefault(pair.edit.kind, []).append(int(sw.read_scene(result.image).exact == pair.target))
    editor.pipe.transformer.train()
    return {"one_change": float(np.mean(sum(hits.values(), []))),
            "per_type": {k: float(np.mean(v)) for k, v in sorted(hits.items())}}


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    rng = random.Random(4242)
    pairs = [sw.random_pair(rng, split="train") for _ in range(args.pairs)]
    scored = pairs[:args.score_pairs or len(pairs)]
    held_out_rng = random.Random(2025)  # evaluate_fill's seed: the same held-out pairs it scores
    held_out = [sw.random_pair(held_out_rng, split="eval") for _ in range(args.held_out)]

    def pool_example(rng, kind, p_identical=0.5):  # every training example is one of the fixed pairs
        pair = pairs[rng.randrange(len(pairs))]
        mask = np.zeros((64, 128), np.float32)
        mask[:, 64:] = 1.0
        return sw.render_diptych(pair.source, pair.target), mask, sw.diptych_caption(pair.source, pair.edit)

    pretrain_flux.fill_example = pool_example
    pipe, _ = registry.load_fill_pipeline("toy", device="cpu")
    editor = ICEditor(pipe, panel_width=sw.PANEL, max_sequence_length=mini.T5_MAX_LENGTH)
    train_args = pretrain_flux.parse_args(["--stage", "fill", "--changed-weight", "10", "--p-identical", "0"])
    params = list(pipe.transformer.parameters())
    pipe.transformer.requires_grad_(True).train()
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.0, betas=(0.9, 0.99))
    def evaluation() -> dict:
        row = score(editor, scored)
        return row | ({"held_out": score(editor, held_out)} if held_out else {})

    log = [{"step": 0, **evaluation()}]
    print(log[-1], flush=True)
    t0, losses = time.time(), []
    for step in range(1, args.steps + 1):
        for g in opt.param_groups:
            g["lr"] = args.lr * min(1.0, step / 50)
        loss = pretrain_flux.training_loss(pipe, train_args, step, "cpu")
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        losses.append(loss.item())
        if step % args.eval_every == 0:
            log.append({"step": step, "loss_mean_last": float(np.mean(losses[-args.eval_every:])),
                        "elapsed_s": round(time.time() - t0), **evaluation()})
            print(log[-1], flush=True)
            atomic_write_text(Path(args.out), json.dumps(
                {"what": __doc__.split("\n")[0], "command": "python lab/2026-11-24_fill_memorization/memorize.py "
                 + " ".join(argv or []), "pairs": args.pairs, "scored_pairs": len(scored),
                 "held_out_pairs": len(held_out), "edit_types": sorted({p.edit.kind for p in pairs}),
                 "threads": args.threads, "log": log}, indent=2))


if __name__ == "__main__":
    import sys
    main(sys.argv[1:])
