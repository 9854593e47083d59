"""Pretrain the miniature AutoencoderKL on ShapesWorld (issue: miniature FLUX, step 1 of 3).

    python -m icedit_lib.train_vae --output-dir data/models/mini/vae --work-dir checkpoints/vae

FLUX's VAE maps 8x8 pixels to 16 channels; the miniature keeps 16 channels at 4x
(see `miniature.build_vae`). Loss: MSE + L1 on pixels in [-1, 1] plus a tiny KL, as
a plain (GAN-free) VAE. Batches cycle through single panels, diptychs and
right-half-masked diptychs, the three kinds of image the pipelines encode.

Kill it at any time: it resumes from `--work-dir/state.safetensors` (written every
`--checkpoint-minutes`) and, because each step's data is a function of (seed, step),
continues exactly. At the end it measures the latent statistics (FLUX's
`shift_factor` / `scaling_factor` normalise latents to zero mean, unit variance),
makes the posterior deterministic (below), evaluates on held-out scenes and writes the
model and its card to `--output-dir`.

Why deterministic: trained this way, the VAE puts the image into 2 of its 16 channels and
leaves the other 14 at the prior, N(0, 1) whatever the image; even the 2 it uses keep a
posterior std of 0.3-0.5. The pipelines *sample* the posterior when they encode (the
masked image of FluxFillPipeline, the training latents), so 14 of 16 latent channels
would be pure noise that the transformer must "predict" and the left panel it copies
from would be blurred by noise. FLUX's VAE has a tight posterior; the miniature gets one
by setting the log-variance half of the encoder's output (`quant_conv`) to the floor of
diffusers' Gaussian (-30: std 3e-7), so a sample is the mean the decoder reconstructs from.

`--decoder-from FOLDER` fine-tunes only the decoder of a finished VAE (as Stability AI's
`sd-vae-ft-mse` did for Stable Diffusion): the encoder, its latents and their normalisation
stay as they are, so transformers trained on those latents keep working and every image they
generate is decoded by the better decoder. With `--prior-channel-noise` the 14 channels the encoder
leaves at the prior carry N(0, 1) noise in training, as in the VAE's own training: the T2I model,
trained before the posterior was made deterministic, generates noise there, and a decoder that has
only seen the encoder's (near-zero) means in those channels turns it into visible artifacts
(T2I exact 10.9% -> 0% with such a decoder, session 18, `lab/2026-12-01_vae_decoder`).
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from .checkpoints import TrainingRun, atomic_dir, step_rng
from .config import option, parse_config
from .devices import pick_device
from .schedule import warmup_cosine
from .corpus import vae_batch
from .miniature import build_vae
from .pretrain_eval import evaluate_vae

BATCH_KINDS = ("panel", "diptych", "masked")


@dataclass
class VaeConfig:
    """The VAE run's options (the command line is built from these fields: `config.parse_config`)."""
    output_dir: str = option("data/models/mini/vae")
    work_dir: str = option("checkpoints/vae", "resumable training state")
    steps: int = option(20000)
    batch_size: int = option(8)
    lr: float = option(1e-3)
    warmup: int = option(200)
    kl_weight: float = option(1e-6)
    seed: int = option(0)
    checkpoint_minutes: float = option(5.0)
    eval_every: int = option(2000)
    eval_panels: int = option(400)
    threads: int = option(0, "torch CPU threads (0: torch's default)")
    budget_minutes: float = option(0.0, "fit --steps to this much training time (`schedule.StepBudget`; --steps is "
                                        "then the most)")
    device: str = option("auto")
    kind_weights: str = option("1,1,1", "steps of single panels, diptychs and right-half-masked diptychs in each "
                                        "cycle (diptych halves are what fails most)")
    edge_weight: float = option(0.0, "extra loss weight on pixels at a color edge (thin outlines are what the VAE "
                                     "loses first)")
    decoder_from: str | None = option(None, "a finished VAE folder: train its decoder only (latents and their "
                                            "statistics unchanged)")
    prior_channel_noise: bool = option(False, "with --decoder-from: N(0, 1) in the latent channels the encoder "
                                              "leaves at the prior, so the decoder keeps ignoring them (the T2I "
                                              "model generates noise there)")
    finalize_only: bool = option(False, "skip training: measure latent statistics, evaluate and save the saved "
                                        "state's model")
    kind_cycle: list = field(init=False)  # the batch kinds, one a step, from --kind-weights

    def __post_init__(self):
        try:
            weights = [int(w) for w in self.kind_weights.split(",")]
        except ValueError:
            weights = []
        if len(weights) != len(BATCH_KINDS) or min(weights) < 0 or sum(weights) == 0:
            raise ValueError(f"--kind-weights: three non-negative integers for {', '.join(BATCH_KINDS)}, e.g. 1,2,1")
        self.kind_cycle = [kind for kind, w in zip(BATCH_KINDS, weights) for _ in range(w)]
        if self.prior_channel_noise and not self.decoder_from:
            raise ValueError("--prior-channel-noise fine-tunes a decoder: it needs --decoder-from")


def parse_args(argv=None) -> VaeConfig:
    return parse_config(VaeConfig, argv, description=__doc__.split("\n")[0])


def edge_mask(images: torch.Tensor) -> torch.Tensor:
    """[B, 1, H, W]: 1 where a pixel's color differs from a 4-neighbour's (the image's edges)."""
    edges = torch.zeros_like(images[:, :1])
    dx = (images[..., :, 1:] != images[..., :, :-1]).any(1, keepdim=True).float()
    dy = (images[..., 1:, :] != images[..., :-1, :]).any(1, keepdim=True).float()
    edges[..., :, 1:] += dx
    edges[..., :, :-1] += dx
    edges[..., 1:, :] += dy
    edges[..., :-1, :] += dy
    return edges.clamp_(max=1.0)


def reconstruction_loss(rec: torch.Tensor, target: torch.Tensor, edge_weight: float = 0.0) -> torch.Tensor:
    """MSE + L1, each pixel weighted 1 + edge_weight at edges (`--edge-weight 0`: the plain mean)."""
    err = (rec - target).pow(2) + (rec - target).abs()
    if edge_weight:
        weight = 1.0 + edge_weight * edge_mask(target)
        return (err * weight).mean() / weight.mean()
    return err.mean()


@torch.no_grad()
def prior_channels(vae, n_batches: int = 8, seed: int = 777, device="cpu", threshold: float = 0.1) -> torch.Tensor:
    """[C] bool: the latent channels whose encoder mean hardly varies over training images (std below
    `threshold`, against about 0.9 in the channels that carry the image): the ones the VAE left at the prior."""
    means = []
    for i in range(n_batches):
        rng, _ = step_rng(seed, i)
        mode = vae.encode(vae_batch(rng, BATCH_KINDS[i % 2], 8).to(device)).latent_dist.mode()
        means.append(mode.transpose(0, 1).flatten(1))  # [C, values]: panels and diptychs differ in size
    return torch.cat(means, dim=1).std(dim=1) < threshold


@torch.no_grad()
def latent_statistics(vae, n_batches: int = 32, seed: int = 777, device="cpu") -> tuple[float, float]:
    """Mean and std of posterior-sampled latents over the training distribution."""
    vals = []
    for i in range(n_batches):
        rng, gen = step_rng(seed, i)
        batch = vae_batch(rng, BATCH_KINDS[i % 2], 16).to(device)
        vals.append(vae.encode(batch).latent_dist.sample(gen).flatten())
    allv = torch.cat(vals)
    return allv.mean().item(), allv.std().item()


def main(argv=None) -> dict:
    config = parse_args(argv)
    if config.threads:
        torch.set_num_threads(config.threads)
    device = pick_device(config.device)
    torch.manual_seed(config.seed)
    vae = load_for_decoder_training(config.decoder_from) if config.decoder_from else build_vae()
    vae = vae.to(device).train()
    opt = torch.optim.AdamW([q for q in vae.parameters() if q.requires_grad], lr=config.lr, weight_decay=0.0)
    run = TrainingRun(config.work_dir, vae, opt, total=config.steps, desc="vae",
                      checkpoint_minutes=config.checkpoint_minutes,
                      budget_minutes=config.budget_minutes)
    if config.finalize_only:
        run.close()
        if not run.state_path.exists():
            raise SystemExit(f"--finalize-only: no training state at {run.state_path}")
        return finalize(vae.eval(), config, run.step, run.elapsed, device)
    noisy = prior_channels(vae, device=device).view(1, -1, 1, 1) if config.prior_channel_noise else None
    if noisy is not None:
        print(f"prior channels (noise in training): {noisy.flatten().nonzero().flatten().tolist()}")
    while run.step < run.total:
        step = run.step
        rng, gen = step_rng(config.seed, step)
        batch = vae_batch(rng, config.kind_cycle[step % len(config.kind_cycle)], config.batch_size).to(device)
        if config.decoder_from:  # the encoder is frozen and its posterior deterministic: decode its mean
            with torch.no_grad():
                latents = vae.encode(batch).latent_dist.mode()
                if noisy is not None:  # the prior's N(0, 1), drawn from the step's generator: exact resume
                    latents = torch.where(noisy, torch.randn(latents.shape, generator=gen).to(device), latents)
            rec = vae.decode(latents).sample
            loss = reconstruction_loss(rec, batch, config.edge_weight)
        else:
            post = vae.encode(batch).latent_dist
            rec = vae.decode(post.sample(gen)).sample
            loss = reconstruction_loss(rec, batch, config.edge_weight) + config.kl_weight * post.kl().mean()
        # no gradient clipping: the shipped VAE was trained without it
        lr = warmup_cosine(step, config.lr, config.warmup, run.total, floor=0.05)
        run.optimizer_step(loss, lr, max_grad_norm=None)
        if run.step % config.eval_every == 0 or run.step == run.total:
            ev = evaluate_vae(vae, config.eval_panels, device=device)
            ev.update(step=run.step, loss=loss.item(), elapsed_s=run.elapsed)
            run.log(ev)
            run.bar.write(f"step {run.step}: exact {ev['exact_all']:.3f}  psnr {ev['psnr_db']:.1f} dB")
    run.close()
    return finalize(vae.eval(), config, run.total, run.elapsed, device)


def load_for_decoder_training(folder: str):
    """A finished VAE with everything but the decoder (and its input conv) frozen."""
    from diffusers import AutoencoderKL

    if not (Path(folder) / "config.json").exists():
        raise SystemExit(f"--decoder-from: {folder} holds no AutoencoderKL (config.json)")
    vae = AutoencoderKL.from_pretrained(folder, use_safetensors=True)
    for name, param in vae.named_parameters():
        param.requires_grad_(name.startswith(("decoder.", "post_quant_conv.")))
    return vae


def make_posterior_deterministic(vae) -> None:
    """Log-variance of every latent channel -> -30 (std 3e-7), for any input: `sample()` = `mode()`."""
    channels = vae.config.latent_channels
    with torch.no_grad():
        vae.quant_conv.weight[channels:].zero_()
        vae.quant_conv.bias[channels:].fill_(-30.0)


def finalize(vae, config: VaeConfig, steps: int, wall_s: float, device) -> dict:
    """Set FLUX's latent normalisation from data (latents as sampled in training), make the
    posterior deterministic, evaluate, save model and card."""
    if config.decoder_from:  # the encoder, its latents and their normalisation are the old VAE's
        mean, std = vae.config.shift_factor, 1.0 / vae.config.scaling_factor
    else:
        mean, std = latent_statistics(vae, device=device)
        vae.register_to_config(shift_factor=mean, scaling_factor=1.0 / std)
        make_posterior_deterministic(vae)
    ev = evaluate_vae(vae, config.eval_panels, device=device)
    record = {"evaluation": ev, "steps": steps, "wall_s": round(wall_s, 1), "device": str(device),
              "threads": torch.get_num_threads(), "shift_factor": mean, "scaling_factor": 1.0 / std,
              "posterior": "deterministic (log-variance -30)",
              "args": {**asdict(config), "steps": steps}}
    if config.decoder_from and (Path(config.decoder_from) / "training.json").is_file():
        # the encoder's history: how the VAE it started from was made
        record["decoder_from"] = json.loads((Path(config.decoder_from) / "training.json").read_text())
    # one swap of the whole folder: --output-dir may be --decoder-from itself, and a kill must leave it whole
    with atomic_dir(config.output_dir) as tmp:
        vae.save_pretrained(tmp, safe_serialization=True)
        (tmp / "training.json").write_text(json.dumps(record, indent=2))
    return record


if __name__ == "__main__":
    main()
