import pytest

from icedit_lib.evaluation import paired_comparison


def rows(successes, l1_kept):
    return [{"id": f"{i:04d}", "success": s, "l1_kept": k} for i, (s, k) in enumerate(zip(successes, l1_kept))]


def test_paired_comparison_counts_discordant_edits_and_tests_them_exactly():
    a = rows([True] * 10 + [False] * 10, [0.01] * 20)
    b = rows([False] * 10 + [False] * 10, [0.03] * 20)
    c = paired_comparison(a, b)
    assert (c["only_a"], c["only_b"], c["n"]) == (10, 0, 20)
    assert c["success_a"] == 0.5 and c["success_b"] == 0.0
    assert c["p_success"] == pytest.approx(2 / 2 ** 10)  # all 10 discordant edits go A's way
    assert c["l1_kept_diff"] == pytest.approx(-0.02) and c["a_keeps_more"] == 20
    low, high = c["l1_kept_diff_ci95"]
    assert low == pytest.approx(-0.02) and high == pytest.approx(-0.02)  # no spread, no interval


def test_paired_comparison_of_a_run_with_itself_finds_nothing():
    a = rows([True, False, True, False], [0.01, 0.05, 0.02, 0.2])
    c = paired_comparison(a, list(reversed(a)))  # rows are paired by id, not by order
    assert (c["only_a"], c["only_b"], c["p_success"], c["l1_kept_diff"], c["a_keeps_more"]) == (0, 0, 1.0, 0.0, 0)


def test_paired_comparison_spreads_its_interval_around_a_noisy_difference():
    a = rows([False] * 8, [0.1, 0.0, 0.1, 0.0, 0.1, 0.0, 0.1, 0.0])
    b = rows([False] * 8, [0.05] * 8)
    low, high = paired_comparison(a, b)["l1_kept_diff_ci95"]
    assert low < 0 < high


def test_paired_comparison_refuses_runs_of_different_suites():
    with pytest.raises(ValueError, match="same suite"):
        paired_comparison(rows([True], [0.0]), [{"id": "other", "success": True, "l1_kept": 0.0}])


def test_typed_suite_holds_the_same_edits_phrased_as_people_type_them(tmp_path):
    import json

    from icedit_lib.language import normalize
    from icedit_lib.suites import make_suite

    plain = [json.loads(r) for r in make_suite(tmp_path, 16, seed=7).read_text().splitlines()]
    typed = [json.loads(r) for r in make_suite(tmp_path, 16, seed=7, name="typed.jsonl", phrasing="typed")
             .read_text().splitlines()]
    for a, b in zip(plain, typed):
        assert (a["id"], a["source_scene"], a["target_scene"]) == (b["id"], b["source_scene"], b["target_scene"])
    # different wording, not the template's, and more than case and punctuation
    assert sum(normalize(a["instruction"]) != normalize(b["instruction"]) for a, b in zip(plain, typed)) >= 12
    with pytest.raises(ValueError, match="phrasing"):
        make_suite(tmp_path, 1, seed=7, phrasing="shouted")
