"""The T2I-inversion framework: the processor mirrors the stock one, recording and injection work,
the stock processors come back, and the full-scale layout runs."""
import random

import numpy as np
import pytest
import torch

from icedit_lib import shapesworld as sw
from icedit_lib.inversion import (InjectionConfig, InversionEditor, KVController, kv_injection,
                                  left_half_tokens)


@pytest.fixture(scope="module")
def editor(mini_dir):
    from diffusers import FluxPipeline, FluxTransformer2DModel

    from icedit_lib.miniature import T5_MAX_LENGTH

    pipe = FluxPipeline.from_pretrained(mini_dir, transformer=FluxTransformer2DModel.from_pretrained(
        mini_dir, subfolder="transformer_t2i"))
    pipe.set_progress_bar_config(disable=True)
    # a random model's modulation would be near zero: perturb so attention matters
    torch.manual_seed(0)
    with torch.no_grad():
        for p in pipe.transformer.parameters():
            p.add_(torch.randn_like(p) * 0.02)
    return InversionEditor(pipe, panel_width=64, max_sequence_length=T5_MAX_LENGTH)


@pytest.fixture(scope="module")
def source():
    return sw.render(sw.random_scene(random.Random(2)))


def forward(transformer, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(1, 128, 64, generator=g)
    text = torch.randn(1, 12, 64, generator=g)
    ids = torch.zeros(128, 3)
    ids[:, 1], ids[:, 2] = torch.arange(128) // 16, torch.arange(128) % 16
    return transformer(hidden_states=x, timestep=torch.tensor([0.5]), guidance=torch.tensor([3.5]),
                       pooled_projections=torch.randn(1, 64, generator=g), encoder_hidden_states=text,
                       txt_ids=torch.zeros(12, 3), img_ids=ids, return_dict=False)[0]


def test_processor_off_equals_stock_processor(editor):
    t = editor.pipe.transformer
    with torch.no_grad():
        stock = forward(t)
        with kv_injection(t, KVController(left_half_tokens(8, 16), 128)):
            mine = forward(t)
    assert torch.equal(stock, mine)
    assert {type(p).__name__ for p in t.attn_processors.values()} == {"FluxAttnProcessor"}


def test_record_every_layer_and_step_then_inject(editor, source):
    t = editor.pipe.transformer
    from icedit_lib.diptych import make_diptych, plan_layout

    diptych, _ = make_diptych(source, plan_layout(source.size, 64, 8))
    ctrl = KVController(left_half_tokens(8, 16), 128, n_steps=4)
    with kv_injection(t, ctrl):
        ctrl.mode = "record"
        inv = editor.invert(diptych, "a prompt", steps=4, guidance=3.5, controller=ctrl)
    layers = {name.rsplit(".processor", 1)[0] for name in t.attn_processors}
    assert len(layers) == 6 and set(ctrl.store) == {(layer, s) for layer in layers for s in range(5)}
    k, v = next(iter(ctrl.store.values()))
    assert k.shape == (1, 64, 4, 32) and v.shape == (1, 64, 4, 32)  # 64 left-half tokens, 4 heads of 32
    assert len(inv.trajectory) == 5 and inv.sigmas[0] == 1.0 and inv.sigmas[-1] == 0.0


def test_what_is_injected_changes_the_edit(editor, source):
    outs = {}
    for name, cfg in {"none": InjectionConfig(steps=0.0), "kv": InjectionConfig(), "k": InjectionConfig(what="k"),
                      "double": InjectionConfig(layers="double")}.items():
        outs[name] = np.asarray(editor.edit(source, "make it blue", seed=1, steps=4, injection=cfg).diptych, int)
    for a, b in [("none", "kv"), ("kv", "k"), ("kv", "double")]:
        assert np.abs(outs[a] - outs[b]).sum() > 0, (a, b)
    again = np.asarray(editor.edit(source, "make it blue", seed=1, steps=4).diptych, int)
    assert np.array_equal(again, outs["kv"])  # deterministic


def test_bad_injection_config():
    with pytest.raises(ValueError):
        InjectionConfig(what="q")
    with pytest.raises(ValueError):
        InjectionConfig(steps=1.5)


def test_full_scale_layout_runs(tmp_path):
    """FLUX.1 [dev]'s layout in miniature: 8x VAE, 16-pixel tokens."""
    from diffusers import FluxPipeline

    from icedit_lib.miniature import build_components, build_transformer

    c = build_components(seed=3, downsample=8)
    c["transformer"] = build_transformer(fill=False, vae_scale_factor=8)
    FluxPipeline(**c).save_pretrained(tmp_path / "flux_dev_like")
    ed = InversionEditor.from_registry(str(tmp_path / "flux_dev_like"), device="cpu")
    ed.panel_width, ed.max_sequence_length = 64, 32
    out = ed.edit(sw.render(sw.random_scene(random.Random(0))).resize((50, 70)), "make it red", steps=2)
    assert out.image.size == (50, 70) and out.diptych.size[1] % 16 == 0
