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
- T5-XXL (4096) -> a 2-layer T5 of width 64; CLIP-L pooled (768) -> a 2-layer CLIP of width 64.
- Fill input: 64 noisy + 64 masked-image + 256 mask channels (8x: 4 * 8 * 8) ->
  64 + 64 + 64 (4x: 4 * 4 * 4).
"""
from __future__ import annotations

import json
import random
import re
import string
from pathlib import Path

import torch
from diffusers import (AutoencoderKL, FlowMatchEulerDiscreteScheduler, FluxFillPipeline, FluxPipeline,
                       FluxTransformer2DModel)
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer, T5Config, T5EncoderModel, T5TokenizerFast

from . import shapesworld as sw

LATENT_CHANNELS = 16  # FLUX's
T5_MAX_LENGTH = 80  # the pipelines' max_sequence_length for the miniature (FLUX: 512); fits every corpus caption
CLIP_MAX_LENGTH = 77  # CLIP's, as in FLUX


# --------------------------------------------------------------------------- vocabulary
def course_words() -> list[str]:
    """Every word the course's captions, templates and prompts use, sorted.

    The tokenizers give each its own token, so the constant IC prefix costs ~25
    tokens, not 77 characters (a character-level CLIP truncated at 77 gives every
    IC prompt the same pooled vector)."""
    rng = random.Random(0)
    texts = [sw.DIPTYCH_PREFIX, sw.SAME_AS_LEFT, "A diptych with two side-by-side images of the same scene. "
             "On the right, the scene is identical to the left but",
             " ".join(sw.SHAPES + tuple(sw.COLORS) + tuple(sw.BACKGROUNDS) + tuple(sw.SIZES) + tuple(sw.CELLS)),
             " ".join(t for ts in sw.TEMPLATES.values() for t in ts),
             "larger smaller bigger outlines outlined filled solid shapes shape object objects image picture "
             "photo scene edit edited left right same different nothing changes change everything keep kept"]
    for _ in range(400):
        pair = sw.random_pair(rng)
        texts += [pair.instruction, sw.describe_scene(pair.source), sw.diptych_caption(pair.source, pair.edit, True)]
    words = set()
    for text in texts:
        words.update(re.findall(r"[a-z]+", text.lower()))
    return sorted(words)


def _printable_ascii() -> list[str]:
    return [c for c in string.printable if c not in " \t\n\r\x0b\x0c"]


def build_clip_tokenizer() -> CLIPTokenizer:
    """A byte-level BPE CLIP tokenizer, built in memory: merges learned (by the stock
    `tokenizers` BPE trainer) on the course vocabulary so that every course word is one
    token, plus all 256 byte symbols with and without the end-of-word mark, so no text
    is ever unknown."""
    from tokenizers import Tokenizer, models, trainers
    from tokenizers.pre_tokenizers import ByteLevel

    specials = ["<|startoftext|>", "<|endoftext|>"]
    stock = CLIPTokenizer(vocab={s: i for i, s in enumerate(specials)}, merges=[])  # CLIP's pre-processing
    learner = Tokenizer(models.BPE(continuing_subword_prefix="", end_of_word_suffix="</w>", unk_token=specials[1]))
    learner.normalizer = stock.backend_tokenizer.normalizer
    learner.pre_tokenizer = stock.backend_tokenizer.pre_tokenizer
    trainer = trainers.BpeTrainer(vocab_size=10_000, min_frequency=1, special_tokens=specials,
                                  initial_alphabet=ByteLevel.alphabet(), end_of_word_suffix="</w>",
                                  show_progress=False)
    learner.train_from_iterator([" ".join(course_words())], trainer)
    learned = json.loads(learner.to_str())["model"]
    vocab = dict(learned["vocab"])
    for symbol in sorted(ByteLevel.alphabet()):
        for tok in (symbol, symbol + "</w>"):
            vocab.setdefault(tok, len(vocab))
    merges = [tuple(m) for m in learned["merges"]]
    return CLIPTokenizer(vocab=vocab, merges=merges, model_max_length=CLIP_MAX_LENGTH)


def build_t5_tokenizer() -> T5TokenizerFast:
    """A unigram T5 tokenizer, built in memory: whole-word pieces for the course
    vocabulary and single-character pieces for all printable ASCII (never <unk>)."""
    vocab = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("\u2581", -8.0)]
    words = course_words()
    # T5 is cased: lower-case and capitalised words, with and without the word-start mark.
    vocab += [("\u2581" + w, -5.0) for w in words] + [("\u2581" + w.capitalize(), -5.0) for w in words]
    vocab += [(w, -6.0) for w in words]
    vocab += [(c, -12.0) for c in _printable_ascii()] + [("\u2581" + c, -11.0) for c in _printable_ascii()]
    return T5TokenizerFast(vocab=vocab, extra_ids=0, model_max_length=T5_MAX_LENGTH)


# --------------------------------------------------------------------------- models
def build_text_encoders(clip_vocab: int, t5_vocab: int, eos_token_id: int) -> tuple[CLIPTextModel, T5EncoderModel]:
    clip = CLIPTextModel(CLIPTextConfig(
        vocab_size=clip_vocab, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=2, max_position_embeddings=CLIP_MAX_LENGTH, projection_dim=64,
        bos_token_id=0, eos_token_id=eos_token_id, pad_token_id=eos_token_id))
    t5 = T5EncoderModel(T5Config(
        vocab_size=t5_vocab, d_model=64, d_kv=32, d_ff=128, num_layers=2, num_heads=2,
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


def transformer_config(fill: bool, vae_scale_factor: int = 4) -> dict:
    """FluxTransformer2DModel config. Packed latents are 4C channels (2x2 patches); Fill
    adds 4C masked-image channels and 4 s^2 mask channels (the pixel mask, s x s per latent
    pixel, packed): 64 + 64 + 64 = 192 here, 64 + 64 + 256 = 384 for FLUX at 8x."""
    packed = 4 * LATENT_CHANNELS
    return dict(patch_size=1, in_channels=packed * 2 + 4 * vae_scale_factor ** 2 if fill else packed,
                out_channels=packed, num_layers=2, num_single_layers=4, attention_head_dim=32,
                num_attention_heads=4, joint_attention_dim=64, pooled_projection_dim=64,
                guidance_embeds=True, axes_dims_rope=(8, 12, 12))


def build_transformer(fill: bool, vae_scale_factor: int = 4) -> FluxTransformer2DModel:
    return FluxTransformer2DModel(**transformer_config(fill, vae_scale_factor))


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
    (path / "icedit.json").write_text(json.dumps({"panel_width": sw.PANEL, "max_sequence_length": T5_MAX_LENGTH}))
    if t2i_transformer is not None:
        t2i_transformer.save_pretrained(path / T2I_SUBFOLDER, safe_serialization=True)


def assemble(out_dir: str | Path, vae_dir: str | Path | None = None, seed: int = 0) -> Path:
    """Write a miniature in the toy's layout: fresh encoders and transformers, and the
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
