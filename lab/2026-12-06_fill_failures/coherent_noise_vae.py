"""Probe: does a VAE trained against object-coherent latent noise put the hues farther apart in its used channels?

The Fill's failures are neighbouring hues (`README.md`): a prediction off by about half the distance between two
hues in the channels the decoder reads decodes to the other one. A denoiser's errors are coherent over an object,
unlike the independent per-pixel posterior noise the shipped VAE was trained with (which averages out over an
object and leaves close hues close). Here the VAE is trained from scratch with `train_vae`'s own loop and settings,
plus noise that is smooth over about four latent pixels (a 4x coarser Gaussian grid, bilinearly upsampled) added to
the latent the decoder sees, scaled by the RMS of the batch's posterior means so that the encoder cannot escape it by
growing its latents. `--noise 0` is the control: the same steps without it. Each run writes its VAE to OUT and its
colour margins (`colour_margins.py`'s measures, in units of the latents' own RMS) to OUT/margins.json.

    python lab/2026-12-06_fill_failures/coherent_noise_vae.py --noise 0.3 --out checkpoints/vae_coherent03 --steps 4000
"""
import argparse
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from diffusers.models.autoencoders import vae as vae_module  # noqa: E402
from icedit_lib import shapesworld as sw, train_vae  # noqa: E402
from icedit_lib.corpus import to_tensor  # noqa: E402
from smooth_noise import smooth_noise  # noqa: E402

p = argparse.ArgumentParser()
p.add_argument("--noise", type=float, required=True)
p.add_argument("--out", required=True)
p.add_argument("--steps", type=int, default=4000)
p.add_argument("--threads", type=int, default=1)
a = p.parse_args()

plain_sample = vae_module.DiagonalGaussianDistribution.sample


def coherent_sample(self, generator=None):
    z = plain_sample(self, generator)
    if a.noise and torch.is_grad_enabled():  # training only: statistics and evaluation encode under no_grad
        z = z + a.noise * self.mean.detach().pow(2).mean().sqrt() * smooth_noise(z, generator)
    return z


vae_module.DiagonalGaussianDistribution.sample = coherent_sample
out = Path(a.out)
# the shipped encoder's from-scratch stage (`data/models/mini/vae/training.json`, innermost record): lr 1e-3, the
# defaults otherwise (its decoder was fine-tuned three times since; the encoder and its latents are that stage's)
train_vae.main(["--output-dir", str(out / "vae"), "--work-dir", str(out / "work"), "--steps", str(a.steps),
                "--lr", "1e-3", "--threads", str(a.threads), "--eval-every", str(a.steps), "--checkpoint-minutes", "3"])

from diffusers import AutoencoderKL  # noqa: E402

vae = AutoencoderKL.from_pretrained(out / "vae").eval()
colours = list(sw.COLORS)
result = {"noise": a.noise, "steps": a.steps}
for background in sw.BACKGROUNDS:
    latents = {}
    for colour in colours:
        scene = sw.Scene(objects=(sw.Obj("square", colour, "large", "center"),), background=background, style="filled")
        with torch.no_grad():
            latents[colour] = vae.encode(to_tensor([sw.render(scene)])).latent_dist.mean[0]
    rms = torch.stack(list(latents.values())).pow(2).mean().sqrt()
    block = {c: z[:, 6:11, 6:11] for c, z in latents.items()}
    spread = torch.stack(list(block.values())).std(0).mean((1, 2))
    pairs = {f"{x}-{y}": float((block[x] - block[y]).pow(2).mean().sqrt() / rms)
             for i, x in enumerate(colours) for y in colours[i + 1:]}
    result[background] = {"latent_rms": float(rms), "channels_with_colour": int((spread > 0.1 * spread.max()).sum()),
                          "closest": sorted(pairs.items(), key=lambda kv: kv[1])[:4],
                          "ratio_closest_farthest": min(pairs.values()) / max(pairs.values())}
    print(background, json.dumps(result[background]))
result["exact_all"] = json.loads((out / "vae" / "training.json").read_text())["evaluation"]["exact_all"]
print("exact reconstructions:", result["exact_all"])
(out / "margins.json").write_text(json.dumps(result, indent=1))
