"""FLUX in miniature: the stock diffusers / transformers classes at tiny sizes.

Nothing here is a re-implementation: CLIPTextModel, T5EncoderModel, AutoencoderKL,
FluxTransformer2DModel, FlowMatchEulerDiscreteScheduler, FluxPipeline and
FluxFillPipeline are the classes FLUX.1 [dev] and FLUX.1 Fill [dev] ship with;
only the config numbers shrink. That is what lets every later notebook run the
same code on the 12B model and on this one.

Sizes (FLUX.1 -> miniature):
- VAE: 16 latent channels at 8x -> 16 latent channels at 4x (a 64 x 64 panel is a
  16 x 16 latent; 8x left too few latent pixels per 11-pixel shape to reconstruct).
- Transformer: 19 double + 38 single blocks, width 3072 -> 2 double + 4 single, width 128.
- T5-XXL (24 layers, 4096) -> a 4-layer T5 of width 64; CLIP-L pooled (768) -> a 4-layer CLIP of width 64
  (`pretrain_text`'s depth: at 2 layers a linear probe read a cell word's object size only 85% of the time).
- Fill input: 64 noisy + 64 masked-image + 256 mask channels (8x: 4 * 8 * 8) ->
  64 + 64 + 64 (4x: 4 * 4 * 4).
"""
from __future__ import annotations

import json
import string
from pathlib import Path

import torch
from diffusers import (AutoencoderKL, FlowMatchEulerDiscreteScheduler, FluxFillPipeline, FluxPipeline,
                       FluxTransformer2DModel)
from transformers import CLIPTextConfig, CLIPTextModel, PreTrainedTokenizerFast, T5Config, T5EncoderModel

from . import language
from . import shapesworld as sw

LATENT_CHANNELS = 16  # FLUX's
T5_MAX_LENGTH = 80  # the pipelines' max_sequence_length for the miniature (FLUX: 512); fits every corpus caption
CLIP_MAX_LENGTH = 77  # CLIP's, as in FLUX


# --------------------------------------------------------------------------- tokenizers
TOKENIZER_SPECIALS = {  # (start, end, pad) of each text encoder's tokenizer, as in FLUX's CLIP and T5
    "clip": ("<|startoftext|>", "<|endoftext|>", "<|endoftext|>"),
    "t5": (None, "</s>", "<pad>"),
}


def build_tokenizer(kind: str, vocabulary=None, max_length: int | None = None) -> PreTrainedTokenizerFast:
    """A word-level tokenizer for the miniature's CLIP (`kind="clip"`) or T5, built in memory.

    Normalisation first (`language.normalize`'s rule: NFKC, lower case, punctuation to spaces),
    so "Make the BACKGROUND white!!" and "make the background white" are the same tokens. Then a
    unigram model (T5's kind) whose pieces are the words of `language.VOCABULARY`, one token each,
    with single letters and digits as a fallback: no text is ever <unk>, and an unknown word is
    spelled out (`language.unknown_words` names it). FLUX's CLIP uses byte-level BPE; a stock
    `PreTrainedTokenizerFast` holds this one so that the normaliser is saved and reloaded with it
    (the CLIPTokenizer and T5TokenizerFast classes rebuild their own on loading)."""
    from tokenizers import Regex, Tokenizer, models, normalizers, pre_tokenizers, processors

    start, end, pad = TOKENIZER_SPECIALS[kind]
    specials = [t for t in dict.fromkeys((pad, end, "<unk>", start)) if t]
    words = language.VOCABULARY if vocabulary is None else vocabulary
    pieces = [(t, 0.0) for t in specials] + [("\u2581", -8.0)] + [("\u2581" + w, -5.0) for w in words]
    pieces += [(c, -12.0) for c in string.ascii_lowercase + string.digits]
    model = Tokenizer(models.Unigram(pieces, unk_id=specials.index("<unk>")))
    model.normalizer = normalizers.Sequence([
        normalizers.NFKC(), normalizers.Lowercase(), normalizers.Replace(Regex(r"[^a-z0-9 ]+"), " "),
        normalizers.Replace(Regex(r" +"), " "), normalizers.Strip()])
    model.pre_tokenizer = pre_tokenizers.Metaspace()
    template = f"{start} $A {end}" if start else f"$A {end}"
    model.post_processor = processors.TemplateProcessing(
        single=template, special_tokens=[(t, specials.index(t)) for t in (start, end) if t])
    limit = max_length or (CLIP_MAX_LENGTH if kind == "clip" else T5_MAX_LENGTH)
    return PreTrainedTokenizerFast(tokenizer_object=model, model_max_length=limit, pad_token=pad, eos_token=end,
                                   unk_token="<unk>", **({"bos_token": start} if start else {}))


def build_clip_tokenizer() -> PreTrainedTokenizerFast:
    return build_tokenizer("clip")


def build_t5_tokenizer() -> PreTrainedTokenizerFast:
    return build_tokenizer("t5")


# --------------------------------------------------------------------------- models
def build_text_encoders(clip_vocab: int, t5_vocab: int, eos_token_id: int, width: int = 64,
                        layers: int = 4) -> tuple[CLIPTextModel, T5EncoderModel]:
    """FLUX's two text encoders at a tiny size (FLUX: CLIP-L 768 pooled, T5-XXL 4096 wide, 24 layers)."""
    clip = CLIPTextModel(CLIPTextConfig(
        vocab_size=clip_vocab, hidden_size=width, intermediate_size=2 * width, num_hidden_layers=layers,
        num_attention_heads=2, max_position_embeddings=CLIP_MAX_LENGTH, projection_dim=width,
        bos_token_id=0, eos_token_id=eos_token_id, pad_token_id=eos_token_id))
    t5 = T5EncoderModel(T5Config(
        vocab_size=t5_vocab, d_model=width, d_kv=width // 2, d_ff=2 * width, num_layers=layers, num_heads=2,
        dropout_rate=0.0, feed_forward_proj="gated-gelu", is_encoder_decoder=False, use_cache=False))
    return clip.eval(), t5.eval()


def build_vae(downsample: int = 4) -> AutoencoderKL:
    """16 latent channels at 4x downsampling (three levels: 16, 32, 64 wide). `downsample=8`
    adds FLUX's fourth level: used by the tests to build FLUX-shaped tiny models."""
    levels = {4: (16, 32, 64), 8: (16, 32, 64, 64)}[downsample]
    return AutoencoderKL(
        in_channels=3, out_channels=3, latent_channels=LATENT_CHANNELS,
        down_block_types=("DownEncoderBlock2D",) * len(levels), up_block_types=("UpDecoderBlock2D",) * len(levels),
        block_out_channels=levels, layers_per_block=1, norm_num_groups=8, sample_size=64,
        mid_block_add_attention=False, force_upcast=False, scaling_factor=1.0, shift_factor=0.0)


def transformer_config(fill: bool, vae_scale_factor: int = 4, text_width: int = 64) -> dict:
    """FluxTransformer2DModel config. Packed latents are 4C channels (2x2 patches); Fill
    adds 4C masked-image channels and 4 s^2 mask channels (the pixel mask, s x s per latent
    pixel, packed): 64 + 64 + 64 = 192 here, 64 + 64 + 256 = 384 for FLUX at 8x. `text_width`
    is the text encoders' (FLUX: T5's 4096 and CLIP's pooled 768)."""
    packed = 4 * LATENT_CHANNELS
    return dict(patch_size=1, in_channels=fill_in_channels(vae_scale_factor) if fill else packed,
                out_channels=packed, num_layers=2, num_single_layers=4, attention_head_dim=32,
                num_attention_heads=4, joint_attention_dim=text_width, pooled_projection_dim=text_width,
                guidance_embeds=True, axes_dims_rope=(8, 12, 12))


def fill_in_channels(vae_scale_factor: int = 4) -> int:
    """Noisy latents, masked-image latents and the packed pixel mask, side by side."""
    return 4 * LATENT_CHANNELS * 2 + 4 * vae_scale_factor ** 2


def build_transformer(fill: bool, vae_scale_factor: int = 4, text_width: int = 64) -> FluxTransformer2DModel:
    return FluxTransformer2DModel(**transformer_config(fill, vae_scale_factor, text_width))


def build_scheduler() -> FlowMatchEulerDiscreteScheduler:
    """FLUX's scheduler, with the resolution-dependent shift rescaled by 1/16 so that the
    miniature 128-token diptych gets the same shift (mu = 0.80) as FLUX's 2048-token
    512 x 1024 diptych."""
    return FlowMatchEulerDiscreteScheduler(
        num_train_timesteps=1000, shift=3.0, use_dynamic_shifting=True,
        base_image_seq_len=16, max_image_seq_len=256, base_shift=0.5, max_shift=1.15)


def build_components(seed: int = 0, downsample: int = 4) -> dict:
    """Fresh (untrained) components of a miniature FluxFillPipeline, seeded."""
    torch.manual_seed(seed)
    tok, tok2 = build_clip_tokenizer(), build_t5_tokenizer()
    clip, t5 = build_text_encoders(len(tok), len(tok2), tok.eos_token_id)
    return dict(scheduler=build_scheduler(), vae=build_vae(downsample), text_encoder=clip, tokenizer=tok,
                text_encoder_2=t5, tokenizer_2=tok2, transformer=build_transformer(True, downsample))


def build_fill_pipeline(seed: int = 0, downsample: int = 4) -> FluxFillPipeline:
    return FluxFillPipeline(**build_components(seed, downsample))


def t2i_pipeline_from(fill: FluxFillPipeline, t2i_transformer: FluxTransformer2DModel) -> FluxPipeline:
    """The text-to-image pipeline sharing a Fill pipeline's VAE, encoders and scheduler."""
    c = fill.components
    return FluxPipeline(scheduler=c["scheduler"], vae=c["vae"], text_encoder=c["text_encoder"],
                        tokenizer=c["tokenizer"], text_encoder_2=c["text_encoder_2"],
                        tokenizer_2=c["tokenizer_2"], transformer=t2i_transformer)


T2I_SUBFOLDER = "transformer_t2i"  # beside the Fill model's `transformer/` in one folder


def save_miniature(path: str | Path, fill: FluxFillPipeline, t2i_transformer: FluxTransformer2DModel | None = None):
    """Save in the diffusers folder layout (safetensors); the T2I transformer goes beside
    the Fill one so that VAE and encoders are stored once."""
    path = Path(path)
    fill.save_pretrained(path, safe_serialization=True)
    (path / "icedit.json").write_text(json.dumps({"panel_width": sw.PANEL, "max_sequence_length": T5_MAX_LENGTH,
                                                  "word_level_text": True}))
    if t2i_transformer is not None:
        t2i_transformer.save_pretrained(path / T2I_SUBFOLDER, safe_serialization=True)


def assemble(out_dir: str | Path, vae_dir: str | Path | None = None, seed: int = 0) -> Path:
    """Write a miniature in the miniature's layout: fresh encoders and transformers, and the
    pretrained VAE from `vae_dir` if given. The pretraining scripts overwrite the parts
    they train; this is their starting point."""
    pipe = build_fill_pipeline(seed)
    if vae_dir is not None:
        pipe.vae = AutoencoderKL.from_pretrained(vae_dir)
        pipe.register_modules(vae=pipe.vae)
    save_miniature(out_dir, pipe, build_transformer(fill=False))
    return Path(out_dir)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Assemble a miniature FLUX folder (untrained transformers).")
    parser.add_argument("--out-dir", required=True)
    parser.add_argument("--vae", default=None, help="a trained AutoencoderKL folder")
    args = parser.parse_args()
    print(assemble(args.out_dir, args.vae))
