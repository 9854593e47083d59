"""The `icedit` CLI contract: outputs, and one clear line for every kind of bad input."""
import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from icedit_lib import shapesworld as sw
from icedit_lib.cli import main


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    err = capsys.readouterr().err.strip()
    return code, err


def test_render_is_pixel_identical(tmp_path, capsys):
    scene = sw.Scene.from_dict({"background": "black", "style": "outline", "objects": [
        {"shape": "triangle", "color": "yellow", "size": "large", "cell": "center"},
        {"shape": "diamond", "color": "purple", "size": "small", "cell": "bottom right"}]})
    (tmp_path / "s.json").write_text(scene.to_json())
    assert run(capsys, "render", "--scene", tmp_path / "s.json", "--out", tmp_path / "s.png") == (0, "")
    assert np.array_equal(np.asarray(Image.open(tmp_path / "s.png")), np.asarray(sw.render(scene)))
    (tmp_path / "bad.json").write_text('{"background": "pink"}')
    code, err = run(capsys, "render", "--scene", tmp_path / "bad.json", "--out", tmp_path / "b.png")
    assert code == 2 and err.startswith("icedit: error:") and "\n" not in err


@pytest.fixture
def source_png(tmp_path):
    path = tmp_path / "src.png"
    sw.render(sw.Scene("white", "filled", (sw.Obj("circle", "red", "large", "center"),))).save(path)
    return path


def test_edit_writes_the_panel_at_source_size(mini_env, source_png, tmp_path, capsys):
    out = tmp_path / "out.png"
    code, err = run(capsys, "edit", "--image", source_png, "--instruction", "make the red circle blue", "--out", out,
                    "--steps", 2, "--device", "cpu")
    assert code == 0, err
    assert Image.open(out).size == (64, 64)
    assert "warning" not in err


def test_edit_names_unknown_words_on_stderr(mini_env, source_png, tmp_path, capsys):
    out = tmp_path / "out.png"
    code, err = run(capsys, "edit", "--image", source_png, "--instruction", "Make the Zebra BLUE please!!",
                    "--out", out, "--steps", 1, "--device", "cpu", "--adapter", "none")
    assert code == 0 and out.exists()
    assert err.strip().startswith("icedit: warning:") and "'Zebra'" in err and "'BLUE'" not in err


def odd_images(tmp_path):
    """Each odd mode, converted and edited, or refused with a reason."""
    rgba = Image.new("RGBA", (40, 30), (255, 0, 0, 128))
    gray = Image.new("L", (40, 30), 100)
    sixteen = Image.fromarray((np.arange(1200).reshape(30, 40) * 50).astype(np.uint16))
    palette = Image.new("RGB", (40, 30), "blue").convert("P")
    paths = {}
    for name, img in (("rgba", rgba), ("gray", gray), ("sixteen", sixteen), ("palette", palette)):
        paths[name] = tmp_path / f"{name}.png"
        img.save(paths[name])
    return paths


def test_odd_modes_are_converted(mini_env, tmp_path, capsys):
    for name, path in odd_images(tmp_path).items():
        out = tmp_path / f"out_{name}.png"
        code, err = run(capsys, "edit", "--image", path, "--instruction", "x", "--out", out, "--steps", 1)
        assert code == 0, (name, err)
        assert Image.open(out).size == (40, 30) and Image.open(out).mode == "RGB"


def bad_inputs(tmp_path):
    (tmp_path / "text.png").write_text("not an image at all")
    good = tmp_path / "good.png"
    Image.new("RGB", (64, 64), "red").save(good)
    data = good.read_bytes()
    (tmp_path / "trunc.png").write_bytes(data[: len(data) // 2])
    Image.new("RGB", (1, 1)).save(tmp_path / "one.png")
    Image.new("1", (9000, 9000)).save(tmp_path / "bomb.png")  # 81 MP, a few kB on disk
    return {
        "missing": ["--image", tmp_path / "nope.png", "--instruction", "x"],
        "not an image": ["--image", tmp_path / "text.png", "--instruction", "x"],
        "truncated": ["--image", tmp_path / "trunc.png", "--instruction", "x"],
        "1x1": ["--image", tmp_path / "one.png", "--instruction", "x"],
        "bomb": ["--image", tmp_path / "bomb.png", "--instruction", "x"],
        "empty instruction": ["--image", good, "--instruction", "   "],
        "unknown adapter": ["--image", good, "--instruction", "x", "--adapter", "no-such-adapter"],
        "hub model offline": ["--image", good, "--instruction", "x", "--base", "flux-fill-dev"],
        "bad output type": ["--image", good, "--instruction", "x", "--out", tmp_path / "out.xyz"],
    }


def test_bad_input_gives_one_clear_line(mini_env, tmp_path, capsys):
    out = tmp_path / "keep.png"
    Image.new("RGB", (8, 8), "green").save(out)
    before = out.read_bytes()
    for name, args in bad_inputs(tmp_path).items():
        if "--out" not in args:
            args = args + ["--out", out]
        code, err = run(capsys, "edit", *args, "--steps", 1)
        assert code == 2, name
        assert err.startswith("icedit: error:") and "\n" not in err and "Traceback" not in err, (name, err)
    assert out.read_bytes() == before  # nothing was overwritten


def test_negative_steps_and_adapter_for_another_base(mini_env, flux_shaped_dir, source_png, tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        main(["edit", "--image", str(source_png), "--instruction", "x", "--out", str(tmp_path / "o.png"),
              "--steps", "-3"])
    assert e.value.code == 2
    assert "must be at least 1" in capsys.readouterr().err
    # a LoRA on the miniature's x_embedder (192 inputs) cannot fit a FLUX-shaped base (384)
    from tests.test_registry import _save_lora
    from icedit_lib import registry

    _save_lora(registry.load_fill_pipeline(str(mini_env), device="cpu")[0], tmp_path / "lora", targets=("x_embedder",))
    code, err = run(capsys, "edit", "--image", source_png, "--instruction", "x", "--out", tmp_path / "o.png",
                    "--base", flux_shaped_dir, "--adapter", tmp_path / "lora", "--steps", 1)
    assert code == 2 and "does not fit base" in err


def test_edit_batch(mini_env, tmp_path, capsys):
    from icedit_lib.suites import make_suite

    suite = make_suite(tmp_path / "suite", n=3, seed=1)
    code, err = run(capsys, "edit-batch", "--suite", suite, "--out-dir", tmp_path / "out", "--steps", 1)
    assert code == 0, err
    rows = [json.loads(line) for line in suite.read_text().splitlines()]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(f"{r['id']}.png" for r in rows)
    (tmp_path / "bad.jsonl").write_text('{"id": "../escape", "image": "x.png", "instruction": "y"}\n')
    code, err = run(capsys, "edit-batch", "--suite", tmp_path / "bad.jsonl", "--out-dir", tmp_path / "o2")
    assert code == 2 and "safe file name" in err


def test_console_script_is_installed():
    out = subprocess.run([sys.executable, "-m", "icedit_lib.cli", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "edit-batch" in out.stdout


def test_generate_and_generate_batch(mini_env, tmp_path, capsys):
    scene = sw.random_scene(__import__("random").Random(0))
    (tmp_path / "s.json").write_text(scene.to_json())
    code, err = run(capsys, "generate", "--scene", tmp_path / "s.json", "--out", tmp_path / "g.png", "--steps", 2)
    assert code == 0, err
    assert Image.open(tmp_path / "g.png").size == (64, 64)
    (tmp_path / "scenes.jsonl").write_text(scene.to_json() + "\n" + json.dumps({"scene": scene.to_dict()}) + "\n" +
                                           json.dumps({"id": "red-one", "scene": scene.to_dict()}) + "\n")
    code, err = run(capsys, "generate-batch", "--scenes", tmp_path / "scenes.jsonl", "--out-dir", tmp_path / "g",
                    "--steps", 1)
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "g").iterdir()) == ["00000.png", "00001.png", "red-one.png"]
    (tmp_path / "unsafe.jsonl").write_text(json.dumps({"id": "../x", "scene": scene.to_dict()}) + "\n")
    code, err = run(capsys, "generate-batch", "--scenes", tmp_path / "unsafe.jsonl", "--out-dir", tmp_path / "g3")
    assert code == 2 and "not a safe file name" in err
    (tmp_path / "bad.jsonl").write_text("{not json\n")
    code, err = run(capsys, "generate-batch", "--scenes", tmp_path / "bad.jsonl", "--out-dir", tmp_path / "g2")
    assert code == 2 and "not valid JSON" in err


def test_eval_scores_a_suite(mini_env, tmp_path, capsys):
    from icedit_lib.suites import make_suite

    suite = make_suite(tmp_path / "suite", n=4, seed=3)
    code, err = run(capsys, "eval", "--suite", suite, "--out-dir", tmp_path / "ev", "--steps", 1)
    assert code == 0, err
    result = json.loads((tmp_path / "ev" / "results.json").read_text())
    assert result["summary"]["overall"]["n"] == 4 and len(result["rows"]) == 4
    assert (tmp_path / "ev" / "table.md").read_text().count("|") > 10
    assert (tmp_path / "ev" / "figure.png").stat().st_size > 0
    assert len(list((tmp_path / "ev" / "images").glob("*.png"))) == 4
    # the same suite with another setting, compared edit by edit with the first run
    code, err = run(capsys, "eval", "--suite", suite, "--out-dir", tmp_path / "ev_direct", "--steps", 1,
                    "--prompt", "direct", "--paired-with", tmp_path / "ev")
    assert code == 0, err
    paired = json.loads((tmp_path / "ev_direct" / "paired.json").read_text())
    direct = json.loads((tmp_path / "ev_direct" / "results.json").read_text())["rows"]
    only_direct = sum(d["success"] and not e["success"] for d, e in zip(direct, result["rows"]))
    assert paired["n"] == 4 and paired["only_a"] == only_direct and 0 <= paired["p_success"] <= 1
    # a folder without results, or one that scored another suite, fails before any editing
    code, err = run(capsys, "eval", "--suite", suite, "--out-dir", tmp_path / "ev3", "--paired-with", tmp_path)
    assert code == 2 and "no results.json" in err
    other = make_suite(tmp_path / "other", n=3, seed=3)
    code, err = run(capsys, "eval", "--suite", other, "--out-dir", tmp_path / "ev3", "--paired-with", tmp_path / "ev")
    assert code == 2 and "other rows" in err and not (tmp_path / "ev3").exists()
    # a plain edit suite (no scenes) cannot be scored: one clear line
    (tmp_path / "plain.jsonl").write_text('{"id": "a", "image": "suite/images/0000_add.png", "instruction": "x"}\n')
    code, err = run(capsys, "eval", "--suite", tmp_path / "plain.jsonl", "--out-dir", tmp_path / "ev2")
    assert code == 2 and "cannot be scored" in err


def test_inversion_framework_from_the_cli(mini_env, source_png, tmp_path, capsys):
    code, err = run(capsys, "edit", "--framework", "inversion", "--image", source_png, "--instruction", "make it blue",
                    "--out", tmp_path / "inv.png", "--steps", 2)
    assert code == 0, err
    assert Image.open(tmp_path / "inv.png").size == (64, 64)
    code, err = run(capsys, "edit", "--framework", "inversion", "--adapter", "icedit-lora", "--image", source_png,
                    "--instruction", "x", "--out", tmp_path / "inv2.png")
    assert code == 2 and "training-free" in err
    code, err = run(capsys, "edit", "--framework", "inversion", "--compile", "--image", source_png,
                    "--instruction", "x", "--out", tmp_path / "inv3.png")
    assert code == 2 and "--compile" in err and not (tmp_path / "inv3.png").exists()


def test_training_free_experiment_writes_one_table(mini_env, tmp_path):
    from icedit_lib import experiments

    record = experiments.main(["training-free", "--out-dir", str(tmp_path / "tf"), "--n", "2", "--steps", "1"])
    assert set(record["summaries"]) == {"inversion + IC prompt", "inversion + bare instruction",
                                        "inpaint + IC prompt", "inpaint + bare instruction",
                                        "inpaint + descriptive caption (reference)"}
    rows = json.loads((tmp_path / "tf" / "inpaint_caption" / "results.json").read_text())["rows"]
    assert all(r["instruction"].startswith("A diptych") and r["instruction"].endswith(".") for r in rows)
    table = (tmp_path / "tf" / "table.md").read_text()
    assert table.count("\n| ") == 5 + 1 and (tmp_path / "tf" / "figure.png").exists()
    paired = json.loads((tmp_path / "tf" / "paired.json").read_text())
    assert [(c["a"], c["b"]) for c in paired] == [(a, b) for a, b, _ in experiments.PAIRED["training-free"]]
    assert all(c["n"] == 2 for c in paired)
    (tmp_path / "tf" / "figure.png").unlink()
    again = experiments.main(["training-free", "--out-dir", str(tmp_path / "tf"), "--redraw"])
    assert again["paired"] == paired  # recomputed from the runs' rows alone
    assert (tmp_path / "tf" / "figure.png").exists()  # and the figure drawn again from the summaries
