"""Judges, selection strategies and the early-filter engine (with judges whose answers are known)."""
import random

import numpy as np
import pytest
from PIL import Image

from icedit_lib import shapesworld as sw
from icedit_lib.judge import OracleJudge, PairwiseJudge, RandomJudge, select


class ByIndexJudge(PairwiseJudge):
    """Prefers the brighter image; shown-first bias of +0.2 to check that both orders cancel it."""

    def p_first(self, source, first, second, instruction):
        d = np.asarray(first, float).mean() - np.asarray(second, float).mean()
        return float(np.clip(0.5 + 0.2 + np.sign(d) * 0.3, 0, 1))


def grays(values):
    return [Image.new("RGB", (8, 8), (v, v, v)) for v in values]


@pytest.mark.parametrize("strategy,expected_comparisons", [("sequential", 5), ("knockout", 5), ("score_all", 15)])
def test_strategies_find_the_best(strategy, expected_comparisons):
    cands = grays([10, 200, 50, 250, 30, 100])
    sel = select(ByIndexJudge(), None, cands, "x", strategy)
    assert sel.index == 3 and sel.comparisons == expected_comparisons


def test_both_orders_cancel_position_bias():
    a, b = grays([100, 100])
    assert ByIndexJudge().prefer(None, a, b, "x") == pytest.approx(0.5)


def test_oracle_prefers_the_correct_edit():
    pair = sw.random_pair(random.Random(0), kind="recolor")
    judge = OracleJudge(pair.target)
    assert judge.prefer(None, sw.render(pair.target), sw.render(pair.source), "x") > 0.99
    assert 0 <= RandomJudge(0).prefer(None, *grays([1, 2]), "x") <= 1


def test_unknown_strategy():
    with pytest.raises(ValueError):
        select(ByIndexJudge(), None, grays([1, 2]), "x", "best")


@pytest.fixture(scope="module")
def editor(mini_dir):
    from diffusers import FluxFillPipeline

    from icedit_lib.editor import ICEditor
    from icedit_lib.miniature import T5_MAX_LENGTH

    pipe = FluxFillPipeline.from_pretrained(mini_dir)
    pipe.set_progress_bar_config(disable=True)
    return ICEditor(pipe, panel_width=64, max_sequence_length=T5_MAX_LENGTH)


def test_early_filter_costs_and_resumes_the_winner(editor):
    from icedit_lib import scaling

    source = sw.render(sw.random_scene(random.Random(1)))
    res = scaling.early_filter(editor, ByIndexJudge(), source, "make it blue", num_seeds=4, filter_steps=2, steps=6)
    assert res.nfe == 4 * 2 + 6 - 2 and res.comparisons == 3 and len(res.candidates) == 4
    brightest = int(np.argmax([np.asarray(c, float).mean() for c in res.candidates]))
    assert res.chosen == brightest and res.seed == brightest
    alone = editor.edit(source, "make it blue", seed=res.seed, steps=6).image  # the winner, run uninterrupted
    assert np.abs(np.asarray(alone, int) - np.asarray(res.image, int)).max() <= 2
    best = scaling.best_of_m(editor, ByIndexJudge(), source, "make it blue", num_seeds=3, steps=4)
    assert best.nfe == 12 and best.comparisons == 2
    assert scaling.single(editor, source, "x", steps=3).nfe == 3
    assert scaling.random_of_m(editor, source, "x", num_seeds=5, steps=3).chosen in range(5)


def test_scaling_experiment_replays_every_strategy_on_one_seed_bank(mini_env, tmp_path, monkeypatch, judge_model):
    from icedit_lib import experiments
    from icedit_lib.mini_judge import MiniJudge

    MiniJudge(*judge_model()).save(tmp_path / "judge")
    record = experiments.main(["scaling", "--out-dir", str(tmp_path / "sc"), "--n", "2", "--steps", "12",
                               "--judge", str(tmp_path / "judge")])
    table = record["table"]
    early = {(r["M"], r["m"]): r for r in table if r["method"] == "early filter (judge)"}
    assert set(early) == {(M, m) for M in (2, 4, 6, 8) for m in (1, 2, 4, 6, 10)}
    assert early[(6, 4)]["nfe"] == 6 * 4 + 12 - 4  # the winner resumes: M m + n - m
    assert {(r["M"], r["m"]) for r in table if r["method"] == "early filter (oracle, upper bound)"} == set(early)
    for M in (2, 4, 6, 8):
        oracle = next(r for r in table if r["method"].startswith("oracle") and r["M"] == M)["success"]
        assert all(r["success"] <= oracle for r in table if r["M"] == M)
    assert set(record["judge_accuracy"]) == {"1", "2", "4", "6", "10", "final"}
    clip = {(r["M"], r["m"]) for r in table if r["method"] == "early filter (CLIP)"}  # the shipped mini_clip
    assert clip == set(early) and set(record["verifier_accuracy"]["CLIP"]) == set(record["judge_accuracy"])
    assert (tmp_path / "sc" / "figure.png").exists() and "early filter" in (tmp_path / "sc" / "table.md").read_text()


def test_replay_with_a_first_choice_judge_equals_the_single_seed():
    from icedit_lib.scaling import replay_strategies
    from icedit_lib.judge import PairwiseJudge

    class First(PairwiseJudge):
        def p_first(self, source, first, second, instruction):
            return 1.0  # always the first shown: prefer() averages to 0.5, sequential keeps the incumbent

    bank = [{"row": {"instruction": "x"}, "source": None, "finals": [None] * 4,
             "previews": {2: [None] * 4}, "success": ok} for ok in ([True, False, False, True], [False, True, True, True])]
    rows = replay_strategies(bank, First(), sizes=(4,), filter_steps=(2,), steps=10)
    single = rows[0]["success"]
    assert single == 0.5
    assert next(r for r in rows if r["method"] == "early filter (judge)")["success"] == single
    assert next(r for r in rows if r["method"].startswith("oracle"))["success"] == 1.0
    assert not any("oracle, upper bound" in r["method"] for r in rows)  # only when an oracle is given


def test_replay_with_an_oracle_adds_its_early_filter_rows():
    """An oracle that reads the previews (ints: higher is closer to the target) picks the best preview."""
    from icedit_lib.scaling import replay_strategies
    from icedit_lib.judge import PairwiseJudge

    class First(PairwiseJudge):
        def p_first(self, source, first, second, instruction):
            return 1.0

    class Higher(PairwiseJudge):
        def p_first(self, source, first, second, instruction):
            return float(first > second)

    bank = [{"row": {"instruction": "x"}, "source": None, "finals": [None] * 4,
             "previews": {2: [0, 3, 1, 2], 4: [0, 1, 2, 3]}, "success": [False, True, False, False]}]
    rows = replay_strategies(bank, First(), sizes=(4,), filter_steps=(2, 4), steps=10, oracle=lambda row: Higher())
    oracle = {r["m"]: r for r in rows if r["method"] == "early filter (oracle, upper bound)"}
    assert oracle[2]["success"] == 1.0 and oracle[4]["success"] == 0.0  # seed 1 leads at step 2, seed 3 at 4
    assert oracle[2]["nfe"] == 4 * 2 + 10 - 2


def test_verifiers_add_their_own_rows_judged_per_suite_row():
    """A verifier made per suite row (as a ClipJudge of the row's caption) picks among finals and previews."""
    from icedit_lib.judge import PairwiseJudge
    from icedit_lib.scaling import judge_accuracy, replay_strategies

    class First(PairwiseJudge):
        def p_first(self, source, first, second, instruction):
            return 1.0

    class Near(PairwiseJudge):  # prefers the candidate nearest the row's wanted value
        def __init__(self, want):
            self.want = want

        def p_first(self, source, first, second, instruction):
            return float(abs(first - self.want) < abs(second - self.want))

    bank = [{"row": {"instruction": "x", "want": 3}, "source": None, "finals": [0, 1, 2, 3],
             "previews": {2: [3, 0, 1, 2]}, "success": [False, False, False, True]}]
    rows = replay_strategies(bank, First(), sizes=(4,), filter_steps=(2,), steps=10,
                             verifiers={"near": lambda row: Near(row["want"])})
    by = {r["method"]: r for r in rows}
    assert by["best of M, finished (near)"]["success"] == 1.0 and by["best of M, finished (near)"]["nfe"] == 40
    assert by["early filter (near)"]["success"] == 0.0  # at step 2 seed 0 looks nearest, and it fails
    acc = judge_accuracy(bank, lambda row: Near(row["want"]), filter_steps=(2,))
    assert acc["final"]["accuracy"] == 1.0 and acc["2"]["accuracy"] == 2 / 3  # seed 3 (2) loses only to seed 0 (3)


def test_clip_judge_prefers_the_candidate_nearer_its_caption(tiny_clip):
    from PIL import Image

    from icedit_lib.judge import ClipJudge
    from icedit_lib.metrics import ClipScorer

    scorer = ClipScorer(str(tiny_clip), device="cpu")
    red, blue = Image.new("RGB", (64, 64), "red"), Image.new("RGB", (64, 64), "blue")
    judge = ClipJudge(scorer, "a red square")
    margin = judge.score(red) - judge.score(blue)
    assert judge.score(red) == scorer.clip_out([red], ["a red square"])[0]
    assert (judge.prefer(None, red, blue, "x") > 0.5) == (margin > 0)  # random weights: only the sign is known
    assert abs(judge.prefer(None, red, blue, "x") + judge.prefer(None, blue, red, "x") - 1) < 1e-9


def test_judge_accuracy_counts_pairs_and_the_edits_they_come_from():
    """The 'images' are ints the judge ranks by value, so it can be made right (or wrong) on purpose."""
    from icedit_lib.scaling import judge_accuracy
    from icedit_lib.judge import PairwiseJudge

    class ByLabel(PairwiseJudge):
        def p_first(self, source, first, second, instruction):
            return float(first > second)  # "images" are ints: the higher one wins

    bank = [{"row": {"instruction": "x"}, "source": None, "success": ok, "finals": list(score),
             "previews": {1: list(score)}}
            for ok, score in (([True, False, False], [2, 1, 0]),   # 2 pairs, judge right on both
                              ([False, True, False], [2, 1, 0]),   # 2 pairs, right on one (1 > 0), wrong on 2 > 1
                              ([True, True, True], [0, 1, 2]),     # no pair: every seed succeeds
                              ([False, False, False], [0, 1, 2]))]  # no pair: none does
    acc = judge_accuracy(bank, ByLabel(), filter_steps=(1,))
    assert acc["1"] == acc["final"] == {"accuracy": 0.75, "pairs": 4, "edits": 2}


def test_seed_pair_agreement_pairs_each_success_with_each_failure_and_counts_ties_half():
    from icedit_lib.judge import seed_pair_agreement

    score = [0.9, 0.2, 0.2, 0.5]  # seeds 0 and 2 succeed; seed 2 ties failed seed 1 and loses to seed 3
    hits, pairs = seed_pair_agreement([True, False, True, False],
                                      lambda g, b: (score[g] > score[b]) + 0.5 * (score[g] == score[b]))
    assert (hits, pairs) == (2.5, 4)
    assert seed_pair_agreement([True, True], lambda g, b: 1) == (0, 0)
