"""What every comparison table shares: run folders, the table and figure of success per edit type, and the
edit-by-edit comparisons the paper draws (`PAIRED`, written to paired.json / paired.md)."""
from __future__ import annotations

import json
from pathlib import Path

from ..checkpoints import atomic_path, atomic_write_text
from ..evaluation import paired_comparison
from ..shapesworld import EDIT_TYPES

REFERENCE_ROW = "inpaint + descriptive caption (reference)"
TRAINING_FREE_FOLDERS = {"inversion + IC prompt": "inversion_ic", "inversion + bare instruction": "inversion_direct",
                         "inpaint + IC prompt": "inpaint_ic", "inpaint + bare instruction": "inpaint_direct",
                         REFERENCE_ROW: "inpaint_caption"}
# LoRA-MoE 4 x r32 with adapted encoders, the paper's loss, trained for the ablations' `--train-steps`: what each
# ablation changes one thing of.
ABLATION_REFERENCE = "LoRA-MoE 4 x r32, ablation reference"
# The comparisons the paper draws, as (A, B, question): each is also reported edit by edit (`paired`).
PAIRED = {
    "training-free": [
        ("inpaint + IC prompt", "inpaint + bare instruction", "IC prompt vs bare instruction, inpainting (3.1)"),
        ("inversion + IC prompt", "inversion + bare instruction", "IC prompt vs bare instruction, inversion (3.1)"),
        ("inpaint + IC prompt", "inversion + IC prompt", "inpainting vs inversion framework (3.1)")],
    "fine-tuning": [
        ("LoRA r32", "training-free (no adapter)", "LoRA fine-tuning vs none (3.2)"),
        ("LoRA-MoE 4 x r32", "LoRA r32", "LoRA-MoE vs LoRA (3.2)"),
        # the ablations against the reference trained exactly as long, so that only the one choice differs
        (ABLATION_REFERENCE, "LoRA-MoE 4 x r32, bare instruction (trained and used)",
         "IC prompt vs bare instruction after fine-tuning"),
        (ABLATION_REFERENCE, "LoRA-MoE 4 x r32, fixed router (authors)", "trainable vs the authors' fixed router"),
        (ABLATION_REFERENCE, "LoRA-MoE 4 x r32, loss on the right half", "loss on all tokens vs right half"),
        ("LoRA-MoE 4 x r32", "LoRA-MoE 4 x r32, instructions as people type them",
         "the templates vs the same edits as people type them")],
}


def slug(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name.lower()).strip("_")


def run_folder(out: Path, experiment: str, name: str) -> Path:
    """Where one configuration of an experiment wrote its images and per-edit results."""
    return out / "runs" / slug(name) if experiment == "fine-tuning" else out / TRAINING_FREE_FOLDERS[name]


def paired(out_dir: str | Path, experiment: str) -> list[dict]:
    """Compare, edit by edit, the pairs of `PAIRED[experiment]` from the per-edit rows of the runs
    in `out_dir` (`evaluation.paired_comparison`); pairs with a configuration not run are skipped.
    Writes paired.json and paired.md beside the table."""
    out = Path(out_dir)

    def rows(name):
        return json.loads((run_folder(out, experiment, name) / "results.json").read_text())["rows"]

    found = [(a, b, q) for a, b, q in PAIRED[experiment]
             if all((run_folder(out, experiment, x) / "results.json").exists() for x in (a, b))]
    comparisons = [{"question": q, "a": a, "b": b, **paired_comparison(rows(a), rows(b))} for a, b, q in found]
    lines = ["| question | A | B | success A / B | only A / only B (p) | L1 kept A - B [95% CI] | A keeps more |",
             "|---|---|---|---|---|---|---|"]
    for c in comparisons:
        low, high = c["l1_kept_diff_ci95"]
        lines.append(f"| {c['question']} | {c['a']} | {c['b']} | {c['success_a']:.1%} / {c['success_b']:.1%} | "
                     f"{c['only_a']} / {c['only_b']} (p = {c['p_success']:.2g}) | {c['l1_kept_diff']:+.4f} "
                     f"[{low:+.4f}, {high:+.4f}] | {c['a_keeps_more']} of {c['n']} |")
    atomic_write_text(out / "paired.json", json.dumps(comparisons, indent=2))
    atomic_write_text(out / "paired.md", "\n".join(lines) + "\n")
    return comparisons


def comparison_table(results: dict[str, dict], title: str) -> str:
    """Rows: configurations; columns: success per edit type, overall, L1 kept."""
    kinds = [k for k in EDIT_TYPES if any(k in r["summary"]["per_type"] for r in results.values())]
    lines = [f"**{title}**", "", "| configuration | " + " | ".join(kinds) + " | overall | L1 | L1 kept |",
             "|---|" + "---|" * (len(kinds) + 3)]
    for name, r in results.items():
        per = r["summary"]["per_type"]
        o = r["summary"]["overall"]
        cells = [f"{per[k]['success']:.0%}" if k in per else "-" for k in kinds]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | **{o['success']:.1%}** | {o['l1']:.4f} | "
                     f"{o['l1_kept']:.4f} |")
    return "\n".join(lines) + "\n"


def comparison_figure(results: dict[str, dict], title: str):
    import matplotlib.pyplot as plt
    import numpy as np

    kinds = [k for k in EDIT_TYPES if any(k in r["summary"]["per_type"] for r in results.values())]
    fig, ax = plt.subplots(figsize=(11, 3.6))
    width = 0.8 / max(1, len(results))
    colors = plt.get_cmap("tab20").colors  # one colour per configuration: tab10 repeats after ten
    for j, (name, r) in enumerate(results.items()):
        per = r["summary"]["per_type"]
        ax.bar(np.arange(len(kinds)) + j * width, [per.get(k, {}).get("success", 0) for k in kinds], width,
               color=colors[(2 * j) % 20 if j < 10 else (2 * j + 1) % 20],
               label=f"{name} ({r['summary']['overall']['success']:.0%})")
    ax.set_xticks(np.arange(len(kinds)) + width * (len(results) - 1) / 2, kinds)
    ax.set_ylim(0, 1)
    ax.set_ylabel("success")
    ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def save_figure(fig, path: Path) -> None:
    import matplotlib.pyplot as plt

    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=90, format="png")
    plt.close(fig)


def redraw(out_dir: str | Path, experiment: str, title: str) -> list[dict]:
    """Edit nothing: the figure again from the summaries in `out_dir`/results.json, and the paired comparisons
    from its runs (after a change to how they are drawn or compared)."""
    out = Path(out_dir)
    record = json.loads((out / "results.json").read_text())
    results = {name: {"summary": summary} for name, summary in record["summaries"].items()}
    save_figure(comparison_figure(results, f"{title} ({record['n']} held-out edits, {record['steps']} steps)"),
                out / "figure.png")
    return paired(out, experiment)
