"""How far apart the shipped VAE puts the six colours (a probe, not a lesson).

A large filled square of each colour at the centre cell, on each background, encoded to its posterior mean; the
distance between two colours is the RMS difference of the 16 x 5 x 5 latent block under the square. Also: which
latent channels vary with the colour there. Then, for the three closest pairs on each background, how far a latent
may drift from one colour toward the other before the decoded panel stops reading exactly.

    python lab/2026-12-06_fill_failures/colour_margins.py [VAE_DIR]
"""
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from diffusers import AutoencoderKL  # noqa: E402
from icedit_lib import shapesworld as sw  # noqa: E402
from icedit_lib.corpus import to_pil, to_tensor  # noqa: E402

vae = AutoencoderKL.from_pretrained(sys.argv[1] if len(sys.argv) > 1 else "data/models/mini/vae").eval()
colours = list(sw.COLORS)
out = {}
for background in sw.BACKGROUNDS:
    latents = {}
    for colour in colours:
        scene = sw.Scene(objects=(sw.Obj("square", colour, "large", "center"),), background=background, style="filled")
        with torch.no_grad():
            latents[colour] = vae.encode(to_tensor([sw.render(scene)])).latent_dist.mean[0, :, 6:11, 6:11]
    spread = torch.stack([latents[c] for c in colours]).std(0).mean((1, 2))
    pairs = {f"{a}-{b}": float((latents[a] - latents[b]).pow(2).mean().sqrt())
             for i, a in enumerate(colours) for b in colours[i + 1:]}
    out[background] = {"channel_spread": [round(float(s), 3) for s in spread], "distances": pairs}
    closest = sorted(pairs.items(), key=lambda kv: kv[1])[:4]
    print(f"{background}: channels with colour spread > 0.1: {[k for k, s in enumerate(spread) if s > 0.1]}; "
          f"closest pairs {', '.join(f'{k} {v:.2f}' for k, v in closest)}; farthest {max(pairs.values()):.2f}")

# How far a latent may drift from one colour toward its nearest neighbour before the decoded panel stops reading
# exactly: the whole latent blended, z = (1 - a) z_colour + a z_neighbour, decoded and parsed, a in steps of 0.05.
margins = {}
for background in sw.BACKGROUNDS:
    for pair in sorted(out[background]["distances"], key=out[background]["distances"].get)[:3]:
        a_colour, b_colour = pair.split("-")
        z = {}
        for colour in (a_colour, b_colour):
            scene = sw.Scene(objects=(sw.Obj("square", colour, "large", "center"),), background=background,
                             style="filled")
            with torch.no_grad():
                z[colour] = vae.encode(to_tensor([sw.render(scene)])).latent_dist.mean
        readings = []
        for step in range(21):
            a = step / 20
            with torch.no_grad():
                image = vae.decode((1 - a) * z[a_colour] + a * z[b_colour]).sample
            reading = sw.read_scene(to_pil(image)[0]).exact
            readings.append(reading.objects[0].color if reading else "unclean")
        exact_a = next((k for k, r in enumerate(readings) if r != a_colour), 21) / 20
        exact_b = next((k for k, r in enumerate(reversed(readings)) if r != b_colour), 21) / 20
        margins[f"{background}: {pair}"] = {"readings": readings, "distance": out[background]["distances"][pair],
                                             "exact_up_to": [exact_a, exact_b]}
        print(f"{background} {pair} ({out[background]['distances'][pair]:.2f} apart): reads {a_colour} up to "
              f"{exact_a:.2f} of the way, {b_colour} from {1 - exact_b:.2f}; between: "
              f"{sorted(set(readings) - {a_colour, b_colour})}")
(Path(__file__).parent / "colour_margins.json").write_text(json.dumps({"distances": out, "blends": margins}, indent=1))
