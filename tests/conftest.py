"""Shared fixtures: tiny random models saved in the real diffusers layouts."""
import os

import pytest
import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # tests never touch the network
torch.set_num_threads(1)


@pytest.fixture(scope="session")
def toy_dir(tmp_path_factory):
    """An untrained miniature (Fill + T2I transformers) in the toy's folder layout."""
    from icedit_lib.miniature import build_fill_pipeline, build_transformer, save_miniature

    path = tmp_path_factory.mktemp("toy")
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
def toy_env(toy_dir, monkeypatch):
    """Point the registry's `toy` at the tiny model."""
    monkeypatch.setenv("ICEDIT_MODEL_TOY", str(toy_dir))
    monkeypatch.setenv("ICEDIT_MODEL_TOY_T2I", str(toy_dir))
    return toy_dir
