"""`icedit bench`: benchmark suites through `datasets` (local copies in the real formats), the Emu filter,
deterministic subsets, the paper's metrics on the edits, pairing with an earlier run, and the offline errors."""
import json

import pytest
from PIL import Image

from icedit_lib import bench
from icedit_lib.cli import main


def emu_parquet(tmp_path):
    import datasets

    images = [Image.new("RGB", (48, 40), c) for c in ("red", "green", "blue", "white", "black")]
    data = datasets.Dataset.from_dict({
        "idx": list(range(5)), "image": images, "instruction": [f"make it {c}" for c in "abcde"],
        "input_caption": ["a red square", "same", "a blue square", "a white square", "a black square"],
        "output_caption": ["a pink square", "same", "a cyan square", "a gray square", "a night sky"],
        "task": ["color"] * 5}, features=datasets.Features({
            "idx": datasets.Value("int32"), "image": datasets.Image(), "instruction": datasets.Value("string"),
            "input_caption": datasets.Value("string"), "output_caption": datasets.Value("string"),
            "task": datasets.Value("string")}))
    folder = tmp_path / "emu"
    folder.mkdir()
    data.to_parquet(str(folder / "test-00000-of-00001.parquet"))
    return folder


def magicbrush_folder(tmp_path):
    folder = tmp_path / "mb_test"
    sessions = {}
    for img_id, color in (("111", "red"), ("222", "blue")):
        (folder / "images" / img_id).mkdir(parents=True)
        Image.new("RGB", (64, 64), color).save(folder / "images" / img_id / f"{img_id}-input.png")
        Image.new("RGB", (64, 64), "white").save(folder / "images" / img_id / f"{img_id}-output1.png")
        sessions[img_id] = [{"input": f"{img_id}-input.png", "output": f"{img_id}-output1.png",
                             "instruction": "make it white"}]
    (folder / "edit_sessions.json").write_text(json.dumps(sessions))
    return folder


def test_emu_suite_filter_and_deterministic_subset(tmp_path):
    source = emu_parquet(tmp_path)
    kept = bench.emu_rows(str(source))
    assert [r["id"] for r in kept] == ["emu-0", "emu-2", "emu-3", "emu-4"]  # "same" -> "same" dropped
    assert len(bench.emu_rows(str(source), emu_filter=False)) == 5
    a = bench.prepare_suite("emu-test", tmp_path / "a", str(source), n=2, seed=7)
    b = bench.prepare_suite("emu-test", tmp_path / "b", str(source), n=2, seed=7)
    assert a.read_text() == b.read_text() and len(a.read_text().splitlines()) == 2
    row = json.loads(a.read_text().splitlines()[0])
    assert (a.parent / row["image"]).is_file() and "target" not in row and row["output_caption"]


def test_bench_magicbrush_scores_edits_against_the_ground_truth_and_pairs_runs(mini_env, tiny_clip, tiny_dino,
                                                                               tmp_path, capsys):
    source = magicbrush_folder(tmp_path)
    common = ["bench", "--suite", "magicbrush-test", "--source", str(source), "--clip", str(tiny_clip),
              "--dino", str(tiny_dino), "--steps", "1", "--device", "cpu", "--adapter", "none"]
    assert main(common + ["--out-dir", str(tmp_path / "run1")]) == 0, capsys.readouterr().err
    scores = [json.loads(x) for x in (tmp_path / "run1" / "scores.jsonl").read_text().splitlines()]
    assert [s["id"] for s in scores] == ["mb-111-1", "mb-222-1"]
    assert all(s["reference"] == "target" and 0 <= s["l1"] <= 1 and -1 <= s["clip_i"] <= 1 for s in scores)
    table = (tmp_path / "run1" / "table.md").read_text()
    assert "| L1 | CLIP-I | DINO |" in table and "against the ground truth" in table and str(tiny_clip) in table
    assert (tmp_path / "run1" / "figure.png").is_file()
    assert main(common + ["--out-dir", str(tmp_path / "run2"), "--paired-with", str(tmp_path / "run1")]) == 0
    paired = json.loads((tmp_path / "run2" / "results.json").read_text())["paired_with"]
    assert paired["l1"]["mean_diff"] == 0.0 and paired["l1"]["n"] == 2  # the same edits, seed for seed


def test_bench_offline_and_missing_data_are_one_clear_line(mini_env, tiny_clip, tiny_dino, tmp_path, capsys,
                                                           monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    for args, expected in ((["--suite", "emu-test"], "--repo-type dataset"),
                           (["--suite", "magicbrush-test"], "test.zip"),
                           (["--suite", str(tmp_path / "none.jsonl")], "no such suite")):
        code = main(["bench", *args, "--out-dir", str(tmp_path / "o"), "--clip", str(tiny_clip),
                     "--dino", str(tiny_dino), "--device", "cpu"])
        err = capsys.readouterr().err
        assert code == 2 and err.startswith("icedit: error:") and expected in err, err


def test_the_prepared_table_script_runs_in_smoke_mode(mini_env, tiny_clip, tiny_dino, tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    env = dict(os.environ, SMOKE="1", PYTHON=sys.executable, OUT=str(tmp_path / "out"), N="2",
               CLIP_B=str(tiny_clip), DINO=str(tiny_dino), EMU=str(emu_parquet(tmp_path)),
               MAGICBRUSH=str(magicbrush_folder(tmp_path)))
    done = subprocess.run(["bash", str(root / "lab" / "2026-12-04_gpu_bench_tables" / "run.sh")], cwd=root, env=env,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    tag = tiny_clip.name
    for run in (f"emu_icedit_{tag}", f"emu_training_free_{tag}", f"magicbrush_icedit_{tag}"):
        assert (tmp_path / "out" / run / "table.md").is_file(), run
    assert "paired_with" in json.loads((tmp_path / "out" / f"emu_training_free_{tag}" / "results.json").read_text())
