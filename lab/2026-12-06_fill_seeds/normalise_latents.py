"""Rewrite a model folder's VAE so that every latent channel has unit spread: the design test of session 33.

The shipped VAE's posterior uses two of its 16 channels at std 0.8-0.9 and the other fourteen at 0.013-0.032
(issue 28's finding 4). FLUX's single scalar `scaling_factor` leaves those fourteen at a fiftieth of the noise the
flow adds, so whatever they carry is invisible to the transformer from the first sampling steps on. They carry the
hues: measured in each channel's own spread, the three close pairs (orange-yellow, blue-purple, orange-red) lie
2-5 stds apart in those fourteen channels and 0.9-1.8 in the two used ones (`channel_hue_gaps.txt`). The Fill's
worst types are the ones that carry a colour between cells (move) or swap it for a close one (recolor).

The fix is per-channel latent normalisation (what diffusers' `latents_mean` / `latents_std` do for other VAEs),
folded into the VAE's own 1x1 convolutions so that FluxFillPipeline and the training code need no change:
`quant_conv` now emits (mean - m_c) / s_c (and the log-variance shifted to match), `post_quant_conv` undoes it.
Channels whose spread is already above `--min-std` are left alone; the others get spread `--target-std`. Decoding is unchanged to rounding (checked);
what changes is the space the transformer denoises in, so the Fill must be trained on.

    python lab/2026-12-06_fill_seeds/normalise_latents.py checkpoints/fill_norm [--n 256] [--target-std 1]
"""
import argparse
import math
import random

import torch
from diffusers import AutoencoderKL

from icedit_lib import shapesworld as sw
from icedit_lib.corpus import to_tensor


def diptychs(n: int, seed: int = 0):
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        pair = sw.random_pair(rng, split="train")
        out.append(sw.render_diptych(pair.source, pair.target))
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("model_dir")
    p.add_argument("--n", type=int, default=256)
    p.add_argument("--min-std", type=float, default=0.1)
    p.add_argument("--target-std", type=float, default=1.0, help="the spread the folded channels are given")
    a = p.parse_args()
    torch.set_num_threads(1)
    vae = AutoencoderKL.from_pretrained(f"{a.model_dir}/vae", use_safetensors=True).eval()
    images = diptychs(a.n)
    x = to_tensor(images)
    with torch.no_grad():
        z = torch.cat([vae.encode(x[i:i + 32]).latent_dist.mean for i in range(0, len(x), 32)])
        before = torch.cat([vae.decode(z[i:i + 32]).sample for i in range(0, 64, 32)])
    m, s = z.mean(dim=(0, 2, 3)), z.std(dim=(0, 2, 3))
    fold = s < a.min_std
    m, s = torch.where(fold, m, torch.zeros_like(m)), torch.where(fold, s / a.target_std, torch.ones_like(s))
    c = vae.config.latent_channels
    with torch.no_grad():
        q, pq = vae.quant_conv, vae.post_quant_conv
        q.weight[:c] /= s.view(-1, 1, 1, 1)
        q.bias[:c] = (q.bias[:c] - m) / s
        q.bias[c:] -= 2 * torch.log(s)
        pq.bias += (pq.weight[:, :, 0, 0] * m).sum(1)
        pq.weight *= s.view(1, -1, 1, 1)
        z2 = torch.cat([vae.encode(x[i:i + 32]).latent_dist.mean for i in range(0, len(x), 32)])
        after = torch.cat([vae.decode(z2[i:i + 32]).sample for i in range(0, 64, 32)])
    print("channels folded:", fold.nonzero().flatten().tolist())
    print("latent std before:", [round(v, 3) for v in z.std(dim=(0, 2, 3)).tolist()])
    print("latent std after: ", [round(v, 3) for v in z2.std(dim=(0, 2, 3)).tolist()])
    err = (after - before).abs().max().item()
    print(f"largest decoded difference (of [-1, 1]): {err:.2e}")
    assert err < 1e-3 and not math.isnan(err)
    vae.save_pretrained(f"{a.model_dir}/vae", safe_serialization=True)


if __name__ == "__main__":
    main()
