import pytest
import torch

from icedit_lib import adapters, devices, registry


def test_registry_names():
    for name in ("mini", "flux-fill-dev", "flux-dev", "icedit-lora", "icedit-moe"):
        assert name in registry.REGISTRY
    assert registry.REGISTRY["flux-fill-dev"].source == "black-forest-labs/FLUX.1-Fill-dev"
    assert registry.REGISTRY["icedit-lora"].source == "RiverZ/normal-lora"
    assert registry.REGISTRY["icedit-moe"].source == "sanaka87/ICEdit-MoE-LoRA"


def test_offline_hub_model_gives_clear_error():
    with pytest.raises(registry.ModelNotAvailable, match="hf download black-forest-labs/FLUX.1-Fill-dev"):
        registry.load_fill_pipeline("flux-fill-dev", download=False)


def test_unknown_model():
    with pytest.raises(registry.ModelNotAvailable, match="unknown model"):
        registry.resolve("no-such-model")


def test_local_path_overrides_hub_entry(flux_shaped_dir, monkeypatch):
    """The full-scale path on a tiny random model in FLUX.1 Fill's layout (8x VAE, 384 channels)."""
    monkeypatch.setenv("ICEDIT_MODEL_FLUX_FILL_DEV", str(flux_shaped_dir))
    pipe, entry = registry.load_fill_pipeline("flux-fill-dev", device="cpu", dtype="bf16")
    assert entry.panel_width == 512 and entry.max_sequence_length == 512
    assert pipe.transformer.config.in_channels == 384 and pipe.vae_scale_factor == 8
    assert pipe.transformer.dtype == torch.bfloat16
    assert not pipe.transformer.training


def test_full_scale_editor_runs_on_flux_shaped_model(flux_shaped_dir):
    from PIL import Image

    from icedit_lib.editor import ICEditor

    pipe, _ = registry.load_fill_pipeline(str(flux_shaped_dir), device="cpu")
    editor = ICEditor(pipe, panel_width=64, max_sequence_length=32)  # 16-pixel tokens, as FLUX
    out = editor.edit(Image.new("RGB", (50, 70), "white"), "make it red", steps=1)
    assert out.image.size == (50, 70) and out.diptych.size[1] % 16 == 0


def test_offload_needs_a_gpu(mini_dir):
    pipe, _ = registry.load_fill_pipeline(str(mini_dir), device="cpu")
    with pytest.raises(ValueError, match="needs --device cuda"):
        devices.place(pipe, "cpu", "model")
    with pytest.raises(ValueError):
        devices.place(pipe, "cpu", "turbo")


def test_dtype_names():
    assert devices.pick_dtype("auto", "cpu") == torch.float32
    assert devices.pick_dtype("auto", "cuda") == torch.bfloat16
    with pytest.raises(ValueError):
        devices.pick_dtype("int3", "cpu")


def test_t2i_pipeline_from_mini_folder(mini_env, mini_dir):
    pipe, entry = registry.load_t2i_pipeline("mini-t2i", device="cpu")
    assert pipe.transformer.config.in_channels == 64 and entry.panel_width == 64
    # the same folder by path: its T2I transformer, not the Fill one beside it
    pipe, entry = registry.load_t2i_pipeline(str(mini_dir), device="cpu")
    assert pipe.transformer.config.in_channels == 64 and entry.subfolder == "transformer_t2i"
    fill, _ = registry.load_fill_pipeline(str(mini_dir), device="cpu")
    assert fill.transformer.config.in_channels > 64


def _save_lora(pipe, path, targets=("attn.to_q", "attn.to_k")):
    from diffusers import FluxFillPipeline
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict

    pipe.transformer.add_adapter(LoraConfig(r=4, lora_alpha=4, target_modules=list(targets), init_lora_weights="gaussian"))
    FluxFillPipeline.save_lora_weights(path, transformer_lora_layers=get_peft_model_state_dict(pipe.transformer))


def test_adapter_loads_with_stock_loader_and_refuses_other_base(mini_dir, flux_shaped_dir, tmp_path):
    mini, _ = registry.load_fill_pipeline(str(mini_dir), device="cpu")
    _save_lora(mini, tmp_path / "lora_mini")
    fresh, _ = registry.load_fill_pipeline(str(mini_dir), device="cpu")
    name = adapters.load_adapter(fresh, str(tmp_path / "lora_mini"), base_name="mini")
    assert name in fresh.get_active_adapters()
    flux, _ = registry.load_fill_pipeline(str(flux_shaped_dir), device="cpu")
    flux.transformer.x_embedder  # 384 inputs: a LoRA on x_embedder made for the miniature cannot fit
    _save_lora(registry.load_fill_pipeline(str(mini_dir), device="cpu")[0], tmp_path / "lora_x", targets=("x_embedder",))
    with pytest.raises(adapters.AdapterError, match="does not fit base"):
        adapters.load_adapter(flux, str(tmp_path / "lora_x"), base_name="flux-shaped")


def test_authors_lora_key_format_is_understood(mini_dir, tmp_path):
    """RiverZ/normal-lora stores `transformer.<module>.lora_A.weight`: check and load it."""
    from safetensors.torch import save_file

    pipe, _ = registry.load_fill_pipeline(str(mini_dir), device="cpu")
    inner = pipe.transformer.config.num_attention_heads * pipe.transformer.config.attention_head_dim
    tensors = {}
    for mod in ("transformer_blocks.0.attn.to_q", "single_transformer_blocks.0.proj_out"):
        m = pipe.transformer.get_submodule(mod)
        tensors[f"transformer.{mod}.lora_A.weight"] = torch.randn(4, m.in_features) * 0.01
        tensors[f"transformer.{mod}.lora_B.weight"] = torch.zeros(m.out_features, 4)
    save_file(tensors, str(tmp_path / "pytorch_lora_weights.safetensors"))
    adapters.load_adapter(pipe, str(tmp_path / "pytorch_lora_weights.safetensors"), base_name="mini")
    assert inner == 128 and pipe.get_active_adapters()


def test_unknown_adapter_and_moe_format(tmp_path):
    from safetensors.torch import save_file

    with pytest.raises(adapters.AdapterError, match="unknown adapter"):
        adapters.adapter_file("no-such-adapter")
    with pytest.raises(adapters.AdapterError, match="base model"):
        adapters.adapter_file("mini")
    save_file({"transformer.x.lora_A.expert_0.weight": torch.zeros(2, 2)}, str(tmp_path / "moe.safetensors"))
    with pytest.raises(adapters.AdapterError, match="does not fit"):  # an expert for a module the base lacks
        adapters.check_adapter_fits(torch.nn.Linear(2, 2), tmp_path / "moe.safetensors", "moe", "mini")


def test_available_tells_present_from_missing_without_downloading(mini_env, tmp_path, monkeypatch):
    from icedit_lib import registry

    assert registry.available("mini")
    monkeypatch.setenv("ICEDIT_MODEL_MINI_MOE", str(tmp_path / "nothing_here"))
    assert not registry.available("mini-moe")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert not registry.available("flux-fill-dev")  # not cached here, and no download is tried


def test_default_adapter_is_the_shipped_one_when_present(tmp_path, monkeypatch):
    shipped = registry.REGISTRY[registry.DEFAULT_ADAPTERS["mini"]]
    monkeypatch.setenv(shipped.env_var, str(tmp_path / "adapter"))
    assert registry.default_adapter("mini") == "none"  # not trained yet: the training-free model
    (tmp_path / "adapter").mkdir()
    assert registry.default_adapter("mini") == registry.DEFAULT_ADAPTERS["mini"]
    assert registry.default_adapter("flux-fill-dev") == "icedit-lora"  # ICEdit is FLUX Fill with the authors' LoRA
