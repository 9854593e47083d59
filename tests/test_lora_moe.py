import pytest
import torch
from safetensors.torch import save_file
from torch import nn

from icedit_lib import lora_moe


def make(router="trainable", top_k=1, n=4):
    torch.manual_seed(0)
    base = nn.Linear(16, 8)
    m = lora_moe.LoRAMoELinear(base, num_experts=n, rank=4, alpha=4, top_k=top_k, router=router)
    for e in range(n):  # non-zero B so experts matter
        nn.init.normal_(m.lora_B[f"expert_{e}"].weight, std=0.5)
    return m


def dense_reference(m, x):
    """Every expert on every token, then selected: what the routed computation must equal."""
    flat = x.reshape(-1, x.shape[-1])
    logits = m.lora_route(flat)
    top_p, top_i = logits.softmax(-1).topk(m.top_k, -1)
    if m.router == "trainable" and m.top_k == 1:
        gates = top_p
    else:  # the authors' layer.py: softmax over the selected logits (by hand)
        top_l = logits.gather(-1, top_i)
        gates = top_l.exp() / top_l.exp().sum(-1, keepdim=True)
    all_experts = torch.stack([m.lora_B[f"expert_{e}"](m.lora_A[f"expert_{e}"](flat)) for e in range(m.num_experts)], 1)
    chosen = all_experts.gather(1, top_i[..., None].expand(-1, -1, all_experts.shape[-1]))
    return m.base(x) + m.scaling * (chosen * gates[..., None]).sum(1).reshape(*x.shape[:-1], -1)


@pytest.mark.parametrize("router,top_k", [("trainable", 1), ("trainable", 2), ("fixed", 1), ("fixed", 2)])
def test_routed_equals_dense_reference(router, top_k):
    m = make(router, top_k)
    x = torch.randn(2, 10, 16)
    torch.testing.assert_close(m(x), dense_reference(m, x))


def test_fixed_top2_weights_by_the_selected_logits_not_uniformly():
    m = make("fixed", 2)
    for e in range(m.num_experts):  # experts that differ, so the weighting shows
        torch.nn.init.normal_(m.lora_B[f"expert_{e}"].weight)
    x = torch.randn(4, 16)
    logits = m.lora_route(x)
    top_l, top_i = logits.topk(2, -1)
    uniform = m.base(x) + m.scaling * sum(
        0.5 * torch.stack([m.lora_B[f"expert_{int(e)}"](m.lora_A[f"expert_{int(e)}"](x[r])) for r, e in
                           enumerate(top_i[:, k])]) for k in range(2))
    assert not torch.allclose(m(x), uniform, atol=1e-4)


def test_starts_as_the_base_layer():
    base = nn.Linear(16, 8)
    m = lora_moe.LoRAMoELinear(base, num_experts=4, rank=4)
    x = torch.randn(3, 16)
    assert torch.equal(m(x), base(x))


class Packed4bitLinear(nn.Linear):
    """What bitsandbytes' 4-bit Linear looks like to an adapter: the weight packed in uint8, a compute dtype."""

    def __init__(self, in_features, out_features):
        super().__init__(in_features, out_features, bias=False)
        self.weight = nn.Parameter(torch.zeros(in_features * out_features // 2, 1, dtype=torch.uint8),
                                   requires_grad=False)
        self.compute_dtype = torch.bfloat16

    def forward(self, x):
        return torch.zeros(*x.shape[:-1], self.out_features, dtype=self.compute_dtype)


def test_experts_on_a_4bit_base_take_its_compute_dtype():
    """The 16 GB preset's 4-bit transformer under ICEdit's LoRA-MoE: experts in bf16, not the packed uint8."""
    m = lora_moe.LoRAMoELinear(Packed4bitLinear(16, 8), num_experts=2, rank=4)
    assert {p.dtype for p in m.lora_A.parameters()} | {m.lora_route.weight.dtype} == {torch.bfloat16}
    assert m(torch.randn(3, 16, dtype=torch.bfloat16)).dtype == torch.bfloat16


def test_router_learns_only_when_trainable():
    for router, learns in (("trainable", True), ("fixed", False)):
        m = make(router)
        m(torch.randn(5, 16)).sum().backward()
        grad = m.lora_route.weight.grad
        assert (grad is not None and grad.abs().sum() > 0) == learns, router


def test_balance_loss():
    m = make()
    m.train()
    m(torch.randn(64, 16))
    assert m.balance_loss is not None and 0.9 < m.balance_loss.item() < 4.0
    m.balance_loss.backward()
    assert m.lora_route.weight.grad.abs().sum() > 0  # the balancing loss reaches the router


def test_placements_on_the_flux_transformer(mini_dir):
    from diffusers import FluxTransformer2DModel

    for placement, expected in (("paper", "transformer_blocks.0.attn.to_out.0"),
                                ("authors", "transformer_blocks.0.ff.net.2")):
        t = FluxTransformer2DModel.from_pretrained(mini_dir, subfolder="transformer")
        names = lora_moe.add_lora_moe(t, placement, num_experts=2, rank=4)
        assert expected in names and "single_transformer_blocks.3.proj_out" in names
        assert set(lora_moe.moe_modules(t)) == set(names)
    with pytest.raises(ValueError):
        lora_moe.add_lora_moe(t, "paper")  # already there


def test_save_load_roundtrip_and_usage(mini_dir, tmp_path):
    from diffusers import FluxFillPipeline

    pipe = FluxFillPipeline.from_pretrained(mini_dir)
    lora_moe.add_lora_moe(pipe.transformer, "paper", num_experts=3, rank=4)
    for m in lora_moe.moe_modules(pipe.transformer).values():
        for e in range(3):
            nn.init.normal_(m.lora_B[f"expert_{e}"].weight, std=0.1)
    lora_moe.save_lora_moe(tmp_path / "moe.safetensors", pipe.transformer, base_model="mini")
    fresh = FluxFillPipeline.from_pretrained(mini_dir)
    config = lora_moe.load_lora_moe(fresh, tmp_path / "moe.safetensors")
    assert config["num_experts"] == 3 and config["router"] == "trainable"
    x = torch.randn(1, 128, 192)
    kw = dict(timestep=torch.tensor([0.5]), guidance=torch.tensor([50.0]), pooled_projections=torch.randn(1, 64),
              encoder_hidden_states=torch.randn(1, 10, 64), txt_ids=torch.zeros(10, 3), img_ids=torch.zeros(128, 3),
              return_dict=False)
    with torch.no_grad():
        a = pipe.transformer(hidden_states=x, **kw)[0]
        with lora_moe.expert_usage(fresh.transformer) as usage:
            b = fresh.transformer(hidden_states=x, **kw)[0]
    assert torch.equal(a, b)
    for name, counts in usage.items():  # every token routed once: image tokens in the double blocks'
        expected = 138 if name.startswith("single") else 128  # attention output, text + image in single blocks
        assert counts.shape == (expected, 3), name


def test_usage_is_counted_per_token_position():
    m = make()
    x = torch.randn(2, 10, 16)
    with lora_moe.expert_usage(nn.Sequential(m)) as usage:
        m(x)
        m(x)
    chosen = m.lora_route(x).argmax(-1)  # [sequences, positions]
    expected = 2 * nn.functional.one_hot(chosen, 4).sum(0)
    assert torch.equal(usage["0"], expected)
    with pytest.raises(ValueError, match="one image size at a time"):
        with lora_moe.expert_usage(nn.Sequential(m)):
            m(x)
            m(torch.randn(2, 12, 16))


def test_routing_dependence_and_token_roles():
    assert lora_moe.routing_dependence(torch.eye(4) * 7) == pytest.approx(1.0)  # the group decides the expert
    assert lora_moe.routing_dependence(torch.ones(3, 4) * 5) == pytest.approx(0.0, abs=1e-12)  # ignores the group
    partial = lora_moe.routing_dependence(torch.tensor([[8, 2], [2, 8]]))
    assert 0.0 < partial < 1.0
    assert lora_moe.token_roles(5, (1, 4)) == ["text", "left", "left", "right", "right"]
    assert lora_moe.token_roles(8, (2, 4)) == ["left", "left", "right", "right"] * 2
    with pytest.raises(ValueError):
        lora_moe.token_roles(3, (1, 4))


def test_moe_routing_experiment_on_a_tiny_moe(mini_env, tmp_path):
    from diffusers import FluxFillPipeline

    from icedit_lib import experiments

    pipe = FluxFillPipeline.from_pretrained(mini_env)
    lora_moe.add_lora_moe(pipe.transformer, "paper", num_experts=3, rank=4)
    lora_moe.save_lora_moe(tmp_path / "moe.safetensors", pipe.transformer, base_model="mini")
    out = tmp_path / "routing"
    record = experiments.main(["moe-routing", "--out-dir", str(out), "--n", "3", "--steps", "2", "--device", "cpu",
                               "--adapter", str(tmp_path / "moe.safetensors")])
    assert record["edit_types"] == ["add", "remove", "recolor"]
    rows, cols = record["token_grid"]
    for name, layer in record["layers"].items():
        assert len(layer["expert_share"]) == 3 and sum(layer["expert_share"]) == pytest.approx(1.0, abs=1e-3)
        for key in ("dependence_on_edit_type", "dependence_on_random_grouping", "dependence_on_role",
                    "dependence_on_position"):
            assert 0.0 <= layer[key] <= 1.0 + 1e-6, (name, key)
        assert set(layer["share_by_role"]) == ({"text", "left", "right"} if name.startswith("single") else {"left", "right"})
        assert len(layer["dominant_expert_map"]) == rows and len(layer["dominant_expert_map"][0]) == cols
    assert (out / "table.md").exists() and (out / "figure.png").stat().st_size > 0
    with pytest.raises(SystemExit, match="no LoRA-MoE"):
        experiments.main(["moe-routing", "--out-dir", str(out), "--n", "1", "--steps", "1", "--device", "cpu",
                          "--adapter", "none"])


def test_instruction_router_picks_one_expert_per_sequence_and_round_trips(mini_dir, tmp_path):
    """`router_input="instruction"`: the router reads FLUX's pooled text embedding (handed over by a
    pre-hook on the transformer), so every token of a sequence goes to the same expert."""
    from diffusers import FluxFillPipeline

    pipe = FluxFillPipeline.from_pretrained(mini_dir)
    t = pipe.transformer
    lora_moe.add_lora_moe(t, "paper", num_experts=3, rank=4, router_input="instruction")
    for m in lora_moe.moe_modules(t).values():
        assert m.lora_route.in_features == t.config.pooled_projection_dim
        nn.init.normal_(m.lora_route.weight, std=1.0)
        for e in range(3):
            nn.init.normal_(m.lora_B[f"expert_{e}"].weight, std=0.1)
    cfg = t.config
    kw = dict(timestep=torch.tensor([0.5] * 4), guidance=torch.tensor([50.0] * 4), return_dict=False,
              pooled_projections=torch.randn(4, cfg.pooled_projection_dim),
              encoder_hidden_states=torch.randn(4, 10, cfg.joint_attention_dim),
              txt_ids=torch.zeros(10, 3), img_ids=torch.zeros(128, 3))
    x = torch.randn(4, 128, cfg.in_channels)
    layer = t.get_submodule("single_transformer_blocks.0.proj_out")
    seen = []
    handle = layer.register_forward_hook(
        lambda m, i, o: seen.append(m._route_logits(i[0].reshape(-1, i[0].shape[-1])).argmax(-1).reshape(4, -1)))
    with torch.no_grad():
        a = t(hidden_states=x, **kw)[0]
    handle.remove()
    chosen = seen[0]
    assert all(len(set(row.tolist())) == 1 for row in chosen)  # one expert per sequence
    lora_moe.save_lora_moe(tmp_path / "moe.safetensors", t, base_model="mini")
    fresh = FluxFillPipeline.from_pretrained(mini_dir)
    config = lora_moe.load_lora_moe(fresh, tmp_path / "moe.safetensors")
    assert config["router_input"] == "instruction"
    with torch.no_grad():
        b = fresh.transformer(hidden_states=x, **kw)[0]
    assert torch.equal(a, b)
    alone = lora_moe.moe_modules(fresh.transformer)["single_transformer_blocks.0.proj_out"]
    alone.route_context = None
    with pytest.raises(RuntimeError, match="pooled text embedding"):
        alone(torch.randn(1, 5, alone.base.in_features))


def test_authors_checkpoint_format_is_converted(mini_dir, tmp_path):
    """Their keys, no config: inferred, routed top-1 with weight 1, as their code does."""
    from diffusers import FluxFillPipeline

    pipe = FluxFillPipeline.from_pretrained(mini_dir)
    tensors, torch_gen = {}, torch.Generator().manual_seed(0)
    names = lora_moe.placement_modules(pipe.transformer, "authors")
    for name in names:
        lin = pipe.transformer.get_submodule(name)
        for e in range(4):
            tensors[f"transformer.{name}.lora_A.expert_{e}.weight"] = torch.randn(8, lin.in_features, generator=torch_gen)
            tensors[f"transformer.{name}.lora_B.expert_{e}.weight"] = torch.randn(lin.out_features, 8, generator=torch_gen) * 0.01
        tensors[f"transformer.{name}.lora_route.weight"] = torch.randn(4, lin.in_features, generator=torch_gen)
    q = pipe.transformer.transformer_blocks[0].attn.to_q  # a plain LoRA beside the experts, as in their file
    plain_a, plain_b = torch.randn(8, q.in_features, generator=torch_gen), torch.randn(q.out_features, 8, generator=torch_gen)
    tensors.update({"transformer.transformer_blocks.0.attn.to_q.lora_A.weight": plain_a,
                    "transformer.transformer_blocks.0.attn.to_q.lora_B.weight": plain_b})
    x_q = torch.randn(3, q.in_features)
    with torch.no_grad():
        expected_q = q(x_q) + x_q @ (plain_b @ plain_a).T
    save_file(tensors, str(tmp_path / "ICEdit-MoE-LoRA.safetensors"))
    config = lora_moe.load_lora_moe(pipe, tmp_path / "ICEdit-MoE-LoRA.safetensors")
    assert config["router"] == "fixed" and config["top_k"] == 1 and config["num_experts"] == 4 and config["rank"] == 8
    m = pipe.transformer.get_submodule(names[0])
    x = torch.randn(5, m.base.in_features)
    k = (x @ tensors[f"transformer.{names[0]}.lora_route.weight"].T).argmax(-1)
    expected = m.base(x) + torch.stack([tensors[f"transformer.{names[0]}.lora_B.expert_{int(e)}.weight"] @
                                        tensors[f"transformer.{names[0]}.lora_A.expert_{int(e)}.weight"] @ xi
                                        for xi, e in zip(x, k)]) * (8 / 8)
    torch.testing.assert_close(m(x), expected, rtol=1e-4, atol=1e-4)
    with torch.no_grad():
        torch.testing.assert_close(pipe.transformer.transformer_blocks[0].attn.to_q(x_q), expected_q, rtol=1e-4, atol=1e-4)
