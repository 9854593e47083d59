"""Are the colours the T2I confuses the ones its text encoders put closest? For one caption per colour (the same
one-object scene, only the colour word differs; each background), the distance between colours in the frozen T5's
output embedding of the colour word and in CLIP's pooled vector, normalised by the mean over all fifteen pairs
(so 1.0 is an average pair), beside the VAE latent gap of `hue_gaps.py`.

    python lab/2026-12-06_latent_design/colour_word_distances.py [MODEL_DIR]
"""
import itertools
import sys

import torch
from diffusers import FluxPipeline

from icedit_lib import miniature as mini, shapesworld as sw

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from hue_gaps import hue_gaps  # noqa: E402

model_dir = sys.argv[1] if len(sys.argv) > 1 else "data/models/mini"
torch.set_num_threads(1)
pipe = FluxPipeline.from_pretrained(model_dir, transformer=None)
pairs = list(itertools.combinations(sw.COLORS, 2))
t5_gap = dict.fromkeys(pairs, 0.0)
pooled_gap = dict.fromkeys(pairs, 0.0)
for background in sw.BACKGROUNDS:
    t5, pooled = {}, {}
    for color in sw.COLORS:
        scene = sw.Scene(background, "filled", (sw.Obj("square", color, "large", "center"),))
        caption = sw.describe_scene(scene).capitalize() + "."
        with torch.no_grad():
            prompt_embeds, pooled_embeds, _ = pipe.encode_prompt(caption, None, max_sequence_length=mini.T5_MAX_LENGTH)
        ids = pipe.tokenizer_2(caption, max_length=mini.T5_MAX_LENGTH, truncation=True).input_ids
        word = pipe.tokenizer_2(color, add_special_tokens=False).input_ids
        position = next(i for i in range(len(ids)) if ids[i:i + len(word)] == word)
        t5[color], pooled[color] = prompt_embeds[0, position], pooled_embeds[0]
    for a, b in pairs:
        t5_gap[a, b] += (t5[a] - t5[b]).norm().item()
        pooled_gap[a, b] += (pooled[a] - pooled[b]).norm().item()
latent = hue_gaps(model_dir)
norm = {name: sum(g.values()) / len(g) for name, g in (("t5", t5_gap), ("pooled", pooled_gap), ("latent", latent))}
print(f"{model_dir}: distance between colours, relative to the mean pair")
print("pair              T5 colour word   CLIP pooled   VAE latent")
for pair in sorted(pairs, key=latent.get):
    print(f"  {'-'.join(pair):15} {t5_gap[pair] / norm['t5']:14.2f} {pooled_gap[pair] / norm['pooled']:13.2f}"
          f" {latent[pair] / norm['latent']:12.2f}")
