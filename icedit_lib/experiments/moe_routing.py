"""What a LoRA-MoE router decides on (the premise of paper section 3.2: experts specialise by kind of edit)."""
from __future__ import annotations

import json
import random
from pathlib import Path

from tqdm.auto import tqdm

from ..checkpoints import atomic_write_text
from ..shapesworld import EDIT_TYPES
from ..suites import make_suite
from .common import save_figure


def moe_routing(out_dir: str | Path, n: int = 64, steps: int = 28, seed: int = 0, suite_seed: int = 4006,
                device: str = "auto", base: str = "mini", adapter: str = "mini-moe") -> dict:
    """What a LoRA-MoE's router decides on: for each MoE layer, how much of the expert choice the edit
    type explains (the paper's premise, section 3.2: experts specialise by kind of edit), against the
    token's role (text, left panel, right panel) and its position. Counted over every token of every
    sampling step of the edits of the fine-tuning table's held-out suite (`suite_seed` 4006)."""
    import matplotlib.pyplot as plt
    import torch

    from .. import lora_moe
    from ..diptych import plan_layout
    from ..editor import ICEditor
    from ..images import load_image
    from ..suites import load_suite

    out = Path(out_dir)
    rows = load_suite(make_suite(out / "suite", n=n, seed=suite_seed))
    editor = ICEditor.from_registry(base, adapter=adapter, device=device)
    if not lora_moe.moe_modules(editor.pipe.transformer):
        raise SystemExit(f"moe-routing: adapter {adapter!r} holds no LoRA-MoE layers")
    editor.pipe.set_progress_bar_config(disable=True)
    positions: dict[str, torch.Tensor] = {}  # layer -> [positions, experts], summed over the edits
    by_edit: dict[str, list[torch.Tensor]] = {}  # layer -> one [experts] count per edit, in suite order
    grid = None
    for row in tqdm(rows, desc="moe-routing"):
        image = load_image(row["image_path"])
        width, height = plan_layout(image.size, editor.panel_width, editor.token_pixels).panel_size
        row_grid = (height // editor.token_pixels, 2 * width // editor.token_pixels)
        if grid not in (None, row_grid):
            raise SystemExit("moe-routing: the suite's images differ in size; count one size at a time")
        grid = row_grid
        with lora_moe.expert_usage(editor.pipe.transformer) as counts:
            editor.edit(image, row["instruction"], seed=seed, steps=steps)
        for layer, c in counts.items():
            positions[layer] = positions[layer] + c if layer in positions else c
            by_edit.setdefault(layer, []).append(c.sum(0))
    kinds = [r["edit_type"] for r in rows]
    types = [t for t in EDIT_TYPES if t in kinds]

    def grouped(table: torch.Tensor, labels: list[str], names: list[str]) -> torch.Tensor:
        """[len(names), experts]: the rows of `table` summed by their label."""
        return torch.stack([table[[i for i, label in enumerate(labels) if label == name]].sum(0) for name in names])

    layers = {}
    for layer, at in positions.items():
        edits = torch.stack(by_edit[layer])
        roles = lora_moe.token_roles(at.shape[0], grid)
        role_names = [r for r in ("text", "left", "right") if r in roles]
        by_role = grouped(at, roles, role_names)
        share = at.sum(0).double() / at.sum()
        # chance level for the edit type: the same edits dealt at random into groups of the same sizes
        rng = random.Random(seed)
        shuffled = [lora_moe.routing_dependence(grouped(edits, rng.sample(kinds, len(kinds)), types))
                    for _ in range(20)]
        layers[layer] = {
            "expert_share": [round(float(x), 4) for x in share],
            "balance": round(lora_moe.routing_balance(at.sum(0)), 4),
            "dependence_on_edit_type": round(lora_moe.routing_dependence(grouped(edits, kinds, types)), 4),
            "dependence_on_random_grouping": round(sum(shuffled) / len(shuffled), 4),
            "dependence_on_role": round(lora_moe.routing_dependence(by_role), 4),
            "dependence_on_position": round(lora_moe.routing_dependence(at), 4),
            "share_by_role": {name: [round(float(x), 3) for x in r / r.sum()] for name, r in zip(role_names, by_role)},
            "dominant_expert_map": at[-grid[0] * grid[1]:].argmax(-1).reshape(grid).tolist()}
    title = f"What the LoRA-MoE router decides on ({adapter}, {n} held-out edits, {steps} steps)"
    table = (f"**{title}**\n\nShare of the routing's entropy explained, I(group; expert) / H(expert): 0 = the router "
             "ignores the grouping, 1 = the grouping decides the expert. Chance: the same edits dealt at random into groups "
             "as large as the edit types (mean of 20 deals). Balance: H(expert) / log N.\n\n"
             "| layer | balance | edit type | chance | token role (text / left / right) | token position |\n"
             "|---|---|---|---|---|---|\n")
    table += "".join(f"| `{k}` | {v['balance']:.2f} | {v['dependence_on_edit_type']:.3f} | "
                     f"{v['dependence_on_random_grouping']:.3f} | {v['dependence_on_role']:.3f} | "
                     f"{v['dependence_on_position']:.3f} |\n" for k, v in layers.items())
    record = {"experiment": "moe-routing", "adapter": adapter, "base": base, "n": n, "steps": steps,
              "suite_seed": suite_seed, "token_grid": list(grid), "edit_types": types,
              "command": f"python -m icedit_lib.experiments moe-routing --out-dir {out_dir} --n {n} --steps {steps} "
                         f"--adapter {adapter}", "layers": layers}
    atomic_write_text(out / "results.json", json.dumps(record, indent=2))
    atomic_write_text(out / "table.md", table)
    fig, axes = plt.subplots(1, len(layers), figsize=(2.4 * len(layers), 1.9), squeeze=False)
    for ax, (layer, v) in zip(axes[0], layers.items()):
        ax.imshow(v["dominant_expert_map"], cmap="tab10", vmin=0, vmax=9)
        ax.axvline(grid[1] / 2 - 0.5, color="white", lw=1)
        ax.set_title(f"{layer.replace('transformer_blocks', 'tb')}\ntype {v['dependence_on_edit_type']:.3f}, "
                     f"position {v['dependence_on_position']:.2f}", fontsize=6)
        ax.set_xticks([]), ax.set_yticks([])
    colours = plt.get_cmap("tab10")
    fig.legend(handles=[plt.matplotlib.patches.Patch(color=colours(e), label=f"expert {e}")
                        for e in range(len(share))], loc="lower center", ncol=len(share), fontsize=6, frameon=False)
    fig.suptitle("Most frequent expert per image token (left | right panel)", fontsize=8)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    save_figure(fig, out / "figure.png")
    return record
