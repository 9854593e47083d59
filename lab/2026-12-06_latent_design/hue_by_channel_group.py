"""Where the T2I draws an object in the wrong colour, which colour do its latents hold in the two channels the
decoder reads (6 and 8) and in the fourteen it ignores (trained with N(0, 1) there)? Per-channel normalisation
spread the hues apart in those fourteen only, so a model that learned the hue there but not in the used two
would still be decoded wrong.

For each held-out scene of the evaluation (seed 2024, same seeds and settings as `pretrain_eval.evaluate_t2i`)
whose decoded image has a wrongly coloured object, the generated latent is compared, over that object's latent
footprint, with the VAE's latents of the true scene with the object recoloured to each of the six colours; the
nearest colour is read in each channel group.

    python lab/2026-12-06_latent_design/hue_by_channel_group.py MODEL_DIR [--n 128]
"""
import argparse
import collections
import random

import torch

from icedit_lib import miniature as mini, registry, shapesworld as sw
from icedit_lib.corpus import to_tensor

USED = [6, 8]
IGNORED = [c for c in range(16) if c not in USED]

p = argparse.ArgumentParser()
p.add_argument("model_dir")
p.add_argument("--n", type=int, default=128)
a = p.parse_args()
torch.set_num_threads(1)
pipe, _ = registry.load_t2i_pipeline(a.model_dir, device="cpu")
vae = pipe.vae
rng = random.Random(2024)
scenes = [sw.random_scene(rng, split="eval") for _ in range(a.n)]
tally = collections.Counter()
for i, scene in enumerate(scenes):
    with torch.no_grad():
        packed = pipe(sw.describe_scene(scene).capitalize() + ".", height=64, width=64, num_inference_steps=28,
                      guidance_scale=3.5, max_sequence_length=mini.T5_MAX_LENGTH, output_type="latent",
                      generator=torch.Generator("cpu").manual_seed(i)).images
        z = pipe._unpack_latents(packed, 64, 64, pipe.vae_scale_factor)
        image = pipe.image_processor.postprocess(vae.decode(z / vae.config.scaling_factor + vae.config.shift_factor).sample)[0]
    got = sw.read_scene(image).scene
    if got is None:
        continue
    for k, obj in enumerate(scene.objects):
        drawn = got.object_at(obj.cell)
        if drawn is None or drawn.color == obj.color:
            continue
        variants = {}
        for color in sw.COLORS:
            objects = tuple(sw.Obj(o.shape, color, o.size, o.cell) if j == k else o for j, o in enumerate(scene.objects))
            with torch.no_grad():
                ref = vae.encode(to_tensor([sw.render(sw.Scene(scene.background, scene.style, objects))])).latent_dist.mean
            variants[color] = (ref - vae.config.shift_factor) * vae.config.scaling_factor
        footprint = torch.stack([variants[c] for c in sw.COLORS]).std(0).sum(1, keepdim=True) > 0.05
        nearest = {}
        for group, channels in (("used", USED), ("ignored", IGNORED)):
            dist = {c: ((z - v)[:, channels] * footprint).pow(2).sum().item() for c, v in variants.items()}
            nearest[group] = min(dist, key=dist.get)
        row = (f"asked {obj.color}, decoded {drawn.color}: used channels read {nearest['used']}, "
               f"ignored channels read {nearest['ignored']}")
        print(f"scene {i:3d} {row}")
        tally["wrong"] += 1
        tally["used=asked"] += nearest["used"] == obj.color
        tally["ignored=asked"] += nearest["ignored"] == obj.color
        tally["ignored=decoded"] += nearest["ignored"] == drawn.color
print(dict(tally))
