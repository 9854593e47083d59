"""Where the shipped VAE keeps the hues: each colour pair's latent gap, in each channel's own spread.

One large filled square at the centre on each background, the posterior mean over the centre 4x4 latents; the
channels' spread (std) over 64 training scenes. "raw" is the Euclidean gap over all 16 channels (what the flow
loss sees, up to the scalar scaling factor); "per-channel-normalised" divides each channel's gap by its spread,
split into the fourteen channels of spread 0.013-0.034 ("dead", issue 28's finding 4) and the two used ones
(6 and 8). Shows that the "dead" channels carry the hues, and the close pairs farther apart than the used ones do.

    python lab/2026-12-06_fill_seeds/channel_hue_gaps.py > channel_hue_gaps.txt
"""
import itertools, torch
from diffusers import AutoencoderKL
from icedit_lib import shapesworld as sw
from icedit_lib.corpus import to_tensor
vae = AutoencoderKL.from_pretrained("data/models/mini/vae", use_safetensors=True).eval()
torch.set_num_threads(1)
# channel std over many scenes
import random
rng = random.Random(0)
imgs = [sw.render(sw.random_scene(rng, split="train")) for _ in range(64)]
with torch.no_grad():
    Z = vae.encode(to_tensor(imgs)).latent_dist.mean
std = Z.std(dim=(0, 2, 3))
print("channel std", [round(s, 3) for s in std.tolist()])
for background in sw.BACKGROUNDS:
    lat = {}
    for color in sw.COLORS:
        with torch.no_grad():
            z = vae.encode(to_tensor([sw.render(sw.Scene(background, "filled", (sw.Obj("square", color, "large", "center"),)))])).latent_dist.mean[0]
        h, w = z.shape[1:]
        lat[color] = z[:, h//2-2:h//2+2, w//2-2:w//2+2].mean(dim=(1, 2))
    print(background)
    for a, b in itertools.combinations(sw.COLORS, 2):
        d = (lat[a] - lat[b])
        raw = d.pow(2).sum().sqrt().item()
        norm = (d / std).pow(2).sum().sqrt().item()
        main = [6, 8]
        dn = d / std
        dead = torch.cat([dn[:6], dn[7:8], dn[9:]]).pow(2).sum().sqrt().item()
        print(f"  {a}-{b}: raw {raw:.2f}  per-channel-normalised {norm:.1f} (dead channels {dead:.1f}, main {dn[main].pow(2).sum().sqrt().item():.1f})")
