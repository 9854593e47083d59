import random, sys, torch
torch.set_num_threads(1)
sys.path.insert(0, ".")
from icedit_lib import shapesworld as sw
from icedit_lib.inversion import InversionEditor
from icedit_lib.diptych import make_diptych, plan_layout
ed = InversionEditor.from_registry("mini-t2i", device="cpu")
pipe = ed.pipe; pipe.set_progress_bar_config(disable=True)
for iters in (0, 1, 3):
    ed.fixed_point_steps = iters
    ok = 0
    for i in range(8):
        pair = sw.random_pair(random.Random(50 + i), split="eval")
        src = sw.render(pair.source)
        cap = sw.diptych_caption(pair.source, None)
        layout = plan_layout(src.size, ed.panel_width, ed.token_pixels)
        dip, _ = make_diptych(src, layout)
        inv = ed.invert(dip, cap, 28, 3.5)
        out = pipe(prompt=cap, height=64, width=128, num_inference_steps=28, guidance_scale=3.5, latents=inv.noise,
                   max_sequence_length=ed.max_sequence_length).images[0]
        ok += sw.read_scene(out.crop((0, 0, 64, 64))).exact == pair.source
    print("fixed-point steps", iters, "left half reconstructed:", ok, "of 8", flush=True)
