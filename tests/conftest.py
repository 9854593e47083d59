"""Shared fixtures: tiny random models saved in the real diffusers layouts."""
import os

import pytest
import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # tests never touch the network
torch.set_num_threads(1)


@pytest.fixture(scope="session")
def mini_dir(tmp_path_factory):
    """An untrained miniature (Fill + T2I transformers) in the miniature's folder layout."""
    from icedit_lib.miniature import build_fill_pipeline, build_transformer, save_miniature

    path = tmp_path_factory.mktemp("mini")
    save_miniature(path, build_fill_pipeline(seed=0), build_transformer(fill=False))
    return path


@pytest.fixture(scope="session")
def flux_shaped_dir(tmp_path_factory):
    """A tiny random FluxFillPipeline with FLUX's 8x VAE: 384 input channels, as FLUX.1 Fill [dev]."""
    from icedit_lib.miniature import build_fill_pipeline

    path = tmp_path_factory.mktemp("flux_shaped")
    build_fill_pipeline(seed=1, downsample=8).save_pretrained(path, safe_serialization=True)
    return path


@pytest.fixture
def mini_env(mini_dir, monkeypatch):
    """Point the registry's `mini` at the tiny model."""
    monkeypatch.setenv("ICEDIT_MODEL_MINI", str(mini_dir))
    monkeypatch.setenv("ICEDIT_MODEL_MINI_T2I", str(mini_dir))
    return mini_dir


@pytest.fixture(scope="session")
def tiny_clip(tmp_path_factory):
    """A tiny random CLIPModel with its processor, saved in the hub layout (a stand-in for openai/clip-vit-*)."""
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPProcessor, CLIPTokenizer

    path = tmp_path_factory.mktemp("clip")
    letters = "abcdefghijklmnopqrstuvwxyz"
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for c in letters:
        vocab.setdefault(c, len(vocab))
        vocab.setdefault(c + "</w>", len(vocab))
    tok = CLIPTokenizer(vocab=vocab, merges=[], model_max_length=16)
    processor = CLIPProcessor(image_processor=CLIPImageProcessor(size={"shortest_edge": 32},
                                                                 crop_size={"height": 32, "width": 32}), tokenizer=tok)
    torch.manual_seed(0)
    model = CLIPModel(CLIPConfig(
        text_config=dict(vocab_size=len(vocab), hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                         num_attention_heads=2, max_position_embeddings=16, bos_token_id=0, eos_token_id=1,
                         pad_token_id=1),
        vision_config=dict(image_size=32, patch_size=8, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                           num_attention_heads=2), projection_dim=8))
    model.save_pretrained(path)
    processor.save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def tiny_dino(tmp_path_factory):
    """A tiny random ViT with its image processor, saved in the hub layout (a stand-in for facebook/dino-vits16)."""
    from transformers import ViTConfig, ViTImageProcessor, ViTModel

    path = tmp_path_factory.mktemp("dino")
    torch.manual_seed(0)
    ViTModel(ViTConfig(image_size=32, patch_size=8, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                       intermediate_size=32), add_pooling_layer=False).save_pretrained(path)
    ViTImageProcessor(size={"height": 32, "width": 32}).save_pretrained(path)
    return path


@pytest.fixture
def judge_model():
    """A factory of tiny miniature-judge models (a random 1-layer T5 as the language tower)."""
    from icedit_lib.mini_judge import ShapesJudgeModel
    from icedit_lib.miniature import build_t5_tokenizer, build_text_encoders

    def build(width: int = 16, **kwargs):
        tokenizer = build_t5_tokenizer()
        _, t5 = build_text_encoders(8, len(tokenizer), tokenizer.eos_token_id, width=16, layers=1)
        return ShapesJudgeModel(t5, reader_width=width, width=width, layers=1, heads=2, **kwargs), tokenizer
    return build
