"""The README quotes no result by hand: its results block is what the results files say now."""
import json
from pathlib import Path

import pytest

from icedit_lib import report

README = Path(__file__).resolve().parent.parent / "README.md"


def test_the_readme_block_is_rendered_from_the_files():
    text = README.read_text()
    for begin, end, make in report.BLOCKS.values():
        block = text[text.index(begin):text.index(end) + len(end)]
        assert block == make(), "run `python -m icedit_lib.report --write README.md`"
    assert len(text.splitlines()) <= 130  # a README for learners, not a lab notebook


def test_every_number_names_its_file_and_the_block_is_replaced_in_place():
    for what, value, source in report.rows():
        assert (report.ROOT / source).is_file(), source
        assert any(c.isdigit() for c in value), what
    stale = f"intro\n{report.BEGIN}\n| old | 1% | x |\n{report.END}\noutro\n"
    assert report.replace_block(stale, report.render()) == f"intro\n{report.render()}\noutro\n"
    with pytest.raises(ValueError, match="no block"):
        report.replace_block("no markers here", report.render())


def test_the_presets_table_says_what_is_measured_and_what_is_not(tmp_path):
    unmeasured = report.presets_table(tmp_path / "missing.json")
    assert unmeasured.count("| not measured yet |") == 3 and "lab/2026-12-04_gpu_flux_recipes/run.sh" in unmeasured
    record = tmp_path / "flux_recipes.json"
    record.write_text(json.dumps({"device": "NVIDIA H200", "presets": {
        "24": {"edit_s": 7.25, "peak_gib": 21.5}, "16": {"skipped": "ImportError: bitsandbytes"}}}))
    measured = report.presets_table(record)
    assert "| 24 GB | `--memory 24` | float8 (torchao) | model | no | 7.2 s | 21.5 |" in measured
    assert "| 16 GB |" in measured and "skipped" in measured and "NVIDIA H200" in measured
    assert measured.count("| not measured yet |") == 1  # the 80 GB preset


def test_presets_come_from_their_own_record_and_the_step_times_from_the_recipes(tmp_path):
    presets, recipes = tmp_path / "flux_presets.json", tmp_path / "flux_recipes.json"
    presets.write_text(json.dumps({"device": "NVIDIA H200", "recipes": {}, "presets": {
        "80": {"edit_s": 2.01, "peak_gib": 33.9}}}))
    recipes.write_text(json.dumps({"device": "NVIDIA H200", "recipes": {
        "bf16": {"1024x512": {"per_step_s": 0.0939, "first_call_extra_s": 0.1}},
        "fp8-compiled": {"1024x512": {"per_step_s": 0.0381, "first_call_extra_s": 12.4,
                                      "relative_error": [0.011, 0.019, 0.014]}},
        "nf4": {"skipped": "ImportError: bitsandbytes"}}}))
    table = report.presets_table(presets, recipes)
    assert "| 80 GB | `--memory 80` | bf16 | none | yes | 2.0 s | 33.9 |" in table
    assert "bf16 93.9 ms; fp8-compiled 38.1 ms, error 0.019, first call +12 s; nf4 skipped (ImportError)" in table
    assert report.transformer_recipes(tmp_path / "missing.json") == ""


def test_the_miniatures_recipe_sentence_pairs_each_recipe_with_the_default(tmp_path):
    assert report.recipes_on_the_miniature((tmp_path / "missing.json",)) == ""
    record = tmp_path / "mini_recipes_cuda.json"
    against = {"only_a": 2, "only_b": 1, "p_success": 1.0}
    record.write_text(json.dumps({"device": "NVIDIA H200", "recipes": {
        "default": {"n": 64, "success": 0.953125, "dtype": "bfloat16"},
        "fp8": {"n": 64, "success": 0.96875, "dtype": "bfloat16", "against_default": against},
        "nf4": {"skipped": "ImportError: bitsandbytes"}}}))
    sentence = report.recipes_on_the_miniature((record,))
    assert "On NVIDIA H200" in sentence and "default (bfloat16) 95.3%" in sentence
    assert "fp8 96.9% (2 / 1, p = 1)" in sentence and "nf4 skipped (ImportError)" in sentence
