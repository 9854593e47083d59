"""ICEditor: instruction-based editing as diptych inpainting with the stock FluxFillPipeline.

    editor = ICEditor.from_registry("mini")
    result = editor.edit(image, "make the red circle blue", seed=0)

Besides single edits it runs several seeds in one batched call, and it can stop every
seed after m of n steps with an x0 preview, then finish any one of them on the same
schedule: the engine of early-filter inference-time scaling (paper section 3.3).

Exactness of stop-and-resume rests on three things held fixed:
- the initial noise of a seed is drawn by a CPU generator seeded with the seed alone;
- the conditioning latents (the masked diptych through the VAE, a sampled posterior)
  come from a generator seeded with `CONDITIONING_SEED`, whatever the seeds;
- the resumed call gets the tail of the very sigma list of the full run, so the
  scheduler shifts it to the same values (shifting is element-wise).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import torch
from diffusers.utils.torch_utils import randn_tensor
from PIL import Image

from . import adapters, registry
from .devices import compile_transformer
from .diptych import FILL_GUIDANCE, DiptychLayout, make_diptych, make_prompt, plan_layout, right_half
from .language import UnknownWordsWarning, unknown_words

CONDITIONING_SEED = 0

# Inductor options of `compile=True` on a CPU: "freezing" folds the (fused) weights into the graph as constants
# and "cpp_wrapper" replaces the Python glue between kernels with C++; at the miniature's size per-op overhead
# is most of the time (benchmarks/sampling_speed.py times them against plain compilation). Not used on a GPU,
# where freezing a 12B model's weights would copy them during compilation.
CPU_COMPILE_OPTIONS = {"freezing": True, "cpp_wrapper": True}


@dataclass
class EditResult:
    image: Image.Image  # the edited panel, at the source's size
    diptych: Image.Image  # the whole generated diptych, at working size
    seed: int
    prompt: str


@dataclass
class Previews:
    """Every seed stopped after `preview_steps` of `steps`: resume any with ICEditor.resume."""
    images: list[Image.Image]  # x0 previews of the edited panel, at the source's size
    latents: torch.Tensor  # packed latents after `preview_steps`, one row per seed
    seeds: list[int]
    steps: int
    preview_steps: int
    request: "_Request" = field(repr=False)


@dataclass
class _Request:
    prompt: str
    layout: DiptychLayout
    diptych: Image.Image
    mask: Image.Image
    guidance: float


class ICEditor:
    """In-context editing over a FluxFillPipeline (any size: FLUX.1 Fill [dev] or the miniature)."""

    def __init__(self, pipe, panel_width: int = 512, max_sequence_length: int = 512, word_level_text: bool = False):
        self.pipe = pipe
        self.panel_width = panel_width
        self.max_sequence_length = max_sequence_length
        self.word_level_text = word_level_text  # name the words the miniature's tokenizers do not know
        self.token_pixels = pipe.vae_scale_factor * 2  # one token = 2x2 latent pixels

    @classmethod
    def from_registry(cls, base: str = "mini", adapter: str | None = None, device: str = "auto", dtype=None,
                      offload: str = "none", download: bool | None = None, compile: bool = False,
                      fuse_adapter: bool = False, quantize: str = "none") -> "ICEditor":
        """`compile=True` runs the transformer through `torch.compile` (after the adapter is in place,
        `devices.compile_transformer`): on a GPU regional compilation with a dynamic sequence length; on
        a CPU the first edit of each batch size pays a one-off compilation (about a minute on a 2-core
        CPU) and later edits of the miniature run about 1.5x faster, because at its size Python and
        per-op overhead, which compilation fuses away, dominate the arithmetic (`CPU_COMPILE_OPTIONS`).
        `quantize` (none | fp8 | fp8-weight | nf4) loads the transformer quantized
        (`devices.transformer_quantization`). `fuse_adapter=True` merges a plain LoRA into the weights
        (`adapters.load_adapter(fuse=True)`): faster, but no longer switchable with
        `adapters.set_adapter_scale`, so it is off by default and on in the CLI (never into quantized
        weights)."""
        if adapter and adapter != "none":
            adapters.adapter_file(adapter, download)  # a bad adapter fails before the base loads
        pipe, entry = registry.load_fill_pipeline(base, device=device, dtype=dtype, offload=offload,
                                                  download=download, quantize=quantize)
        if adapter and adapter != "none":
            adapters.load_adapter(pipe, adapter, base_name=base, download=download,
                                  fuse=fuse_adapter and quantize == "none")
        if compile:  # after the adapter: frozen weights cannot change afterwards
            compile_transformer(pipe.transformer, pipe._execution_device.type, CPU_COMPILE_OPTIONS)
        return cls(pipe, entry.panel_width, entry.max_sequence_length, entry.word_level_text)

    # ----------------------------------------------------------------- helpers
    def unknown_words(self, instruction: str) -> list[str]:
        """Words of `instruction` the miniature's T5 tokenizer would spell out letter by letter: the
        model never learned to read them (empty at full scale, where T5 reads any English)."""
        return unknown_words(instruction, self.pipe.tokenizer_2) if self.word_level_text else []

    def _request(self, image: Image.Image, instruction: str, guidance: float, prompt_mode: str) -> _Request:
        unknown = self.unknown_words(instruction)
        if unknown:
            warnings.warn(UnknownWordsWarning(
                f"the model does not know the word(s) {', '.join(map(repr, unknown))} of {instruction!r}: it reads "
                "them letter by letter, and the edit will likely fail (the words it knows: its T5 tokenizer's "
                "vocabulary)"), stacklevel=3)
        layout = plan_layout(image.size, self.panel_width, self.token_pixels)
        diptych, mask = make_diptych(image, layout)
        return _Request(make_prompt(instruction, prompt_mode), layout, diptych, mask, float(guidance))

    def initial_latents(self, seeds: list[int], layout: DiptychLayout) -> torch.Tensor:
        """Packed noise, one row per seed, drawn on the CPU so any device gives the same."""
        pipe = self.pipe
        w, h = layout.size
        lat_h, lat_w = 2 * (h // self.token_pixels), 2 * (w // self.token_pixels)
        channels = pipe.vae.config.latent_channels
        rows = [randn_tensor((1, channels, lat_h, lat_w), generator=torch.Generator("cpu").manual_seed(int(s)),
                             device=torch.device("cpu"), dtype=torch.float32) for s in seeds]
        packed = pipe._pack_latents(torch.cat(rows), len(seeds), channels, lat_h, lat_w)
        return packed.to(pipe._execution_device, pipe.transformer.dtype)

    @staticmethod
    def _check_steps(steps: int, preview_steps: int | None = None) -> None:
        if not isinstance(steps, int) or steps < 1:
            raise ValueError(f"steps must be a positive integer, got {steps!r}")
        if preview_steps is not None and not 1 <= preview_steps < steps:
            raise ValueError(f"preview steps must be between 1 and steps - 1 = {steps - 1}, got {preview_steps}")

    @staticmethod
    def sigmas(steps: int) -> np.ndarray:
        """The unshifted sigma list FluxFillPipeline uses by default for `steps` steps."""
        return np.linspace(1.0, 1 / steps, steps)

    def _run(self, req: _Request, latents: torch.Tensor, sigmas: np.ndarray, callback=None, output_type="pil"):
        w, h = req.layout.size
        return self.pipe(
            prompt=req.prompt, image=req.diptych, mask_image=req.mask, height=h, width=w,
            num_images_per_prompt=latents.shape[0], latents=latents, sigmas=list(sigmas),
            num_inference_steps=len(sigmas), guidance_scale=req.guidance,
            generator=torch.Generator("cpu").manual_seed(CONDITIONING_SEED),
            max_sequence_length=self.max_sequence_length, output_type=output_type,
            callback_on_step_end=callback).images

    def _results(self, req: _Request, diptychs: list[Image.Image], seeds: list[int]) -> list[EditResult]:
        return [EditResult(right_half(d, req.layout), d, s, req.prompt) for d, s in zip(diptychs, seeds)]

    def decode(self, packed: torch.Tensor, layout: DiptychLayout) -> list[Image.Image]:
        """Packed latents -> diptych images (the pipeline's own unpack / unscale / decode)."""
        pipe = self.pipe
        w, h = layout.size
        lat = pipe._unpack_latents(packed, h, w, pipe.vae_scale_factor)
        lat = lat / pipe.vae.config.scaling_factor + pipe.vae.config.shift_factor
        with torch.no_grad():
            img = pipe.vae.decode(lat.to(pipe.vae.dtype), return_dict=False)[0]
        return pipe.image_processor.postprocess(img, output_type="pil")

    # ----------------------------------------------------------------- public
    def edit(self, image: Image.Image, instruction: str, seed: int = 0, steps: int = 28,
             guidance: float = FILL_GUIDANCE, prompt_mode: str = "ic") -> EditResult:
        """One edit: the right half of the inpainted diptych, at the source's size."""
        return self.edit_seeds(image, instruction, [seed], steps, guidance, prompt_mode)[0]

    def edit_seeds(self, image: Image.Image, instruction: str, seeds: list[int], steps: int = 28,
                   guidance: float = FILL_GUIDANCE, prompt_mode: str = "ic") -> list[EditResult]:
        """Several seeds of one edit in a single batched pipeline call."""
        self._check_steps(steps)
        req = self._request(image, instruction, guidance, prompt_mode)
        diptychs = self._run(req, self.initial_latents(seeds, req.layout), self.sigmas(steps))
        return self._results(req, diptychs, seeds)

    def preview(self, image: Image.Image, instruction: str, seeds: list[int], steps: int = 28,
                preview_steps: int = 4, guidance: float = FILL_GUIDANCE, prompt_mode: str = "ic") -> Previews:
        """Run every seed for `preview_steps` of a `steps`-step schedule (one batched call)
        and return x0 previews: x0 = x_t - sigma_t * v, the rectified-flow estimate of the
        clean image (paper 3.3's "early" look at each noise)."""
        self._check_steps(steps, preview_steps)
        req = self._request(image, instruction, guidance, prompt_mode)
        init = self.initial_latents(seeds, req.layout)
        track = {"before": init, "x0": None}

        def stop_after_m(pipe, i, t, kwargs):
            after = kwargs["latents"]
            if i == preview_steps - 1:
                s_now, s_next = pipe.scheduler.sigmas[i].item(), pipe.scheduler.sigmas[i + 1].item()
                velocity = (after - track["before"]) / (s_next - s_now)
                track["x0"] = after - s_next * velocity
                pipe._interrupt = True  # the pipeline skips the remaining steps
            track["before"] = after
            return kwargs

        latents = self._run(req, init, self.sigmas(steps), callback=stop_after_m, output_type="latent")
        images = [right_half(d, req.layout) for d in self.decode(track["x0"], req.layout)]
        return Previews(images, latents, list(seeds), steps, preview_steps, req)

    def edit_with_previews(self, image: Image.Image, instruction: str, seeds: list[int], steps: int = 28,
                           preview_at: tuple[int, ...] = (1, 2, 4, 6, 10), guidance: float = FILL_GUIDANCE,
                           prompt_mode: str = "ic") -> tuple[list[EditResult], dict[int, list[Image.Image]]]:
        """Full edits of every seed (one batched call) and, on the way, the x0 previews after
        each of `preview_at` steps: what an early-filter judge would have seen for each seed.
        The previews after m steps equal those of `preview(..., preview_steps=m)`."""
        self._check_steps(steps)
        for m in preview_at:
            self._check_steps(steps, m)
        req = self._request(image, instruction, guidance, prompt_mode)
        init = self.initial_latents(seeds, req.layout)
        track = {"before": init, "x0": {}}

        def keep_x0(pipe, i, t, kwargs):
            after = kwargs["latents"]
            if i + 1 in preview_at:
                s_now, s_next = pipe.scheduler.sigmas[i].item(), pipe.scheduler.sigmas[i + 1].item()
                track["x0"][i + 1] = after - s_next * (after - track["before"]) / (s_next - s_now)
            track["before"] = after
            return kwargs

        diptychs = self._run(req, init, self.sigmas(steps), callback=keep_x0)
        previews = {m: [right_half(d, req.layout) for d in self.decode(x0, req.layout)]
                    for m, x0 in sorted(track["x0"].items())}
        return self._results(req, diptychs, seeds), previews

    def resume(self, previews: Previews, index: int) -> EditResult:
        """Finish seed number `index` from its preview on the tail of the same schedule:
        identical to an uninterrupted run of that seed (cost: steps - preview_steps NFE)."""
        req = previews.request
        sigmas = self.sigmas(previews.steps)[previews.preview_steps:]
        diptychs = self._run(req, previews.latents[index:index + 1], sigmas)
        return self._results(req, diptychs, [previews.seeds[index]])[0]
