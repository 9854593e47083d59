import random
import string

import torch

from icedit_lib import miniature as mini
from icedit_lib.diptych import make_prompt


def test_tokenizers_never_produce_unknown_tokens_for_ascii():
    clip, t5 = mini.build_clip_tokenizer(), mini.build_t5_tokenizer()
    rng = random.Random(0)
    texts = ["".join(rng.choice(string.printable) for _ in range(rng.randint(1, 60))) for _ in range(300)]
    texts += ["Make The RED circle BLUE!!!", "~{}|\\`@#$%^&*()_+", "zzqx 123 naïve"[:9]]
    for text in texts:
        assert clip.unk_token_id not in clip(text).input_ids[1:-1], text
        assert t5.unk_token_id not in t5(text).input_ids, text


def test_vocabulary_words_are_single_tokens_whatever_the_case_and_punctuation():
    from icedit_lib.language import VOCABULARY, unknown_words

    clip, t5 = mini.build_clip_tokenizer(), mini.build_t5_tokenizer()
    for w in VOCABULARY:
        assert len(clip.tokenize(w)) == 1 and len(t5.tokenize(w)) == 1, w
    typed = "Could you please make the BACKGROUND white?? thanks :)"
    for tok in (clip, t5):
        assert tok(typed).input_ids == tok("could you please make the background white thanks").input_ids
    assert unknown_words(typed) == [] and unknown_words(typed, t5) == []
    assert unknown_words("Make the zebra blue, the ZEBRA!", t5) == ["zebra"]
    assert t5.tokenize("zebra") == ["\u2581", "z", "e", "b", "r", "a"]  # spelled out, never <unk>


def test_ic_prompts_fit_and_differ_in_pooled_clip():
    """The pitfall of a character-level CLIP: 77 tokens truncated inside the IC prefix
    give every prompt the same pooled vector."""
    clip_tok = mini.build_clip_tokenizer()
    t5_tok = mini.build_t5_tokenizer()
    clip, _ = mini.build_text_encoders(len(clip_tok), len(t5_tok), clip_tok.eos_token_id)
    long_instr = "change the color of the large purple triangle at the bottom right to orange"
    prompt = make_prompt(long_instr)
    assert len(clip_tok(prompt).input_ids) < mini.CLIP_MAX_LENGTH
    assert len(t5_tok(prompt).input_ids) <= mini.T5_MAX_LENGTH
    ids = clip_tok([make_prompt("make the red circle blue"), make_prompt("remove the square")], padding="max_length",
                   max_length=77, truncation=True, return_tensors="pt").input_ids
    with torch.no_grad():
        pooled = clip(ids).pooler_output
    assert not torch.allclose(pooled[0], pooled[1])


def test_channel_counts_follow_the_vae():
    assert mini.transformer_config(fill=False)["in_channels"] == 64
    assert mini.transformer_config(fill=True)["in_channels"] == 192
    assert mini.transformer_config(fill=True, vae_scale_factor=8)["in_channels"] == 384  # FLUX.1 Fill
    for fill in (False, True):
        cfg = mini.transformer_config(fill)
        assert cfg["out_channels"] == 64
        assert sum(cfg["axes_dims_rope"]) == cfg["attention_head_dim"]


def test_pipelines_run_and_roundtrip_in_diffusers_layout(mini_dir):
    from diffusers import FluxFillPipeline, FluxTransformer2DModel

    for sub in ("vae", "transformer", "transformer_t2i", "text_encoder", "text_encoder_2", "tokenizer",
                "tokenizer_2", "scheduler"):
        assert (mini_dir / sub).is_dir(), sub
    assert list(mini_dir.rglob("*.safetensors")) and not list(mini_dir.rglob("*.bin"))
    pipe = FluxFillPipeline.from_pretrained(mini_dir)
    assert pipe.vae_scale_factor == 4 and pipe.transformer.config.in_channels == 192
    t2i = mini.t2i_pipeline_from(pipe, FluxTransformer2DModel.from_pretrained(mini_dir, subfolder="transformer_t2i"))
    img = t2i("filled shapes on a white background: a large red circle at the center", height=64, width=64,
              num_inference_steps=2, max_sequence_length=mini.T5_MAX_LENGTH,
              generator=torch.Generator().manual_seed(0)).images[0]
    assert img.size == (64, 64)


def test_scheduler_shift_matches_flux_diptych():
    from diffusers.pipelines.flux.pipeline_flux import calculate_shift

    cfg = mini.build_scheduler().config
    mini_mu = calculate_shift(128, cfg.base_image_seq_len, cfg.max_image_seq_len, cfg.base_shift, cfg.max_shift)
    flux_mu = calculate_shift(2048, 256, 4096, 0.5, 1.15)  # 512 x 1024 diptych on FLUX
    assert abs(mini_mu - flux_mu) < 1e-9
