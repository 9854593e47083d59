"""One command per comparison table of the course, each writing JSON, Markdown and a figure.

    python -m icedit_lib.experiments training-free --out-dir results/training_free [--n 64] [--steps 28]

    python -m icedit_lib.experiments scaling --out-dir results/scaling [--adapter mini-moe] [--judge mini-judge]

`training-free` (paper section 3.1 and its prompt ablation): {T2I inversion, inpainting} x
{IC prompt, bare instruction} on a held-out ShapesWorld suite (made with its own seed,
disjoint from every training set), success per edit type, L1 and L1 on kept pixels.

    python -m icedit_lib.experiments fine-tuning --out-dir results/fine_tuning [--train-steps 1000]

`fine-tuning` (paper section 3.2 and its ablations): the training-free model, the shipped
LoRA and LoRA-MoE, the IC prompt against the bare instruction after fine-tuning, 1 / 2 / 4
/ 8 experts and the expert rank, the trainable router against the authors' fixed one, the
loss on all tokens against the right half only. Each ablation adapter is trained by
`icedit_lib.train` for `--train-steps` into `OUT/adapters/<name>` (resumable; a finished
one is reused), then every configuration is evaluated on the same held-out suite.

`scaling` (paper section 3.3, Table 5): success against NFE for one seed, a random one of
M, the judge's best of M finished images, early filter for every (M, m), and two upper bounds
that read the answer with the parser: the oracle best of M finished images, and the early
filter with the oracle (`judge.OracleJudge`) as the judge of the previews. Every row of the suite is
run once with the largest M in one batched call that keeps the x0 previews after each m; each
strategy is then replayed on that seed bank (`scaling.replay_strategies`). Wall time is measured
side by side by `benchmarks/scaling_speed.py`.

    python -m icedit_lib.experiments moe-routing --out-dir results/moe_routing [--adapter mini-moe]

`moe-routing` (section 3.2's premise that experts specialise by kind of edit): how much of a
LoRA-MoE router's choice the edit type explains, against the token's role and position.

`training-free` and `fine-tuning` also compare, edit by edit, the pairs of configurations the
paper compares (`PAIRED`): the edits only one of the two gets right with an exact sign-test
p-value, and the difference in L1 on kept pixels with a 95% bootstrap interval, into
`paired.json` / `paired.md`. At 64 edits this tells a real difference from luck;
`--redraw` recomputes it, and redraws the figure, from the runs already in `--out-dir`.

One module per table (`training_free`, `fine_tuning`, `early_filter`, `moe_routing`), what they share in
`common`. Plain LoRA adapters are evaluated fused into the weights, as the CLI runs them (the same
latents, tested; about 30% faster per edit); a LoRA-MoE is never fused.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from .common import ABLATION_REFERENCE, PAIRED, REFERENCE_ROW, TRAINING_FREE_FOLDERS, paired, redraw, run_folder
from .early_filter import scaling
from .fine_tuning import FINE_TUNING, fine_tuning
from .fine_tuning import TITLE as FINE_TUNING_TITLE
from .moe_routing import moe_routing
from .training_free import FRAMEWORKS, training_free
from .training_free import TITLE as TRAINING_FREE_TITLE

TITLES = {"training-free": TRAINING_FREE_TITLE, "fine-tuning": FINE_TUNING_TITLE}
__all__ = ["ABLATION_REFERENCE", "EXPERIMENTS", "FINE_TUNING", "FRAMEWORKS", "PAIRED", "REFERENCE_ROW",
           "TRAINING_FREE_FOLDERS", "fine_tuning", "main", "moe_routing", "paired", "run_folder", "scaling",
           "training_free"]

EXPERIMENTS = {"training-free": training_free, "fine-tuning": fine_tuning, "scaling": scaling, "moe-routing": moe_routing}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("experiment", choices=sorted(EXPERIMENTS))
    p.add_argument("--out-dir", required=True)
    p.add_argument("--n", type=int, default=64)
    p.add_argument("--steps", type=int, default=28)
    p.add_argument("--device", default="auto")
    p.add_argument("--base", default="mini", help="scaling, fine-tuning, moe-routing: the Fill base")
    p.add_argument("--adapter", default=None,
                   help="scaling: the adapter (default none: the training-free model); moe-routing: the LoRA-MoE "
                        "(default mini-moe)")
    p.add_argument("--judge", default="mini-judge", help="scaling: the judge")
    p.add_argument("--clip", default=None,
                   help="scaling: a CLIPModel (folder or hub id) as a second verifier (paper Table 3b); default the "
                        "miniature's own (data/models/mini_clip) on the miniature; none to leave it out")
    p.add_argument("--train-steps", type=int, default=1000, help="fine-tuning: optimizer steps per ablation adapter")
    p.add_argument("--redraw", action="store_true",
                   help="training-free / fine-tuning: edit nothing, redraw figure.png and recompute paired.json / "
                        "paired.md from the results already in --out-dir")
    return p.parse_args(argv)


def main(argv=None) -> dict:
    from diffusers.utils import logging as diffusers_logging

    diffusers_logging.disable_progress_bar()
    a = parse_args(argv)
    if a.redraw:
        if a.experiment not in PAIRED:
            raise SystemExit(f"--redraw: {a.experiment} has no comparison figure to redraw")
        comparisons = redraw(a.out_dir, a.experiment, TITLES[a.experiment])
        print((Path(a.out_dir) / "paired.md").read_text())
        return {"paired": comparisons}
    extra = {"scaling": {"base": a.base, "adapter": a.adapter or "none", "judge": a.judge, "clip": a.clip},
             "fine-tuning": {"base": a.base, "train_steps": a.train_steps},
             "moe-routing": {"base": a.base, "adapter": a.adapter or "mini-moe"}}.get(a.experiment, {})
    record = EXPERIMENTS[a.experiment](a.out_dir, n=a.n, steps=a.steps, device=a.device, **extra)
    print((Path(a.out_dir) / "table.md").read_text())
    return record
