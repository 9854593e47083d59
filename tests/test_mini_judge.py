"""The miniature judge: forward shapes, labels from the parser, a few steps of learning, save / load."""
import random

import torch

from icedit_lib import shapesworld as sw
from icedit_lib.mini_judge import CANDIDATE_KINDS, MiniJudge, ShapesJudgeModel, bce_step, synthetic_candidate


def test_candidates_are_labelled_by_the_parser():
    rng = random.Random(0)
    pair = sw.random_pair(rng, kind="recolor", split="train")
    labels = {kind: synthetic_candidate(pair, kind, rng)[1] for kind in CANDIDATE_KINDS}
    assert labels["correct"] == 1.0 and labels["copy"] == 0.0 and labels["wrong_edit"] == 0.0


def test_judge_learns_copy_versus_correct_and_roundtrips(tmp_path):
    from icedit_lib.miniature import build_t5_tokenizer

    torch.manual_seed(0)
    model = ShapesJudgeModel(vocab_size=len(build_t5_tokenizer()), width=32, layers=1, heads=2)
    judge = MiniJudge(model, build_t5_tokenizer())
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    rng = random.Random(1)
    pairs = [sw.random_pair(rng, split="train") for _ in range(8)]
    batch = []
    for p in pairs:
        for kind in ("correct", "copy"):
            img, label = synthetic_candidate(p, kind, rng)
            batch.append((sw.render(p.source), img, p.instruction, label))
    losses = [bce_step(model, judge, batch, opt) for _ in range(60)]
    assert losses[-1] < 0.5 * losses[0]
    model.eval()
    p = pairs[0]
    assert judge.prefer(sw.render(p.source), sw.render(p.target), sw.render(p.source), p.instruction) > 0.5
    judge.save(tmp_path / "judge")
    again = MiniJudge.load(tmp_path / "judge")
    a = judge.success_probability(sw.render(p.source), [sw.render(p.target)], p.instruction)
    b = again.success_probability(sw.render(p.source), [sw.render(p.target)], p.instruction)
    assert abs(a[0] - b[0]) < 1e-6
