"""The Qwen2.5-VL judge on a tiny random Qwen2.5-VL built offline from a config, saved and reloaded
in the hub layout: inputs are well-formed, the answer is a probability, both orders are used."""
import pytest
import torch
from PIL import Image

from icedit_lib.judge import QwenVLJudge


def tiny_qwen(tmp_path):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from tokenizers.pre_tokenizers import ByteLevel
    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration, Qwen2TokenizerFast
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

    backend = Tokenizer(models.BPE(vocab={t: i for i, t in enumerate(sorted(ByteLevel.alphabet()))}, merges=[]))
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    tok = Qwen2TokenizerFast(tokenizer_object=backend, unk_token=None, bos_token=None, eos_token="<|im_end|>",
                             pad_token="<|endoftext|>")
    tok.add_special_tokens({"additional_special_tokens": ["<|im_start|>", "<|vision_start|>", "<|vision_end|>",
                                                          "<|image_pad|>", "<|video_pad|>"]})
    ip = Qwen2VLImageProcessorPil(patch_size=8, merge_size=2, temporal_patch_size=2, min_pixels=16 * 16,
                                  max_pixels=64 * 64)
    ids = {k: tok.convert_tokens_to_ids(v) for k, v in dict(
        image_token_id="<|image_pad|>", video_token_id="<|video_pad|>", vision_start_token_id="<|vision_start|>",
        vision_end_token_id="<|vision_end|>").items()}
    cfg = Qwen2_5_VLConfig(
        text_config=dict(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                         num_attention_heads=2, num_key_value_heads=1,
                         rope_parameters={"rope_type": "default", "rope_theta": 10000.0, "mrope_section": [2, 3, 3]}),
        vision_config=dict(depth=1, hidden_size=32, out_hidden_size=32, num_heads=2, intermediate_size=64,
                           patch_size=8, spatial_merge_size=2, temporal_patch_size=2, window_size=16,
                           fullatt_block_indexes=[0]), **ids)
    torch.manual_seed(0)
    model = Qwen2_5_VLForConditionalGeneration(cfg)
    model.save_pretrained(tmp_path)
    tok.save_pretrained(tmp_path)
    ip.save_pretrained(tmp_path)
    return tmp_path


def test_qwen_judge_structure(tmp_path):
    path = tiny_qwen(tmp_path)
    judge = QwenVLJudge.from_pretrained(str(path), device="cpu", dtype="fp32")
    s, a, b = (Image.new("RGB", (64, 48), c) for c in ("white", "red", "blue"))
    inputs = judge.inputs([s, a, b], "make it red")
    n_pad = int((inputs["input_ids"] == judge.tokenizer.convert_tokens_to_ids("<|image_pad|>")).sum())
    assert n_pad == int(inputs["image_grid_thw"].prod(-1).sum()) // 4  # one token per merged 2x2 patch
    p = judge.p_first(s, a, b, "make it red")
    assert 0.0 < p < 1.0
    q = judge.prefer(s, a, b, "make it red")
    assert q == pytest.approx(0.5 * (p + 1 - judge.p_first(s, b, a, "make it red")))


def test_4bit_needs_bitsandbytes(tmp_path):
    import importlib.util

    if importlib.util.find_spec("bitsandbytes") is not None:
        pytest.skip("bitsandbytes is installed here")
    with pytest.raises(ValueError, match="bitsandbytes"):
        QwenVLJudge.from_pretrained(str(tmp_path), device="cpu", load_in_4bit=True)


def test_cli_early_filter_with_a_local_judge(mini_env, tmp_path, capsys):
    from icedit_lib import shapesworld as sw
    from icedit_lib.cli import main

    judge_dir = tiny_qwen(tmp_path / "judge")
    src = tmp_path / "src.png"
    sw.render(sw.Scene("white", "filled", (sw.Obj("circle", "red", "large", "center"),))).save(src)
    args = ["edit", "--image", str(src), "--instruction", "make it blue", "--out", str(tmp_path / "o.png"),
            "--steps", "4", "--num-seeds", "3", "--filter-steps", "2", "--judge", str(judge_dir)]
    assert main(args) == 0, capsys.readouterr().err
    assert Image.open(tmp_path / "o.png").size == (64, 64)
    assert main(args[:-2] + ["--judge", "none"]) == 2
    assert "needs a --judge" in capsys.readouterr().err
    assert main(args[:-2] + ["--judge", "no-such-judge"]) == 2
