"""The training-free T2I-inversion diptych (paper section 3.1, first framework).

A text-to-image DiT (FLUX.1 [dev], or the miniature `mini-t2i`) can edit in context
without any inpainting model:
1. Invert the source: place it in a diptych, encode it, and run the rectified-flow ODE
   backwards (from sigma = 0 up to sigma = 1) on the very shifted sigma grid the sampler
   will use, recording at every step and in every attention layer the keys and values of
   the left half's image tokens (`KVController` in "record" mode).
2. Generate a diptych with the IC prompt: the left half starts from the inverted noise,
   the right half from fresh noise, and at every step the left half's keys / values are
   replaced by the recorded ones ("inject" mode). The left half so reproduces the source,
   and the right half, which attends to it, draws the same scene "but {instruction}".

The attention processor is a subclass of diffusers' `FluxAttnProcessor` installed with
the stock `set_attn_processor` and removed afterwards; its `__call__` mirrors the stock
one line for line, with one added step between the projections and the attention.
What is injected (keys, values or both; which steps; which layers) is an
`InjectionConfig`, so notebook 03 can show what each choice keeps.

Simplification: the paper does not spell out its inversion solver; this is plain Euler
inversion (the sampler's own solver run backwards), which drifts a little from the
source; the injected K/V are what keep the left half faithful.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import torch
from diffusers.models.attention_dispatch import dispatch_attention_fn
from diffusers.models.embeddings import apply_rotary_emb
from diffusers.models.transformers.transformer_flux import FluxAttnProcessor, _get_qkv_projections
from diffusers.pipelines.flux.pipeline_flux import calculate_shift
from diffusers.utils.torch_utils import randn_tensor
from PIL import Image

from . import registry
from .diptych import T2I_GUIDANCE, make_diptych, make_prompt, plan_layout, right_half
from .editor import EditResult

INJECT_WHAT = ("kv", "k", "v")


@dataclass
class InjectionConfig:
    """What the generation receives from the inversion.

    `what`: "kv" (keys and values), "k" or "v". `steps`: the share of the first
    generation steps that receive them (1.0: all; structure is decided early). `layers`:
    "all", "double", "single", or a list of attention module names."""
    what: str = "kv"
    steps: float = 1.0
    layers: str | list[str] = "all"

    def __post_init__(self):
        if self.what not in INJECT_WHAT:
            raise ValueError(f"inject what must be one of {INJECT_WHAT}, got {self.what!r}")
        if not 0.0 <= self.steps <= 1.0:
            raise ValueError(f"inject steps is a share in [0, 1], got {self.steps}")

    def covers(self, layer: str) -> bool:
        if self.layers == "all":
            return True
        if self.layers == "double":
            return layer.startswith("transformer_blocks.")
        if self.layers == "single":
            return layer.startswith("single_transformer_blocks.")
        return layer in self.layers


@dataclass
class KVController:
    """Shared state of every installed processor: mode, current step, the recorded K/V."""
    source_tokens: torch.Tensor  # indices, within the image tokens, of the left half
    n_image_tokens: int
    config: InjectionConfig = field(default_factory=InjectionConfig)
    n_steps: int = 0
    mode: str = "off"  # "record" | "inject" | "off"
    step: int = 0
    store_device: str | None = None  # keep recordings elsewhere (e.g. "cpu" for FLUX: ~20 GB at 28 steps)
    store: dict = field(default_factory=dict)

    def __call__(self, layer: str, key: torch.Tensor, value: torch.Tensor):
        """Record, or replace, the source tokens' keys / values ([B, seq, heads, dim])."""
        if self.mode == "off":
            return key, value
        idx = key.shape[1] - self.n_image_tokens + self.source_tokens.to(key.device)
        if self.mode == "record":
            dev = self.store_device or key.device
            self.store[(layer, self.step)] = (key[:, idx].detach().to(dev), value[:, idx].detach().to(dev))
            return key, value
        if (self.step >= round(self.config.steps * self.n_steps) or not self.config.covers(layer)
                or (layer, self.step) not in self.store):
            return key, value
        k_rec, v_rec = self.store[(layer, self.step)]
        key, value = key.clone(), value.clone()
        if "k" in self.config.what:
            key[:, idx] = k_rec.to(key.device, key.dtype)
        if "v" in self.config.what:
            value[:, idx] = v_rec.to(value.device, value.dtype)
        return key, value


class KVInjectionProcessor(FluxAttnProcessor):
    """FluxAttnProcessor with one added step: the controller sees (and may replace) the
    keys / values after RoPE, just before attention. Everything else is the stock code."""

    def __init__(self, controller: KVController, layer: str):
        super().__init__()
        self.controller = controller
        self.layer = layer

    def __call__(self, attn, hidden_states, encoder_hidden_states=None, attention_mask=None, image_rotary_emb=None):
        query, key, value, encoder_query, encoder_key, encoder_value = _get_qkv_projections(
            attn, hidden_states, encoder_hidden_states)
        query = attn.norm_q(query.unflatten(-1, (-1, attn.head_dim)))
        key = attn.norm_k(key.unflatten(-1, (-1, attn.head_dim)))
        value = value.unflatten(-1, (-1, attn.head_dim))
        if attn.added_kv_proj_dim is not None:  # double blocks: [text | image]
            encoder_query = attn.norm_added_q(encoder_query.unflatten(-1, (-1, attn.head_dim)))
            encoder_key = attn.norm_added_k(encoder_key.unflatten(-1, (-1, attn.head_dim)))
            encoder_value = encoder_value.unflatten(-1, (-1, attn.head_dim))
            query = torch.cat([encoder_query, query], dim=1)
            key = torch.cat([encoder_key, key], dim=1)
            value = torch.cat([encoder_value, value], dim=1)
        if image_rotary_emb is not None:
            query = apply_rotary_emb(query, image_rotary_emb, sequence_dim=1)
            key = apply_rotary_emb(key, image_rotary_emb, sequence_dim=1)
        key, value = self.controller(self.layer, key, value)  # the added step
        hidden_states = dispatch_attention_fn(query, key, value, attn_mask=attention_mask,
                                              backend=self._attention_backend, parallel_config=self._parallel_config)
        hidden_states = hidden_states.flatten(2, 3).to(query.dtype)
        if encoder_hidden_states is not None:
            encoder_hidden_states, hidden_states = hidden_states.split_with_sizes(
                [encoder_hidden_states.shape[1], hidden_states.shape[1] - encoder_hidden_states.shape[1]], dim=1)
            hidden_states = attn.to_out[1](attn.to_out[0](hidden_states.contiguous()))
            encoder_hidden_states = attn.to_add_out(encoder_hidden_states.contiguous())
            return hidden_states, encoder_hidden_states
        return hidden_states


@contextmanager
def kv_injection(transformer, controller: KVController):
    """Install a KVInjectionProcessor on every attention layer; restore the old ones after."""
    previous = transformer.attn_processors
    transformer.set_attn_processor({name: KVInjectionProcessor(controller, name.rsplit(".processor", 1)[0])
                                    for name in previous})
    try:
        yield controller
    finally:
        transformer.set_attn_processor(previous)


def left_half_tokens(token_rows: int, token_cols: int) -> torch.Tensor:
    """Indices (row-major, as FLUX packs) of the tokens in the left half of the grid."""
    grid = torch.arange(token_rows * token_cols).reshape(token_rows, token_cols)
    return grid[:, : token_cols // 2].reshape(-1)


@dataclass
class Inversion:
    noise: torch.Tensor  # packed latents at sigma = 1
    trajectory: list[torch.Tensor]  # packed latents from sigma = 0 up to sigma = 1
    sigmas: np.ndarray  # the shifted grid, sigma_0 = 1 ... sigma_n = 0


class InversionEditor:
    """Edits with a FluxPipeline (text-to-image) by inversion + K/V injection."""

    def __init__(self, pipe, panel_width: int = 512, max_sequence_length: int = 512):
        self.pipe = pipe
        self.panel_width = panel_width
        self.max_sequence_length = max_sequence_length
        self.token_pixels = pipe.vae_scale_factor * 2

    @classmethod
    def from_registry(cls, base: str = "mini-t2i", device: str = "auto", dtype=None, offload: str = "none",
                      download: bool | None = None) -> "InversionEditor":
        pipe, entry = registry.load_t2i_pipeline(base, device=device, dtype=dtype, offload=offload, download=download)
        return cls(pipe, entry.panel_width, entry.max_sequence_length)

    def _schedule(self, steps: int, image_seq_len: int) -> np.ndarray:
        """The shifted sigmas FluxPipeline will use (with the terminal 0 appended)."""
        cfg = self.pipe.scheduler.config
        mu = calculate_shift(image_seq_len, cfg.get("base_image_seq_len", 256), cfg.get("max_image_seq_len", 4096),
                             cfg.get("base_shift", 0.5), cfg.get("max_shift", 1.15))
        self.pipe.scheduler.set_timesteps(sigmas=np.linspace(1.0, 1 / steps, steps), mu=mu)
        return self.pipe.scheduler.sigmas.cpu().numpy()

    @torch.no_grad()
    def invert(self, diptych: Image.Image, prompt: str, steps: int, guidance: float,
               controller: KVController | None = None) -> Inversion:
        """Euler steps from sigma = 0 (the encoded image) up to sigma = 1, recording K/V."""
        pipe = self.pipe
        device, dtype = pipe._execution_device, pipe.transformer.dtype
        w, h = diptych.size
        image = pipe.image_processor.preprocess(diptych, height=h, width=w).to(device, pipe.vae.dtype)
        lat = pipe.vae.encode(image).latent_dist.mode()
        lat = ((lat - pipe.vae.config.shift_factor) * pipe.vae.config.scaling_factor).to(dtype)
        c, lh, lw = lat.shape[1:]
        x = pipe._pack_latents(lat, 1, c, lh, lw)
        ids = pipe._prepare_latent_image_ids(1, lh // 2, lw // 2, device, dtype)
        embeds, pooled, text_ids = pipe.encode_prompt(prompt, None, device=device,
                                                      max_sequence_length=self.max_sequence_length)
        sigmas = self._schedule(steps, x.shape[1])
        g = torch.full([1], guidance, device=device, dtype=torch.float32) \
            if pipe.transformer.config.guidance_embeds else None
        trajectory = [x]

        def velocity(x, sigma_index):
            if controller is not None:
                controller.step = sigma_index
            t = torch.tensor([sigmas[sigma_index]], device=device, dtype=dtype)
            return pipe.transformer(hidden_states=x, timestep=t, guidance=g, pooled_projections=pooled,
                                    encoder_hidden_states=embeds, txt_ids=text_ids, img_ids=ids,
                                    return_dict=False)[0]

        for k in range(steps - 1, -1, -1):  # from sigma_{k+1} up to sigma_k
            v = velocity(x, k + 1)
            x = (x.float() + (sigmas[k] - sigmas[k + 1]) * v.float()).to(dtype)
            trajectory.append(x)
        if controller is not None:
            velocity(x, 0)  # one more evaluation, at sigma_0 = 1, to record what generation step 0 needs
        return Inversion(x, trajectory, sigmas)

    def edit(self, image: Image.Image, instruction: str, seed: int = 0, steps: int = 28, guidance: float = T2I_GUIDANCE,
             prompt_mode: str = "ic", injection: InjectionConfig | None = None,
             return_inversion: bool = False):
        """Invert the source diptych, then generate with injected K/V; returns an EditResult
        (and the Inversion if asked)."""
        if not isinstance(steps, int) or steps < 1:
            raise ValueError(f"steps must be a positive integer, got {steps!r}")
        pipe = self.pipe
        prompt = make_prompt(instruction, prompt_mode)
        layout = plan_layout(image.size, self.panel_width, self.token_pixels)
        diptych, _ = make_diptych(image, layout)
        w, h = layout.size
        rows, cols = h // self.token_pixels, w // self.token_pixels
        controller = KVController(left_half_tokens(rows, cols), rows * cols, injection or InjectionConfig(),
                                  n_steps=steps)
        with kv_injection(pipe.transformer, controller):
            controller.mode = "record"
            inversion = self.invert(diptych, prompt, steps, guidance, controller)
            # left half: the inverted noise; right half: fresh noise from the seed
            fresh = randn_tensor(inversion.noise.shape, generator=torch.Generator("cpu").manual_seed(int(seed)),
                                 device=torch.device("cpu"), dtype=torch.float32).to(inversion.noise)
            start = fresh.clone()
            start[:, controller.source_tokens] = inversion.noise[:, controller.source_tokens]
            controller.mode, controller.step = "inject", 0

            def next_step(pipe_, i, t, kwargs):
                controller.step = i + 1
                return kwargs

            out = pipe(prompt=prompt, height=h, width=w, num_inference_steps=steps, guidance_scale=guidance,
                       latents=start, max_sequence_length=self.max_sequence_length,
                       callback_on_step_end=next_step).images[0]
        result = EditResult(right_half(out, layout), out, seed, prompt)
        return (result, inversion) if return_inversion else result
