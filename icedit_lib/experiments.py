"""One command per comparison table of the course, each writing JSON, Markdown and a figure.

    python -m icedit_lib.experiments training-free --out-dir results/training_free [--n 64] [--steps 28]

`training-free` (paper section 3.1 and its prompt ablation): {T2I inversion, inpainting} x
{IC prompt, bare instruction} on a held-out ShapesWorld suite (made with its own seed,
disjoint from every training set), success per edit type, L1 and L1 on kept pixels.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from .checkpoints import atomic_path, atomic_write_text
from .evaluation import evaluate_suite
from .shapesworld import EDIT_TYPES
from .suites import make_suite

FRAMEWORKS = {"inversion": ("toy-t2i", 3.5), "inpaint": ("toy", 50.0)}


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
    for j, (name, r) in enumerate(results.items()):
        per = r["summary"]["per_type"]
        ax.bar(np.arange(len(kinds)) + j * width, [per.get(k, {}).get("success", 0) for k in kinds], width,
               label=f"{name} ({r['summary']['overall']['success']:.0%})")
    ax.set_xticks(np.arange(len(kinds)) + width * (len(results) - 1) / 2, kinds)
    ax.set_ylim(0, 1)
    ax.set_ylabel("success")
    ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def training_free(out_dir: str | Path, n: int = 64, steps: int = 28, seed: int = 0, suite_seed: int = 4004,
                  device: str = "auto") -> dict:
    """{inversion, inpainting} x {IC prompt, bare instruction}, no adapter."""
    from .editor import ICEditor
    from .inversion import InversionEditor

    out = Path(out_dir)
    suite = make_suite(out / "suite", n=n, seed=suite_seed)
    results = {}
    for framework, (base, guidance) in FRAMEWORKS.items():
        cls = InversionEditor if framework == "inversion" else ICEditor
        editor = cls.from_registry(base, device=device)
        for prompt in ("ic", "direct"):
            name = f"{framework} + {'IC prompt' if prompt == 'ic' else 'bare instruction'}"
            results[name] = evaluate_suite(editor, suite, out / f"{framework}_{prompt}", seed=seed, steps=steps,
                                           guidance=guidance, prompt_mode=prompt,
                                           options={"framework": framework, "base": base}, title=name)
    title = f"Training-free editing on the miniature ({n} held-out edits, {steps} steps)"
    record = {"experiment": "training-free", "n": n, "steps": steps, "suite_seed": suite_seed,
              "command": f"python -m icedit_lib.experiments training-free --out-dir {out_dir} --n {n} --steps {steps}",
              "summaries": {k: v["summary"] for k, v in results.items()}}
    atomic_write_text(out / "results.json", json.dumps(record, indent=2))
    atomic_write_text(out / "table.md", comparison_table(results, title))
    fig = comparison_figure(results, title)
    with atomic_path(out / "figure.png") as tmp:
        fig.savefig(tmp, dpi=90, format="png")
    return record


EXPERIMENTS = {"training-free": training_free}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("experiment", choices=sorted(EXPERIMENTS))
    p.add_argument("--out-dir", required=True)
    p.add_argument("--n", type=int, default=64)
    p.add_argument("--steps", type=int, default=28)
    p.add_argument("--device", default="auto")
    return p.parse_args(argv)


def main(argv=None) -> dict:
    from diffusers.utils import logging as diffusers_logging

    diffusers_logging.disable_progress_bar()
    a = parse_args(argv)
    record = EXPERIMENTS[a.experiment](a.out_dir, n=a.n, steps=a.steps, device=a.device)
    print((Path(a.out_dir) / "table.md").read_text())
    return record


if __name__ == "__main__":
    main()
