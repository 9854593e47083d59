import random, sys, torch
torch.set_num_threads(1)
sys.path.insert(0, ".")
from PIL import Image
from icedit_lib import registry, shapesworld as sw
pipe, _ = registry.load_t2i_pipeline("mini-t2i", device="cpu"); pipe.set_progress_bar_config(disable=True)
rng = random.Random(7); ims = []
for i in range(4):
    scene = sw.random_scene(rng, split="eval", n_objects=rng.choice([1, 2]))
    cap = sw.diptych_caption(scene, None, describe_left=True)
    print(cap)
    ims.append(pipe(cap, height=64, width=128, num_inference_steps=28, guidance_scale=3.5, max_sequence_length=80, generator=torch.Generator().manual_seed(i)).images[0])
    ims.append(sw.render_diptych(scene, scene))
canvas = Image.new("RGB", (128 * 2, 64 * 4), "white")
for k, im in enumerate(ims):
    canvas.paste(im, ((k % 2) * 128, (k // 2) * 64))
canvas.resize((512, 512), Image.NEAREST).save("lab/2026-12-05_base_v2/t2i_diptych_probe.png")
