"""LoRA-MoE (paper section 3.2): a mixture of LoRA experts with a learned router.

One LoRA struggles to serve every kind of edit (removal, recoloring, style, ...); the
paper puts N LoRA experts of rank r in parallel on a Linear layer and lets a one-layer
router pick the top-k for each token:

    y = W x + (alpha / r) * sum_{e in topk(x)} g_e(x) * B_e A_e x

Fixed here against the authors' code (River-Zhang/ICEdit, `icedit/peft/tuners/lora/layer.py`):
- they weight the chosen experts by a softmax over the selected logits alone; at their top-1
  that is always 1.0, so the router gets no gradient and stays a random projection. Here a
  top-1 expert is weighted by its router probability (`router="trainable"`, Switch-Transformer
  style); `router="fixed"` reproduces theirs (at top-k > 1 both take their softmax);
- they add no load-balancing loss; here each layer exposes the Switch loss
  N * sum_e f_e * P_e (f_e: share of tokens routed to e, P_e: mean router probability);
- they compute every expert for every token; here each expert runs on its tokens only.

Not in the paper: `router_input="instruction"` routes on the pooled text embedding instead of
the token, one expert per edit, to test whether specialisation by edit type is what helps
(`results/moe_routing`: the token router splits the canvas by position, not edits by type).

Checkpoints use the authors' key names (`<module>.lora_A.expert_k.weight`,
`<module>.lora_B.expert_k.weight`, `<module>.lora_route.weight`), so their released
file loads with `load_lora_moe` (router "fixed", top-1), and plain-LoRA keys in the same
file go through diffusers' stock `load_lora_adapter`.
"""
from __future__ import annotations

import json
import math
from contextlib import contextmanager
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import save_file
from torch import nn

from .checkpoints import atomic_path

ROUTERS = ("trainable", "fixed")
# What the router reads. "token": each token's own input (the paper's); "instruction": the
# transformer's pooled text embedding (FLUX's `pooled_projections`, CLIP's summary of the prompt),
# one choice per sequence, so that experts can only split by what is asked (an ablation: is
# task-level routing what the paper's premise needs?).
ROUTER_INPUTS = ("token", "instruction")
# Where the experts go. "paper": the multi-modal attention's output projection (double
# blocks) and the single blocks' output projection. "authors": their released code.
PLACEMENTS = {
    "paper": (r"transformer_blocks.{i}.attn.to_out.0", r"single_transformer_blocks.{i}.proj_out"),
    "authors": (r"transformer_blocks.{i}.ff.net.2", r"single_transformer_blocks.{i}.proj_out"),
}
MOE_KEY_MARKERS = (".expert_", "lora_route")


class LoRAMoELinear(nn.Module):
    """A frozen Linear plus N routed LoRA experts (the authors' key layout)."""

    def __init__(self, base: nn.Linear, num_experts: int = 4, rank: int = 32, alpha: float = 32.0, top_k: int = 1,
                 router: str = "trainable", router_input: str = "token", context_dim: int | None = None):
        super().__init__()
        if router not in ROUTERS:
            raise ValueError(f"router must be one of {ROUTERS}, got {router!r}")
        if router_input not in ROUTER_INPUTS:
            raise ValueError(f"router_input must be one of {ROUTER_INPUTS}, got {router_input!r}")
        if router_input == "instruction" and not context_dim:
            raise ValueError("router_input 'instruction' needs context_dim, the pooled text embedding's size")
        if not 1 <= top_k <= num_experts:
            raise ValueError(f"top_k must be in [1, {num_experts}], got {top_k}")
        self.base = base.requires_grad_(False)
        self.num_experts, self.rank, self.alpha, self.top_k, self.router = num_experts, rank, alpha, top_k, router
        self.router_input = router_input
        self.route_context: torch.Tensor | None = None  # [sequences, context_dim], set per forward (instruction)
        self.scaling = alpha / rank
        dev, dtype = base.weight.device, base.weight.dtype
        if not dtype.is_floating_point:  # a 4-bit base (bitsandbytes packs it in uint8): its compute dtype
            dtype = getattr(base, "compute_dtype", None) or torch.bfloat16
        self.lora_A = nn.ModuleDict({f"expert_{e}": nn.Linear(base.in_features, rank, bias=False, device=dev,
                                                              dtype=dtype) for e in range(num_experts)})
        self.lora_B = nn.ModuleDict({f"expert_{e}": nn.Linear(rank, base.out_features, bias=False, device=dev,
                                                              dtype=dtype) for e in range(num_experts)})
        route_in = base.in_features if router_input == "token" else context_dim
        self.lora_route = nn.Linear(route_in, num_experts, bias=False, device=dev, dtype=dtype)
        for e in range(num_experts):  # gaussian A, zero B: the module starts as the base layer (as LoRA)
            nn.init.normal_(self.lora_A[f"expert_{e}"].weight, std=1 / rank)
            nn.init.zeros_(self.lora_B[f"expert_{e}"].weight)
        self.balance_loss: torch.Tensor | None = None
        self.track_usage = False
        self.disabled = False  # True: the base layer alone (`train.adapters_off`)
        self.usage: torch.Tensor | None = None  # [token position, expert] counts while tracked (`expert_usage`)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.base(x)
        if self.disabled:
            return out
        flat = x.reshape(-1, x.shape[-1])
        logits = self._route_logits(flat).float()  # [tokens, N]
        probs = logits.softmax(-1)
        top_p, top_i = probs.topk(self.top_k, dim=-1)
        if self.router == "fixed" or self.top_k > 1:
            # the authors': a softmax over the selected logits alone (at top-1 always 1.0, no gradient)
            gates = logits.gather(-1, top_i).softmax(-1)
        else:  # Switch: the chosen expert weighted by its router probability, so the router learns
            gates = top_p
        delta = torch.zeros(flat.shape[0], out.shape[-1], device=out.device, dtype=out.dtype)
        for e in range(self.num_experts):
            rows, slot = (top_i == e).nonzero(as_tuple=True)
            if rows.numel():  # only the tokens routed to expert e are computed
                h = self.lora_B[f"expert_{e}"](self.lora_A[f"expert_{e}"](flat[rows]))
                delta.index_add_(0, rows, h * gates[rows, slot, None].to(h.dtype))
        if self.training and self.router == "trainable":  # Switch load balancing
            share = torch.bincount(top_i[:, 0], minlength=self.num_experts).float() / top_i.shape[0]
            self.balance_loss = self.num_experts * (share * probs.mean(0)).sum()
        if self.track_usage:
            self._count_usage(top_i[:, 0].detach().cpu().reshape(-1, x.shape[-2]))
        return out + self.scaling * delta.reshape(out.shape)

    def _route_logits(self, flat: torch.Tensor) -> torch.Tensor:
        """Router logits per token: from the token itself, or from its sequence's pooled text embedding."""
        if self.router_input == "token":
            return self.lora_route(flat)
        if self.route_context is None:
            raise RuntimeError("an instruction-routed LoRA-MoE needs the transformer's pooled text embedding: "
                               "call the transformer (add_lora_moe hooks it), not the layer alone")
        per_sequence = self.lora_route(self.route_context.to(flat.dtype))  # [sequences, N]
        tokens = flat.shape[0] // per_sequence.shape[0]
        return per_sequence.repeat_interleave(tokens, dim=0)

    def _count_usage(self, chosen: torch.Tensor) -> None:
        """Add one routing decision per (sequence, token position) of `chosen` [sequences, tokens]."""
        counts = nn.functional.one_hot(chosen, self.num_experts).sum(0)
        if self.usage is None:
            self.usage = counts
        elif self.usage.shape != counts.shape:
            raise ValueError(f"expert_usage: sequences of {self.usage.shape[0]} and of {counts.shape[0]} tokens in "
                             "one block; count one image size at a time")
        else:
            self.usage += counts


def placement_modules(transformer, placement: str | list[str]) -> list[str]:
    """Module names for a placement preset ("paper", "authors") or an explicit list."""
    if not isinstance(placement, str):
        return list(placement)
    if placement not in PLACEMENTS:
        raise ValueError(f"placement must be one of {sorted(PLACEMENTS)} or a list of module names")
    double, single = PLACEMENTS[placement]
    cfg = transformer.config
    return [double.format(i=i) for i in range(cfg.num_layers)] + \
           [single.format(i=i) for i in range(cfg.num_single_layers)]


def add_lora_moe(transformer, placement="paper", num_experts: int = 4, rank: int = 32, alpha: float = 32.0,
                 top_k: int = 1, router: str = "trainable", router_input: str = "token") -> list[str]:
    """Replace each target Linear with a LoRAMoELinear, in place; return the names."""
    names = placement_modules(transformer, placement)
    context_dim = transformer.config.pooled_projection_dim if router_input == "instruction" else None
    for name in names:
        parent_name, _, child = name.rpartition(".")
        parent = transformer.get_submodule(parent_name)
        base = getattr(parent, child) if not child.isdigit() else parent[int(child)]
        if isinstance(base, LoRAMoELinear):
            raise ValueError(f"{name} already holds a LoRA-MoE")
        if not isinstance(base, nn.Linear):
            raise ValueError(f"{name} is a {type(base).__name__}, not a Linear: it cannot host LoRA experts")
        moe = LoRAMoELinear(base, num_experts, rank, alpha, top_k, router, router_input, context_dim)
        if child.isdigit():
            parent[int(child)] = moe
        else:
            setattr(parent, child, moe)
    if router_input == "instruction":  # hand FLUX's pooled text embedding to the experts before each forward
        routed = list(moe_modules(transformer).values())

        def share_pooled_text(module, args, kwargs) -> None:
            pooled = kwargs["pooled_projections"] if "pooled_projections" in kwargs else args[2]
            for m in routed:
                m.route_context = pooled

        transformer.register_forward_pre_hook(share_pooled_text, with_kwargs=True)
    transformer._lora_moe_config = dict(placement=names, num_experts=num_experts, rank=rank, alpha=alpha,
                                        top_k=top_k, router=router, router_input=router_input)
    return names


def moe_modules(transformer) -> dict[str, LoRAMoELinear]:
    return {n: m for n, m in transformer.named_modules() if isinstance(m, LoRAMoELinear)}


def balance_loss(transformer) -> torch.Tensor:
    """Mean Switch load-balancing loss of the last forward over all MoE layers (0 if none)."""
    losses = [m.balance_loss for m in moe_modules(transformer).values() if m.balance_loss is not None]
    return torch.stack(losses).mean() if losses else torch.zeros(())


@contextmanager
def expert_usage(transformer):
    """Count, per MoE layer, which expert each token position was routed to inside the block:
    `counts[layer]` is a [positions, experts] tensor (sum over positions for the totals). In the
    double blocks' attention output the positions are the image tokens; in the single blocks the
    text tokens come first, then the image tokens (row-major over the token grid)."""
    mods = moe_modules(transformer)
    for m in mods.values():
        m.usage = None
        m.track_usage = True
    counts: dict[str, torch.Tensor] = {}
    try:
        yield counts
    finally:
        for name, m in mods.items():
            m.track_usage = False
            counts[name] = m.usage if m.usage is not None else torch.zeros(0, m.num_experts, dtype=torch.long)
            m.usage = None


def _entropy(p: torch.Tensor) -> torch.Tensor:
    p = p[p > 0]
    return -(p * p.log()).sum()


def routing_balance(counts) -> float:
    """H(expert) / log N of a layer's [experts] token counts: 1 when every expert serves as many tokens."""
    share = torch.as_tensor(counts, dtype=torch.float64)
    return float(_entropy(share / share.sum()) / math.log(len(share)))


def routing_dependence(table) -> float:
    """How much of the routing a grouping explains: I(group; expert) / H(expert) for a
    [groups, experts] count table (rows: edit types, token positions, ...). 0 when the experts
    are chosen alike in every group, 1 when the group decides the expert. The paper's premise
    (section 3.2) is that experts specialise by kind of edit: that is a high value for edit types."""
    joint = torch.as_tensor(table, dtype=torch.float64)
    joint = joint / joint.sum()
    expert, group = joint.sum(0), joint.sum(1, keepdim=True)
    h_expert = _entropy(expert)
    nz = joint > 0
    mutual = (joint[nz] * (joint / (group * expert))[nz].log()).sum()
    return max(0.0, float(mutual / h_expert)) if h_expert > 0 else 0.0  # rounding can dip below 0


def token_roles(num_tokens: int, grid: tuple[int, int]) -> list[str]:
    """The role of each position of a diptych's token sequence: "text", "left" or "right" panel.
    The image tokens are the last rows x cols of the sequence, row-major on `grid` = (rows, cols)."""
    rows, cols = grid
    n_text = num_tokens - rows * cols
    if n_text < 0:
        raise ValueError(f"{num_tokens} tokens cannot hold a {rows} x {cols} token grid")
    return ["text"] * n_text + ["left" if i % cols < cols // 2 else "right" for i in range(rows * cols)]


def moe_state_dict(transformer, prefix: str = "transformer.") -> dict[str, torch.Tensor]:
    """The experts and routers under the authors' key names."""
    out = {}
    for name, m in moe_modules(transformer).items():
        for e in range(m.num_experts):
            out[f"{prefix}{name}.lora_A.expert_{e}.weight"] = m.lora_A[f"expert_{e}"].weight.detach().cpu().clone()
            out[f"{prefix}{name}.lora_B.expert_{e}.weight"] = m.lora_B[f"expert_{e}"].weight.detach().cpu().clone()
        out[f"{prefix}{name}.lora_route.weight"] = m.lora_route.weight.detach().cpu().clone()
    return out


def save_lora_moe(path: str | Path, transformer, lora_state: dict[str, torch.Tensor] | None = None,
                  base_model: str = "") -> Path:
    """One safetensors file: plain-LoRA keys (diffusers format) + MoE keys, config in metadata."""
    tensors = dict(lora_state or {})
    tensors.update(moe_state_dict(transformer))
    config = dict(getattr(transformer, "_lora_moe_config", {}), base_model=base_model)
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata={"icedit_lora_moe": json.dumps(config)})
    return Path(path)


def read_moe_file(path: str | Path) -> tuple[dict, dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """(config, MoE tensors, plain LoRA tensors); the config is inferred for the authors' file."""
    with safe_open(str(path), "pt") as f:
        meta = f.metadata() or {}
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    moe = {k: v for k, v in tensors.items() if any(mk in k for mk in MOE_KEY_MARKERS)}
    plain = {k: v for k, v in tensors.items() if k not in moe}
    if "icedit_lora_moe" in meta:
        config = json.loads(meta["icedit_lora_moe"])
    else:  # the authors' checkpoint: infer, and reproduce their routing (top-1, weight 1)
        modules = sorted({k.split(".lora_route.")[0].removeprefix("transformer.") for k in moe if "lora_route" in k})
        if not modules:
            raise ValueError(f"{path} holds no LoRA-MoE layers")
        route = moe[f"transformer.{modules[0]}.lora_route.weight"]
        rank = moe[f"transformer.{modules[0]}.lora_A.expert_0.weight"].shape[0]
        config = dict(placement=modules, num_experts=route.shape[0], rank=rank, alpha=float(rank), top_k=1,
                      router="fixed", base_model="unknown (authors' format)")
    return config, moe, plain


def load_lora_moe(pipe, path: str | Path, adapter_name: str = "moe") -> dict:
    """Add the MoE layers to `pipe.transformer` and load their weights; plain-LoRA keys in the
    same file go through the stock `load_lora_adapter` of the transformer (the one they belong
    to; the pipeline's `load_lora_weights` would also look for text-encoder keys). Returns the config."""
    config, moe, plain = read_moe_file(path)
    transformer = pipe.transformer
    if not moe_modules(transformer):
        add_lora_moe(transformer, config["placement"], config["num_experts"], config["rank"], config["alpha"],
                     config["top_k"], config["router"], config.get("router_input", "token"))
    missing = []
    for name, m in moe_modules(transformer).items():
        for e in range(m.num_experts):
            for part in ("lora_A", "lora_B"):
                key = f"transformer.{name}.{part}.expert_{e}.weight"
                if key not in moe:
                    missing.append(key)
                    continue
                getattr(m, part)[f"expert_{e}"].weight.data.copy_(moe[key])
        m.lora_route.weight.data.copy_(moe[f"transformer.{name}.lora_route.weight"])
    if missing:
        raise ValueError(f"{path} lacks {len(missing)} expert weights, e.g. {missing[0]}")
    if plain:
        transformer.load_lora_adapter(plain, prefix="transformer", adapter_name=adapter_name)
    return config
