"""The generated model card: numbers and verdicts come from the training and benchmark records."""
import json

from icedit_lib.model_card import write_card


def test_card_reads_records_and_judges_targets(tmp_path):
    model = tmp_path / "mini"
    (model / "vae").mkdir(parents=True)
    (model / "vae" / "training.json").write_text(json.dumps(
        {"steps": 10, "wall_s": 60, "threads": 2, "evaluation": {"exact_all": 0.999}, "args": {"steps": 10}}))
    (model / "training_fill.json").write_text(json.dumps(
        {"step": 5, "wall_s": 120, "threads": 1, "device": "cuda", "evaluation": {"fill_one_change": 0.5},
         "args": {"steps": 10}}))
    speed = tmp_path / "sampling_speed.json"
    speed.write_text(json.dumps({
        "command": "python benchmarks/sampling_speed.py", "what": "an edit",
        "machine": {"cpu": "Test CPU", "cores": 2, "reference_gflops_1_thread": 50.0},
        "results": {"eager_threads_2": {"median_s": 0.5}, "compiled_threads_2": {"median_s": 0.4},
                    "compiled_compilation_s": 9.0}}))
    card = write_card(model, speed_record=speed).read_text()
    assert "target (at least 99.5% of reconstructions parse back exactly): met, exact_all = 99.9%" in card
    assert "## t2i" in card and "**Not trained yet**" in card
    assert "wall time 1 min on cpu with 2 thread(s)" in card  # the VAE's record names no device: the CPU
    assert "wall time 2 min in all: the last run on cuda" in card  # not "cuda ... (the 2-core CPU)"
    assert "**in progress: 5 of 10 steps**" in card and "**not met yet** (training in progress)" in card
    assert "Test CPU" in card and "compiled_threads_2 0.400" in card and "compilation" not in card.split("median")[1]
    assert "target (under 0.3 s on 2 threads): **not met** on this machine, compiled_threads_2 0.400 s" in card


def test_card_without_speed_record(tmp_path):
    card = write_card(tmp_path, speed_record=tmp_path / "missing.json").read_text()
    assert "Sampling speed" not in card


def test_card_adds_a_fine_tuned_decoder_to_its_vae_and_shows_reevaluations(tmp_path):
    model = tmp_path / "mini"
    (model / "vae").mkdir(parents=True)
    (model / "vae" / "training.json").write_text(json.dumps(
        {"steps": 4, "wall_s": 120, "threads": 2, "evaluation": {"exact_all": 0.99}, "args": {"steps": 4},
         "decoder_from": {"steps": 6, "wall_s": 60, "decoder_from": {"steps": 10, "wall_s": 120}}}))
    (model / "training_fill.json").write_text(json.dumps(
        {"step": 10, "wall_s": 60, "threads": 2, "evaluation": {"fill_one_change": 0.25}, "args": {"steps": 10},
         "reevaluations": [{"reason": "a new decoder", "evaluation_before": {"fill_one_change": 0.2}}]}))
    card = write_card(model, speed_record=tmp_path / "missing.json").read_text()
    assert "steps: 10 (whole VAE), then 6 + 4 decoder-only (complete); wall time 5 min" in card
    assert "exact_all = 99.0%" in card and "**not met**" in card
    assert "evaluated again (a new decoder); before: fill_one_change 0.200" in card
    assert "fill_one_change = 25.0%" in card


def test_card_says_why_a_schedule_was_left_unfinished(tmp_path):
    (tmp_path / "training_fill.json").write_text(json.dumps(
        {"step": 5, "wall_s": 60, "evaluation": {"fill_one_change": 0.25}, "args": {"steps": 10},
         "stopped": "more of it added nothing"}))
    card = write_card(tmp_path, speed_record=tmp_path / "missing.json").read_text()
    assert "stopped at 5 of a 10-step schedule: more of it added nothing" in card
    assert "**not met**, fill_one_change = 25.0%" in card and "in progress" not in card


def test_one_template_lays_out_every_card(tmp_path):
    from icedit_lib.model_card import ModelCard

    card = ModelCard("name", about="what it is", facts=["a: 1"], tables=[(["x", "y"], [[1, 2]])],
                     sections=[ModelCard("part", facts=["b: 2"])])
    assert card.render() == "# name\n\nwhat it is\n\n- a: 1\n\n| x | y |\n|---|---|\n| 1 | 2 |\n\n## part\n\n- b: 2\n"
    assert card.write(tmp_path).read_text() == card.render()


def test_a_record_carries_its_own_history_into_the_card(tmp_path):
    (tmp_path / "training_t2i.json").write_text(json.dumps(
        {"step": 3, "wall_s": 60, "evaluation": {"t2i_exact": 0.5}, "args": {"steps": 3},
         "card": {"what": "a T2I transformer", "data": "captions", "commands": "`make it`", "note": "it went well"}}))
    card = write_card(tmp_path, speed_record=tmp_path / "missing.json").read_text()
    assert "## t2i: a T2I transformer" in card and "- data: captions" in card and "- note: it went well" in card
    assert "- commands: `make it`" in card


def test_every_shipped_card_is_what_its_records_render():
    """The cards in data/models are generated, never edited by hand."""
    from pathlib import Path

    from icedit_lib import mini_clip, model_card, train, train_judge

    models = Path(__file__).resolve().parent.parent / "data" / "models"
    read = lambda d: json.loads((models / d / "training.json").read_text())  # noqa: E731
    import shutil
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for d in ("mini_lora", "mini_moe"):
            (tmp / d).mkdir()
            assert train.write_card(tmp / d, read(d)).read_text() == (models / d / "README.md").read_text(), d
        (tmp / "judge").mkdir()
        assert train_judge.write_card(tmp / "judge", read("mini_judge")).read_text() == \
            (models / "mini_judge" / "README.md").read_text()
        assert mini_clip.card(read("mini_clip")) == (models / "mini_clip" / "README.md").read_text()
        shutil.copytree(models / "mini", tmp / "mini", ignore=shutil.ignore_patterns("*.safetensors"))
        assert model_card.write_card(tmp / "mini").read_text() == (models / "mini" / "README.md").read_text()
