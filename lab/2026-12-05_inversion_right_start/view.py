"""Six held-out edits through the probe's editor (fixed-point inversion, left held, copy-caption inversion), the
right half started from RIGHT_NOISE fresh noise: diptychs with the IC prompt, with the caption, and the target.

    python lab/2026-12-05_inversion_right_start/view.py RIGHT_NOISE INJECT_STEPS OUT.png
"""
import sys; sys.path.insert(0, "."); sys.path.insert(0, "lab/2026-12-05_inversion_right_start")
import torch; torch.set_num_threads(1)
from probe import ProbeEditor
from icedit_lib import shapesworld as sw
from icedit_lib.evaluation import scoring_rows
from icedit_lib.images import load_image
from icedit_lib.suites import load_suite
from icedit_lib.inversion import InjectionConfig
from PIL import Image
ed = ProbeEditor.from_registry("mini-t2i", device="cpu"); ed.pipe.set_progress_bar_config(disable=True)
ed.fixed_point_steps, ed.hold_left, ed.right_noise, ed.copy_inversion = 3, True, float(sys.argv[1]), True
rows = scoring_rows(load_suite("/tmp/training_free_suite/suite.jsonl"  # made by probe.py))[:6]
canvas = Image.new("RGB", (128 * 2 + 64, 64 * 6), "white")
for i, row in enumerate(rows):
    src = load_image(row["image_path"])
    for j, (text, mode) in enumerate((("instruction", "ic"), ("caption", "direct"))):
        r = ed.edit(src, row[text], seed=0, steps=28, prompt_mode=mode, injection=InjectionConfig(steps=float(sys.argv[2])))
        canvas.paste(r.diptych.resize((128, 64)), (j * 128, 64 * i))
        print(i, mode, row[text][:60], "| right:", sw.read_scene(r.image).exact is not None, sw.read_scene(r.image).exact == row["source"], flush=True)
    canvas.paste(sw.render(row["target"]), (256, 64 * i))
canvas.save(sys.argv[3])
