import random, sys, torch
torch.set_num_threads(1)
sys.path.insert(0, ".")
from icedit_lib import shapesworld as sw
from icedit_lib.inversion import InversionEditor, InjectionConfig
ed = InversionEditor.from_registry("mini-t2i", device="cpu")
ed.pipe.set_progress_bar_config(disable=True)
for i in range(6):
    pair = sw.random_pair(random.Random(50 + i), split="eval")
    src = sw.render(pair.source)
    cap = sw.diptych_caption(pair.source, None)
    for inj in (InjectionConfig(), InjectionConfig(steps=0.0)):
        r, inv = ed.edit(src, cap, seed=i, steps=28, prompt_mode="direct", injection=inj, return_inversion=True)
        got = sw.read_scene(r.image).exact
        left = sw.read_scene(r.diptych.crop((0, 0, 64, 64))).exact
        print(i, "inject steps", inj.steps, "right copies:", got == pair.source, "| left reproduces:", left == pair.source, flush=True)
