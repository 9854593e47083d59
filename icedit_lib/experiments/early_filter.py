"""The scaling table (paper section 3.3, Table 5): success against NFE for one seed, a random one of M, the judge's
best of M finished images, early filter for every (M, m), and two upper bounds that read the answer with the
parser: the oracle best of M, and the early filter with the oracle (`judge.OracleJudge`) reading the previews.
The strategies are replayed on one seed bank per edit (`scaling.seed_bank`, `scaling.replay_strategies`)."""
from __future__ import annotations

import json
from pathlib import Path

from ..checkpoints import atomic_write_text
from ..scaling import judge_accuracy, replay_strategies, seed_bank
from ..suites import make_suite
from .common import save_figure


def scaling_figure(rows: list[dict], accuracy: dict, title: str):
    import matplotlib.pyplot as plt

    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(12, 4.2), gridspec_kw={"width_ratios": [2, 1]})
    styles = {"random of M": ("tab:gray", "s"), "best of M, finished (judge)": ("tab:orange", "^"),
              "oracle best of M (upper bound)": ("k", "*")}
    single = rows[0]
    ax.axhline(single["success"], color="tab:blue", ls=":", label=f"single seed ({single['success']:.0%})")
    for method, (color, marker) in styles.items():
        pts = [(r["nfe"], r["success"]) for r in rows if r["method"] == method]
        ax.plot(*zip(*pts), color=color, marker=marker, label=method)
    early = [r for r in rows if r["method"] == "early filter (judge)"]
    colors = plt.get_cmap("viridis")
    ms = sorted({r["m"] for r in early})
    for i, m in enumerate(ms):
        pts = [(r["nfe"], r["success"]) for r in early if r["m"] == m]
        ax.plot(*zip(*pts), marker="o", alpha=0.8, color=colors(i / max(1, len(ms) - 1)), label=f"early filter, m = {m}")
    clip_finished = [(r["nfe"], r["success"]) for r in rows if r["method"] == "best of M, finished (CLIP)"]
    if clip_finished:  # the second verifier, dashed: CLIP (paper Table 3b)
        ax.plot(*zip(*clip_finished), color="tab:red", ls="--", marker="^", label="best of M, finished (CLIP)")
        clip_early = [r for r in rows if r["method"] == "early filter (CLIP)" and r["m"] == max(ms)]
        ax.plot([r["nfe"] for r in clip_early], [r["success"] for r in clip_early], color="tab:red", ls=":",
                marker="o", label=f"early filter (CLIP), m = {max(ms)}")
    ax.set_xscale("log")
    ax.set_xlabel("NFE per edit (transformer evaluations)")
    ax.set_ylabel("success")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7)
    keys = [k for k, v in accuracy.items() if v["accuracy"] is not None]
    ax2.plot(range(len(keys)), [accuracy[k]["accuracy"] for k in keys], marker="o")
    ax2.axhline(0.5, color="gray", ls=":", label="chance")
    ax2.set_xticks(range(len(keys)), keys)
    ax2.set_xlabel("preview after m steps")
    ax2.set_ylabel("judge agrees with the parser")
    ax2.set_ylim(0, 1)
    ax2.legend(fontsize=8)
    fig.tight_layout()
    return fig


def scaling(out_dir: str | Path, n: int = 64, steps: int = 28, seed: int = 0, suite_seed: int = 4005,
            device: str = "auto", base: str = "mini", adapter: str = "none", judge: str = "mini-judge",
            sizes: tuple[int, ...] = (2, 4, 6, 8), filter_steps: tuple[int, ...] = (1, 2, 4, 6, 10),
            strategy: str = "sequential", clip: str | None = None) -> dict:
    """Every strategy of `scaling.replay_strategies` on one seed bank per held-out edit. `clip` (a CLIPModel folder or
    hub id; default the miniature's own, `data/models/mini_clip`, when the base is the miniature and it is there;
    "none" to leave it out) adds CLIP as a second verifier, scoring each candidate against the target scene's
    caption, beside the judge (the paper's Table 3b)."""
    from .. import shapesworld as sw
    from ..editor import ICEditor
    from ..evaluation import scoring_rows
    from ..judge import ClipJudge, OracleJudge
    from ..metrics import ClipScorer
    from ..registry import MODELS_DIR, load_judge
    from ..suites import load_suite

    out = Path(out_dir)
    rows = scoring_rows(load_suite(make_suite(out / "suite", n=n, seed=suite_seed)))
    editor = ICEditor.from_registry(base, adapter=adapter, device=device, fuse_adapter=True)
    editor.pipe.set_progress_bar_config(disable=True)
    the_judge = load_judge(judge, device=device)
    if clip is None and base == "mini" and (MODELS_DIR / "mini_clip").is_dir():
        clip = str(MODELS_DIR / "mini_clip")
    verifiers = {}
    if clip and clip != "none":
        scorer = ClipScorer(clip, device=device)
        verifiers["CLIP"] = lambda row: ClipJudge(scorer, sw.describe_scene(row["target"]).capitalize() + ".")
    bank = seed_bank(editor, rows, max(sizes), filter_steps, steps, seed)
    table = replay_strategies(bank, the_judge, sizes, filter_steps, steps, strategy, seed,
                              oracle=lambda row: OracleJudge(row["target"]), verifiers=verifiers)
    accuracy = judge_accuracy(bank, the_judge, filter_steps)
    verifier_accuracy = {label: judge_accuracy(bank, make, filter_steps) for label, make in verifiers.items()}
    title = f"Inference-time scaling: {base} + {adapter}, judge {judge} ({n} held-out edits, {steps} steps)"
    lines = [f"**{title}**", "", "| method | M | m | NFE | success |", "|---|---|---|---|---|"]
    lines += [f"| {r['method']} | {r['M']} | {r['m'] if r['m'] is not None else '-'} | {r['nfe']} | "
              f"{r['success']:.1%} |" for r in table]
    for label, acc in {judge: accuracy, **verifier_accuracy}.items():
        lines += ["", f"{label}'s agreement with the parser against the preview step: " + ", ".join(
            f"{k}: {v['accuracy']:.0%} ({v['pairs']} pairs from {v['edits']} edits)" for k, v in acc.items()
            if v["accuracy"] is not None)]
    record = {"experiment": "scaling", "n": n, "steps": steps, "suite_seed": suite_seed, "base": base,
              "adapter": adapter, "judge": judge, "clip": clip if verifiers else None, "strategy": strategy,
              "table": table, "judge_accuracy": accuracy, "verifier_accuracy": verifier_accuracy,
              "command": f"python -m icedit_lib.experiments scaling --out-dir {out_dir} --n {n} --steps {steps} "
                         f"--base {base} --adapter {adapter} --judge {judge}"
                         + (f" --clip {clip}" if verifiers and clip != str(MODELS_DIR / "mini_clip") else "")}
    atomic_write_text(out / "results.json", json.dumps(record, indent=2))
    atomic_write_text(out / "table.md", "\n".join(lines) + "\n")
    save_figure(scaling_figure(table, accuracy, title), out / "figure.png")
    return record
