"""The full-scale recipes (quantization, memory presets, compilation) on the tiny FLUX built from configs.
float8 compute and 4-bit weights need a CUDA GPU: on a CPU they must fail with a clear reason."""
import argparse
import importlib.util
import random

import pytest
import torch

from icedit_lib import devices, shapesworld as sw
from icedit_lib.editor import ICEditor


def pretend_gpu(monkeypatch, capability):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: capability)


def test_memory_presets_fill_in_only_what_was_not_given(monkeypatch):
    from icedit_lib.cli import resolve_memory_options

    pretend_gpu(monkeypatch, (9, 0))  # a Hopper: float8 matrix products
    args = argparse.Namespace(memory=24, quantize=None, offload=None, compile=False, device="cuda")
    resolve_memory_options(args)
    assert (args.quantize, args.offload, args.compile) == ("fp8", "model", False)
    args = argparse.Namespace(memory=16, quantize="fp8-weight", offload=None, compile=True, device="auto")
    resolve_memory_options(args)
    assert (args.quantize, args.offload, args.compile) == ("fp8-weight", "model", True)
    args = argparse.Namespace(memory=None, quantize=None, offload=None, compile=False, device="cuda")
    resolve_memory_options(args)
    assert (args.quantize, args.offload, args.compile) == ("none", "none", False)
    assert devices.memory_preset(80).compile and devices.memory_preset(80).quantize == "none"
    with pytest.raises(ValueError, match="--memory"):
        devices.memory_preset(12)


def test_the_24_gb_preset_keeps_float8_weights_where_float8_compute_is_missing(monkeypatch):
    """An A10G or RTX 3090 (compute capability 8.6) cannot multiply float8 matrices: `--memory 24` gives it float8
    weights with bf16 compute instead of an error; an explicit `--quantize fp8` still says why it cannot run."""
    from icedit_lib.cli import resolve_memory_options

    pretend_gpu(monkeypatch, (8, 6))
    args = argparse.Namespace(memory=24, quantize=None, offload=None, compile=False, device="cuda")
    resolve_memory_options(args)
    assert (args.quantize, args.offload) == ("fp8-weight", "model")
    assert devices.MEMORY_PRESETS[24].quantize == "fp8"  # the table itself is unchanged
    with pytest.raises(ValueError, match="compute capability 8.9"):
        devices.transformer_quantization("fp8", "cuda")
    assert devices.memory_preset(24, "cpu").quantize == "fp8-weight"


def test_a_gpu_without_bf16_arithmetic_is_warned_about(monkeypatch):
    pretend_gpu(monkeypatch, (7, 5))  # a T4
    with pytest.warns(UserWarning, match="no bf16 arithmetic"):
        assert devices.pick_dtype("auto", "cuda") == torch.bfloat16
    pretend_gpu(monkeypatch, (8, 0))
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert devices.pick_dtype("auto", "cuda") == torch.bfloat16


@pytest.mark.parametrize("mode", ["fp8", "nf4"])
def test_gpu_only_quantization_fails_clearly_on_a_cpu(mode):
    with pytest.raises(ValueError, match="CUDA GPU"):
        devices.transformer_quantization(mode, "cpu")


@pytest.mark.skipif(importlib.util.find_spec("torchao") is None, reason="torchao is not installed")
def test_fp8_weight_transformer_edits_close_to_the_bf16_one(mini_env):
    source = sw.render(sw.random_scene(random.Random(0)))
    fp8 = ICEditor.from_registry("mini", adapter="none", device="cpu", quantize="fp8-weight")
    weight = fp8.pipe.transformer.transformer_blocks[0].attn.to_q.weight
    assert "Float8" in type(weight).__name__ or "float8" in str(getattr(weight, "dtype", "")).lower() or \
        hasattr(weight, "qdata"), type(weight)
    bf16 = ICEditor.from_registry("mini", adapter="none", device="cpu", dtype="bf16")
    inputs = {"hidden_states": torch.randn(1, 128, 192, dtype=torch.bfloat16),
              "encoder_hidden_states": torch.randn(1, 80, 64, dtype=torch.bfloat16),
              "pooled_projections": torch.randn(1, 64, dtype=torch.bfloat16),
              "timestep": torch.tensor([0.5], dtype=torch.bfloat16), "guidance": torch.tensor([50.0]),
              "img_ids": fp8.pipe._prepare_latent_image_ids(1, 8, 16, "cpu", torch.bfloat16),
              "txt_ids": torch.zeros(80, 3), "return_dict": False}
    with torch.no_grad():
        a, b = fp8.pipe.transformer(**inputs)[0].float(), bf16.pipe.transformer(**inputs)[0].float()
    relative = ((a - b).norm() / b.norm()).item()
    assert 0 < relative < 0.1, relative  # float8 weights: a small, non-zero error against bf16
    assert fp8.edit(source, "make the red circle blue", steps=2).image.size == (64, 64)


def test_cli_refuses_a_gpu_recipe_on_a_cpu_in_one_line(mini_env, tmp_path, capsys):
    from PIL import Image

    from icedit_lib.cli import main

    src = tmp_path / "s.png"
    Image.new("RGB", (64, 64), "white").save(src)
    code = main(["edit", "--image", str(src), "--instruction", "make it red", "--out", str(tmp_path / "o.png"),
                 "--device", "cpu", "--memory", "16", "--adapter", "none"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("icedit: error:") and "CUDA" in err and "\n" not in err.strip()


@pytest.mark.skipif(importlib.util.find_spec("torchao") is None, reason="torchao is not installed")
@pytest.mark.parametrize("adapter", ["mini-lora", "mini-moe"])
def test_the_shipped_adapters_run_on_float8_weights(mini_env, adapter):
    """The 24 GB preset puts ICEdit's adapter on a float8 transformer: peft wraps torchao's quantized Linear
    (never merging into it), and the edit runs."""
    editor = ICEditor.from_registry("mini", adapter=adapter, device="cpu", quantize="fp8-weight")
    wrapped = [m for m in editor.pipe.transformer.modules() if hasattr(m, "base_layer")]
    assert wrapped and all(hasattr(m.base_layer.weight, "qdata") or "Float8" in type(m.base_layer.weight).__name__
                           for m in wrapped if isinstance(m.base_layer, torch.nn.Linear))
    source = sw.render(sw.random_scene(random.Random(1)))
    assert editor.edit(source, "make the background white", steps=2).image.size == (64, 64)


def test_regional_compilation_serves_every_aspect_with_one_compilation():
    """The CUDA recipe (`compile_transformer(..., "cuda")`: regional, dynamic sequence length), run here on CPU
    tensors: the same predictions as eager, and a new aspect compiles nothing more, even at 128 and 192 tokens,
    sizes equal to the miniature's widths (duck shaping would specialise them)."""
    from torch._dynamo.utils import counters
    from torch.fx.experimental import _config as symbolic_shapes_config

    from icedit_lib import miniature as mini

    before = symbolic_shapes_config.use_duck_shape  # torch's default, restored below (monkeypatch hides the key)
    symbolic_shapes_config.use_duck_shape = True
    torch.manual_seed(0)
    transformer = mini.build_transformer(fill=True).eval()
    width = transformer.config.in_channels

    def inputs(tokens):
        return dict(hidden_states=torch.randn(1, tokens, width), encoder_hidden_states=torch.randn(1, 80, 64),
                    pooled_projections=torch.randn(1, 64), timestep=torch.tensor([0.5]),
                    guidance=torch.tensor([50.0]), img_ids=torch.zeros(tokens, 3), txt_ids=torch.zeros(80, 3),
                    return_dict=False)

    aspects = [inputs(128), inputs(192), inputs(256)]  # 128 x 64, 128 x 96, 128 x 128 diptychs
    torch._dynamo.reset()
    try:
        with torch.no_grad():
            eager = [transformer(**x)[0] for x in aspects]
            devices.compile_transformer(transformer, "cuda")
            compiled = [transformer(**aspects[0])[0]]
            graphs = counters["stats"]["unique_graphs"]
            compiled += [transformer(**x)[0] for x in aspects[1:]]
        assert counters["stats"]["unique_graphs"] == graphs, "a new aspect recompiled the blocks"
        for a, b in zip(compiled, eager):
            torch.testing.assert_close(a, b, atol=1e-4, rtol=1e-4)
    finally:
        symbolic_shapes_config.use_duck_shape = before
        torch._dynamo.reset()
