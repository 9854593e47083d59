"""Language pretraining, the time box, and the one-command pretraining of every stage."""
import json
import math
import random

import pytest
import torch

from icedit_lib import language as L
from icedit_lib import miniature as mini
from icedit_lib import shapesworld as sw


def test_labelled_texts_label_each_word_with_its_object():
    rng = random.Random(0)
    scene = sw.Scene("white", "filled", (sw.Obj("circle", "red", "small", "top left"),
                                         sw.Obj("square", "blue", "large", "center")))
    text = L.caption(scene, rng)
    assert text.string == sw.describe_scene(scene).capitalize() + "."
    red = next(w for w in text.words if w.text == "red")
    blue = next(w for w in text.words if w.text == "blue")
    assert red.attribute == "color" and blue.attribute == "color"
    assert L.TOKEN_FIELDS["cell"][red.labels["cell"]] == "top left"
    assert L.TOKEN_FIELDS["cell"][blue.labels["cell"]] == "center"
    assert L.TOKEN_FIELDS["shape"][blue.labels["shape"]] == "square"
    assert text.cell_labels()["shape"][0] == L.CELL_FIELDS["shape"].index("circle")
    # an instruction states only what it says: "the circle" leaves its color and cell unstated
    edit = sw.Edit("recolor", scene.objects[0], "green")
    words = L.instruction_words(scene, edit, rng, spec_template=True)
    circle = next(w for w in words if w.text == "circle")
    assert L.TOKEN_FIELDS["role"][circle.labels["role"]] == "referent"
    assert L.TOKEN_FIELDS["color"][circle.labels["color"]] == "unstated"
    assert " ".join(w.text for w in words) in [t.format(ref="the circle", color="green")
                                               for t in sw.TEMPLATES["recolor"]]


def test_every_kind_of_text_tokenizes_with_labels_aligned():
    from icedit_lib.pretrain_text import encode_texts

    tok = mini.build_tokenizer("t5")
    rng = random.Random(1)
    texts = [L.random_text(rng, kind=k) for k in L.KINDS for _ in range(20)]
    batch = encode_texts(tok, texts, mini.T5_MAX_LENGTH)
    for i, text in enumerate(texts):
        for j in range(mini.T5_MAX_LENGTH):
            k = int(batch["word"][i, j])
            if k >= 0:  # the token's word, found by offsets, is the word the token spells
                piece = tok.convert_ids_to_tokens(int(batch["input_ids"][i, j])).lstrip("\u2581")
                assert piece in L.normalize(text.words[k].text) or piece == "", (piece, text.words[k].text)
        assert (batch["edit"][i] == text.text_labels["edit"]).all()


def test_step_budget_fits_the_length_to_the_time():
    from icedit_lib.schedule import StepBudget, warmup_cosine

    clock = iter(range(1000))
    budget = StepBudget(seconds=100, probe_steps=10)
    import icedit_lib.schedule as schedule

    real = schedule.time.perf_counter
    schedule.time.perf_counter = lambda: float(next(clock))  # one second a step
    try:
        total = 1_000_000
        for step in range(1, 12):
            total = budget.update(step, total)
    finally:
        schedule.time.perf_counter = real
    assert budget.fitted and total == 11 + 90  # 10 s spent probing, 90 steps left
    assert warmup_cosine(0, 1.0, 10, 100) == pytest.approx(0.1)
    assert warmup_cosine(100, 1.0, 10, 100, floor=0.1) == pytest.approx(0.1)


def test_the_judges_schedule_multiplies_the_warm_up_into_the_cosine():
    from icedit_lib.schedule import warmup_times_cosine

    assert warmup_times_cosine(0, 1.0, 1000) == pytest.approx(1 / 200)  # the warm-up's first step, cosine at 1
    assert warmup_times_cosine(99, 1.0, 1000) == pytest.approx(0.5 * (0.1 + 0.45 * (1 + math.cos(math.pi * 0.099))))
    assert warmup_times_cosine(1000, 1.0, 1000) == pytest.approx(0.1)  # the floor at the last step


def test_text_pretraining_smoke_saves_encoders_that_the_pipeline_loads(tmp_path):
    from diffusers import FluxFillPipeline

    from icedit_lib import pretrain_text

    folder = mini.assemble(tmp_path / "mini")
    rec = pretrain_text.main(["--out-dir", str(folder), "--work-dir", str(tmp_path / "w"), "--steps", "3",
                              "--batch-size", "8", "--warmup", "1", "--probe-texts", "60", "--threads", "1"])
    assert rec["step"] == 3 and set(rec["probe"]["t5_binding"]) == {"cell", "shape", "color", "size"}
    assert all(0 <= v["accuracy"] <= 1 for v in rec["probe"]["t5_binding"].values())
    pipe = FluxFillPipeline.from_pretrained(folder)
    assert pipe.tokenizer_2("MAKE it Red!").input_ids == pipe.tokenizer_2("make it red").input_ids
    saved = pipe.text_encoder_2.state_dict()
    assert json.loads((folder / "training_text.json").read_text())["step"] == 3
    # resumable: the same command with more steps continues from the state
    rec = pretrain_text.main(["--out-dir", str(folder), "--work-dir", str(tmp_path / "w"), "--steps", "4",
                              "--batch-size", "8", "--warmup", "1", "--probe-texts", "60", "--threads", "1"])
    assert rec["step"] == 4
    assert any(not torch.equal(v, FluxFillPipeline.from_pretrained(folder).text_encoder_2.state_dict()[k])
               for k, v in saved.items())


def test_pretrain_all_runs_every_stage_and_resumes_by_skipping_finished_ones(tmp_path, monkeypatch):
    from icedit_lib import pretrain

    out = tmp_path / "base"
    argv = ["--all", "--out-dir", str(out), "--minutes", "0.01", "--threads", "1", "--eval-n", "1", "--device", "cpu",
            "--extra", "text:--steps 2 --batch-size 4 --probe-texts 40",
            "--extra", "vae:--steps 2 --batch-size 2 --eval-panels 2",
            "--extra", "t2i:--steps 2 --batch-size 2 --warmup 1",
            "--extra", "fill:--steps 2 --batch-size 2 --warmup 1"]
    progress = pretrain.main(argv)
    assert list(progress["stages"]) == list(pretrain.STAGES)
    for record in ("training_text.json", "vae/training.json", "training_t2i.json", "training_fill.json"):
        assert (out / record).is_file(), record
    fill_record = json.loads((out / "training_fill.json").read_text())
    assert fill_record["evaluation"] is not None
    assert fill_record["args"]["scene_loss"] == 0.02 and fill_record["args"]["fill_kinds"] == "right"  # base v3's
    from diffusers import FluxFillPipeline

    pipe = FluxFillPipeline.from_pretrained(out)
    assert pipe.transformer.config.in_channels == mini.fill_in_channels()
    ran = []
    monkeypatch.setattr(pretrain, "run_stage", lambda stage, argv: ran.append(stage) or {})
    pretrain.main(argv)
    assert ran == []  # every stage finished: nothing runs again


def test_text_batches_from_workers_equal_the_ones_made_here():
    import functools

    from icedit_lib.checkpoints import step_data
    from icedit_lib.pretrain_text import step_batch

    make = functools.partial(step_batch, 5, 4)
    here = list(step_data(make, 2, 5, workers=0))
    there = list(step_data(make, 2, 5, workers=2))
    assert [s for s, _ in there] == [2, 3, 4]
    for (_, (ca, ta)), (_, (cb, tb)) in zip(here, there):
        assert all(torch.equal(ca[k], cb[k]) for k in ca) and all(torch.equal(ta[k], tb[k]) for k in ta)


def test_worker_processes_make_exactly_the_steps_the_main_process_would(mini_dir):
    import numpy as np

    from icedit_lib import pretrain_flux

    args = pretrain_flux.parse_args(["--stage", "fill", "--batch-size", "2", "--data-workers", "2"])
    got = list(pretrain_flux.step_batches(args, 3, 8))
    assert [s for s, _ in got] == list(range(3, 8))
    for step, ex in got:
        ref = pretrain_flux.step_examples(args, step)
        assert np.array_equal(np.asarray(ex["images"]), ref["images"]) and list(ex["captions"]) == ref["captions"]
        assert np.array_equal(np.asarray(ex["masks"]), ref["masks"])


def test_the_prepared_gpu_script_runs_on_the_cpu_in_smoke_mode(tmp_path):
    """The device script's own path (throughput benchmark, every stage, the packed outputs), at miniature sizes."""
    import os
    import subprocess
    import sys
    import tarfile
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    script = root / "lab" / "2026-12-04_gpu_pretrain_from_scratch" / "run.sh"
    env = dict(os.environ, SMOKE="1", OUT=str(tmp_path / "out"), PYTHON=sys.executable)
    done = subprocess.run(["bash", str(script)], cwd=root, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    out = tmp_path / "out"
    assert json.loads((out / "pretrain_throughput.json").read_text())["best_examples_per_s"] > 0
    assert "rc=" not in (out / "machine.txt").read_text()
    names = tarfile.open(out / "base_fill.tgz").getnames() + tarfile.open(out / "base_t2i.tgz").getnames()
    for part in ("transformer", "transformer_t2i", "text_encoder_2", "tokenizer_2", "vae", "training_fill.json"):
        assert any(n.lstrip("./").startswith(part) for n in names), part
    assert not any("work" in n.split("/") for n in names)


def test_learning_curve_reads_the_logged_evaluations(tmp_path):
    from icedit_lib import learning_curve

    work = tmp_path / "run"
    work.mkdir()
    ev = {"t2i_exact": 0.25, "t2i_exact_by_objects": {"1": 0.5, "2": 0.25, "3": 0.0, "4": None}, "t2i_cells": 0.9,
          "t2i_shape": 0.5, "t2i_color": 0.4, "t2i_size": 0.7, "t2i_background": 1.0, "t2i_style": 1.0, "n": 8}
    lines = [{"step": 25, "loss": 0.1}, {"step": 2000, "eval": ev}, {"step": 1000, "eval": dict(ev, t2i_exact=0.1)}]
    (work / "log.jsonl").write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    curves = learning_curve.main(["--run", f"a run={work}:16", "--out-dir", str(tmp_path / "out")])
    assert [p["examples"] for p in curves["a run"]] == [16000, 32000]
    assert curves["a run"][1]["exact_by_objects"]["1"] == 0.5
    assert (tmp_path / "out" / "figure.png").stat().st_size > 1000
    # a later session continues the run in a fresh folder: its points extend the curve, an old label stays
    later = tmp_path / "later"
    later.mkdir()
    (later / "log.jsonl").write_text(json.dumps({"step": 3000, "eval": dict(ev, t2i_exact=0.5)}) + "\n")
    (tmp_path / "out" / "keep.json").write_text(json.dumps({**curves, "old": curves["a run"][:1]}))
    extended = learning_curve.main(["--run", f"a run={later}", "--previous", str(tmp_path / "out" / "keep.json"),
                                    "--out-dir", str(tmp_path / "out")])
    assert [p["step"] for p in extended["a run"]] == [1000, 2000, 3000] and extended["a run"][-1]["exact"] == 0.5
    assert [p["step"] for p in extended["old"]] == [1000]


def test_learning_curve_reads_a_chain_of_fill_logs(tmp_path):
    from icedit_lib import learning_curve

    def fill_eval(one_change):
        return {"fill_one_change": one_change, "fill_copy": 1.0, "fill_kept_objects": 0.9, "n": 8,
                "fill_one_change_per_type": {"move": one_change / 2, "recolor": one_change}}

    first, later = tmp_path / "first", tmp_path / "later_log.jsonl"
    first.mkdir()
    (first / "log.jsonl").write_text(json.dumps({"step": 1000, "eval": fill_eval(0.25)}) + "\n")
    later.write_text(json.dumps({"step": 5, "loss": 0.1}) + "\n" + json.dumps({"step": 2000, "eval": fill_eval(0.5)}))
    curves = learning_curve.main(["--run", f"chain={first}", "--run", f"chain={later}:32",
                                  "--out-dir", str(tmp_path / "out")])
    assert [(p["examples"], p["one_change"], p["per_type"]["move"]) for p in curves["chain"]] == \
        [(16000, 0.25, 0.125), (64000, 0.5, 0.25)]
    assert (tmp_path / "out" / "figure.png").stat().st_size > 1000
    t2i = tmp_path / "t2i"
    t2i.mkdir()
    (t2i / "log.jsonl").write_text(json.dumps({"step": 1000, "eval": {
        "t2i_exact": 0.1, "t2i_exact_by_objects": None, "n": 8,
        **{f"t2i_{k}": 0.5 for k in ("cells", "shape", "color", "size", "background", "style")}}}))
    with pytest.raises(ValueError, match="mix T2I and Fill"):
        learning_curve.main(["--run", f"t2i={t2i}", "--previous", str(tmp_path / "out" / "curve.json"),
                             "--out-dir", str(tmp_path / "mixed")])
    assert not (tmp_path / "mixed").exists()  # refused before anything was written


def test_training_run_resumes_where_it_stopped_with_its_log_trimmed(tmp_path):
    from icedit_lib.checkpoints import TrainingRun

    def train(total, stop_after=None):
        torch.manual_seed(0)
        model = torch.nn.Linear(3, 1)
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        run = TrainingRun(tmp_path / "w", model, opt, total, "t", checkpoint_minutes=0.0, log_every=1)
        while run.step < run.total and run.step != stop_after:
            x = torch.ones(4, 3) * (run.step + 1)
            loss = model(x).pow(2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            run.advance(loss)
        run.close()
        return model, run

    import shutil

    train(6, stop_after=3)
    with open(tmp_path / "w" / "log.jsonl", "a") as f:  # a step logged after the last save, as a kill leaves it
        f.write(json.dumps({"step": 4, "loss": 0.0}) + "\n")
    resumed, run = train(6)
    steps = [json.loads(x)["step"] for x in (tmp_path / "w" / "log.jsonl").read_text().splitlines()]
    assert steps == [1, 2, 3, 4, 5, 6]  # the lost step's line is dropped, redone once
    shutil.rmtree(tmp_path / "w")
    straight, _ = train(6)
    assert run.step == 6 and torch.equal(resumed.weight, straight.weight)  # the same as an uninterrupted run
