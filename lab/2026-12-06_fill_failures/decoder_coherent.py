"""Probe: a decoder fine-tuned against object-coherent latent noise, so that it paints one hue per object.

Most of the Fill's failed edits at 16000 steps are objects in the right place and shape whose colour is a gradient
between two hues (`README.md`): the predicted latent drifts across the object from one hue's code toward another's,
and the shipped decoder, trained on clean (or per-pixel noisy) latents, paints each part of the object from its own
latent pixels. Here only the decoder is fine-tuned (`train_vae --decoder-from`, the shipped VAE's last stage's
settings, so the encoder, the latents and every transformer stay valid), with noise that is smooth over about four
latent pixels (a 4x coarser Gaussian grid, bilinearly upsampled, std `--noise`) added to the latents it decodes in
training: to reproduce the clean panel it must pool an object's latents into one hue. Exact reconstructions of
clean latents must stay at the VAE's target (99.5%).

    python lab/2026-12-06_fill_failures/decoder_coherent.py --noise 0.15 --out checkpoints/vae_decoder_coherent --steps 4000
"""
import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from diffusers import AutoencoderKL  # noqa: E402
from icedit_lib import train_vae  # noqa: E402
from smooth_noise import smooth_noise  # noqa: E402

p = argparse.ArgumentParser()
p.add_argument("--noise", type=float, required=True)
p.add_argument("--out", required=True)
p.add_argument("--steps", type=int, default=4000)
p.add_argument("--threads", type=int, default=2)
a = p.parse_args()

plain_decode = AutoencoderKL.decode


def coherent_decode(self, z, *args, **kwargs):
    if self.training and torch.is_grad_enabled():  # training only: `evaluate_vae` decodes in eval mode, no grad
        z = z + a.noise * smooth_noise(z)
    return plain_decode(self, z, *args, **kwargs)


AutoencoderKL.decode = coherent_decode
out = Path(a.out)
# the shipped VAE's last stage (`data/models/mini/vae/training.json`): decoder only, prior-channel noise, lr 2e-4,
# diptych-heavy batches, edge weighting
train_vae.main(["--decoder-from", "data/models/mini/vae", "--prior-channel-noise", "--output-dir", str(out / "vae"),
                "--work-dir", str(out / "work"), "--steps", str(a.steps), "--lr", "2e-4", "--warmup", "100",
                "--kind-weights", "1,4,1", "--edge-weight", "8", "--threads", str(a.threads),
                "--eval-every", str(a.steps), "--checkpoint-minutes", "3"])
