"""Probe: the training-free inversion framework on base v2's T2I (run from the base-v2 worktree, whose
data/models/mini is the new base): four held-out edits, with the IC prompt and with the descriptive caption.
Figure: inversion_probe.png (right halves). Session 24: 0 of 8 right; the left half reproduced the source in
4 of 8 (the dark- and light-background restyle/background cases did not)."""
import random, sys, torch
torch.set_num_threads(1)
sys.path.insert(0, ".")
from icedit_lib import shapesworld as sw
from icedit_lib.inversion import InversionEditor
from icedit_lib.figures import edit_grid
ed = InversionEditor.from_registry("mini-t2i", device="cpu")
ed.pipe.set_progress_bar_config(disable=True)
rows = []
for i, kind in enumerate(["background", "restyle", "add", "recolor"]):
    pair = sw.random_pair(random.Random(50 + i), kind=kind, split="eval")
    src = sw.render(pair.source)
    cap = sw.diptych_caption(pair.source, pair.edit)
    for prompt, mode in ((pair.instruction, "ic"), (cap, "direct")):
        r = ed.edit(src, prompt, seed=i, steps=28, prompt_mode=mode)
        got = sw.read_scene(r.image).exact
        left = sw.read_scene(r.diptych.crop((0, 0, 64, 64))).exact
        print(kind, mode, "ok" if got == pair.target else "fail", "| left reproduces source:", left == pair.source, flush=True)
        rows.append(dict(source=src, instruction=f"{kind} {mode}", result=r.diptych.crop((64,0,128,64)), target=sw.render(pair.target), ok=got == pair.target))
edit_grid(rows, title="inversion").savefig("lab/2026-12-05_base_v2/inversion_probe.png", dpi=60)
