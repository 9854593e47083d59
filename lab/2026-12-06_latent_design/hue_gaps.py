"""How far apart a VAE puts each pair of the six colours in the space the transformer denoises (after the VAE's
shift and scaling factor): one large filled square at the centre on each background, RMS distance over all 16
channels of the centre 4x4 latents (posterior means), mean of the three backgrounds. The squared gap is, to first
order, what a flow-matching step pays for drawing one colour instead of the other (session 29's
`latent_hue_gaps.py`, here for any VAE folder).

    python lab/2026-12-06_latent_design/hue_gaps.py MODEL_DIR [MODEL_DIR ...]
"""
import itertools
import sys

import torch
from diffusers import AutoencoderKL

from icedit_lib import shapesworld as sw
from icedit_lib.corpus import to_tensor


def square_latents(vae, background: str) -> dict[str, torch.Tensor]:
    """Posterior mean [1, C, h, w] of one large filled square at the centre, per colour, on `background`."""
    latents = {}
    for color in sw.COLORS:
        scene = sw.Scene(background, "filled", (sw.Obj("square", color, "large", "center"),))
        with torch.no_grad():
            latents[color] = vae.encode(to_tensor([sw.render(scene)])).latent_dist.mean
    return latents


def hue_gaps(model_dir: str) -> dict[tuple[str, str], float]:
    vae = AutoencoderKL.from_pretrained(f"{model_dir}/vae", use_safetensors=True).eval()
    gaps = {pair: 0.0 for pair in itertools.combinations(sw.COLORS, 2)}
    for background in sw.BACKGROUNDS:
        latents = {}
        for color, z in square_latents(vae, background).items():
            z = (z[0] - vae.config.shift_factor) * vae.config.scaling_factor
            h, w = z.shape[1:]
            latents[color] = z[:, h // 2 - 2:h // 2 + 2, w // 2 - 2:w // 2 + 2]
        for a, b in gaps:
            gaps[a, b] += (latents[a] - latents[b]).pow(2).mean().sqrt().item() / len(sw.BACKGROUNDS)
    return gaps


if __name__ == "__main__":
    torch.set_num_threads(1)
    runs = {d: hue_gaps(d) for d in sys.argv[1:]}
    first = runs[sys.argv[1]]
    print("pair            " + "".join(f"{d[-24:]:>26}" for d in runs))
    for pair in sorted(first, key=first.get):
        print(f"  {'-'.join(pair):14}" + "".join(f"{runs[d][pair]:26.3f}" for d in runs))
    for d, g in runs.items():
        v = sorted(g.values())
        print(f"{d}: closest {v[0]:.3f}, farthest {v[-1]:.3f}, ratio {v[-1] / v[0]:.1f}")
