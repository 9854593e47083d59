import random, sys, torch
torch.set_num_threads(1)
sys.path.insert(0, ".")
from icedit_lib import registry, shapesworld as sw
pipe, _ = registry.load_t2i_pipeline("mini-t2i", device="cpu"); pipe.set_progress_bar_config(disable=True)
rng = random.Random(7); both = left_ok = same = 0; n = 12
for i in range(n):
    scene = sw.random_scene(rng, split="eval", n_objects=rng.choice([1, 2]))
    cap = sw.diptych_caption(scene, None, describe_left=True)
    img = pipe(cap, height=64, width=128, num_inference_steps=28, guidance_scale=3.5, max_sequence_length=80,
               generator=torch.Generator().manual_seed(i)).images[0]
    l = sw.read_scene(img.crop((0, 0, 64, 64))).exact; r = sw.read_scene(img.crop((64, 0, 128, 64))).exact
    left_ok += l == scene; both += (l == scene and r == scene); same += (l is not None and l == r)
print(f"described copy diptychs: left exact {left_ok}/{n}, both halves exact {both}/{n}, right == left {same}/{n}")
