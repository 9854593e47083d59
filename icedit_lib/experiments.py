"""One command per comparison table of the course, each writing JSON, Markdown and a figure.

    python -m icedit_lib.experiments training-free --out-dir results/training_free [--n 64] [--steps 28]

    python -m icedit_lib.experiments scaling --out-dir results/scaling [--adapter toy-moe] [--judge toy-judge]

`training-free` (paper section 3.1 and its prompt ablation): {T2I inversion, inpainting} x
{IC prompt, bare instruction} on a held-out ShapesWorld suite (made with its own seed,
disjoint from every training set), success per edit type, L1 and L1 on kept pixels.

    python -m icedit_lib.experiments fine-tuning --out-dir results/fine_tuning [--train-steps 1000]

`fine-tuning` (paper section 3.2 and its ablations): the training-free model, the shipped
LoRA and LoRA-MoE, the IC prompt against the bare instruction after fine-tuning, 1 / 2 / 4
/ 8 experts and the expert rank, the trainable router against the authors' fixed one, the
loss on all tokens against the right half only. Each ablation adapter is trained by
`icedit_lib.train` for `--train-steps` into `OUT/adapters/<name>` (resumable; a finished
one is reused), then every configuration is evaluated on the same held-out suite.

`scaling` (paper section 3.3, Table 5): success against NFE for one seed, a random one of
M, the judge's best of M finished images, early filter for every (M, m), and two upper bounds
that read the answer with the parser: the oracle best of M finished images, and the early
filter with the oracle (`judge.OracleJudge`) as the judge of the previews. Every row of the suite is
run once with the largest M in one batched call that keeps the x0 previews after each m
(`ICEditor.edit_with_previews`); each strategy is then replayed on that seed bank. This is
exact for early filter: the previews are those of a stopped run, and the winner's final
image is that of the resumed run (tested equal; a batch of M rounds at 1e-4 differently
from a batch of 1). NFE follows each strategy's own accounting; wall time is measured
side by side by `benchmarks/scaling_speed.py`.

    python -m icedit_lib.experiments moe-routing --out-dir results/moe_routing [--adapter toy-moe]

`moe-routing` (section 3.2's premise that experts specialise by kind of edit): how much of a
LoRA-MoE router's choice the edit type explains, against the token's role and position.

`training-free` and `fine-tuning` also compare, edit by edit, the pairs of configurations the
paper compares (`PAIRED`): the edits only one of the two gets right with an exact sign-test
p-value, and the difference in L1 on kept pixels with a 95% bootstrap interval, into
`paired.json` / `paired.md`. At 64 edits this tells a real difference from luck;
`--paired-only` recomputes it from the runs already in `--out-dir`.

Plain LoRA adapters are evaluated fused into the weights, as the CLI runs them (the same
latents, tested; about 30% faster per edit); a LoRA-MoE is never fused.
"""
from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

from tqdm.auto import tqdm

from .checkpoints import atomic_path, atomic_write_text
from .diptych import FILL_GUIDANCE, T2I_GUIDANCE
from .evaluation import evaluate_suite, paired_comparison
from .judge import seed_pair_agreement
from .shapesworld import EDIT_TYPES
from .suites import make_suite

FRAMEWORKS = {"inversion": ("toy-t2i", T2I_GUIDANCE), "inpaint": ("toy", FILL_GUIDANCE)}
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
        (ABLATION_REFERENCE, "LoRA-MoE 4 x r32, loss on the right half", "loss on all tokens vs right half")],
}


def run_folder(out: Path, experiment: str, name: str) -> Path:
    """Where one configuration of an experiment wrote its images and per-edit results."""
    return out / "runs" / _slug(name) if experiment == "fine-tuning" else out / TRAINING_FREE_FOLDERS[name]


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
    """{inversion, inpainting} x {IC prompt, bare instruction}, no adapter; and the inpainting framework
    prompted with the pretraining corpus's descriptive caption of each change (a reference row)."""
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
            results[name] = evaluate_suite(editor, suite, run_folder(out, "training-free", name), seed=seed,
                                           steps=steps, guidance=guidance, prompt_mode=prompt,
                                           options={"framework": framework, "base": base}, title=name)
    # Reference row: the same changes in the pretraining corpus's descriptive language. The miniature's
    # frozen T5 / CLIP learned words from captions only, so the instruction verbs ("remove", "make", ...)
    # keep their random initial embeddings; this row shows what the Fill base does when it is spoken to
    # in words it knows.
    name = REFERENCE_ROW
    base, guidance = FRAMEWORKS["inpaint"]
    editor = ICEditor.from_registry(base, device=device)
    results[name] = evaluate_suite(editor, suite, run_folder(out, "training-free", name), seed=seed, steps=steps,
                                   guidance=guidance, prompt_mode="direct", text_field="caption",
                                   options={"framework": "inpaint", "base": base}, title=name)
    title = f"Training-free editing on the miniature ({n} held-out edits, {steps} steps)"
    record = {"experiment": "training-free", "n": n, "steps": steps, "suite_seed": suite_seed,
              "command": f"python -m icedit_lib.experiments training-free --out-dir {out_dir} --n {n} --steps {steps}",
              "summaries": {k: v["summary"] for k, v in results.items()}}
    atomic_write_text(out / "results.json", json.dumps(record, indent=2))
    atomic_write_text(out / "table.md", comparison_table(results, title))
    _save_figure(comparison_figure(results, title), out / "figure.png")
    paired(out, "training-free")
    return record


def _save_figure(fig, path: Path) -> None:
    import matplotlib.pyplot as plt

    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=90, format="png")
    plt.close(fig)


def seed_bank(editor, rows: list[dict], num_seeds: int, filter_steps: tuple[int, ...], steps: int, seed: int = 0):
    """For every suite row: the finished panels of `num_seeds` seeds, their parser success,
    and the x0 previews after each of `filter_steps` steps (one batched call per row)."""
    from . import shapesworld as sw
    from .images import load_image
    from .scaling import seeds_for

    bank = []
    for row in tqdm(rows, desc="seed bank", unit="edit"):
        source = load_image(row["image_path"])
        finals, previews = editor.edit_with_previews(source, row["instruction"], seeds_for(seed, num_seeds), steps,
                                                     preview_at=filter_steps)
        success = [bool(sw.score_edit(f.image, row["source"], row["target"], row["edit_type"]).success)
                   for f in finals]
        bank.append({"row": row, "source": source, "finals": [f.image for f in finals], "previews": previews,
                     "success": success})
    return bank


def replay_strategies(bank: list[dict], judge, sizes: tuple[int, ...], filter_steps: tuple[int, ...], steps: int,
                      strategy: str = "sequential", seed: int = 0, oracle=None) -> list[dict]:
    """Success and NFE of every strategy on the seed bank (see the module docstring). With `oracle`
    (suite row -> a judge that knows the row's target), also the early filter with that oracle
    reading the previews: the most any judge of previews after m steps could reach."""
    from .judge import select

    rng = random.Random(seed)
    n = len(bank)
    rows = [{"method": "single seed", "M": 1, "m": None, "nfe": steps,
             "success": sum(b["success"][0] for b in bank) / n}]
    for size in sizes:
        picks = {"random of M": [b["success"][rng.randrange(size)] for b in bank],
                 "best of M, finished (judge)": [
                     b["success"][select(judge, b["source"], b["finals"][:size], b["row"]["instruction"],
                                         strategy).index] for b in bank],
                 "oracle best of M (upper bound)": [any(b["success"][:size]) for b in bank]}
        nfe = {"random of M": steps, "best of M, finished (judge)": size * steps,
               "oracle best of M (upper bound)": size * steps}
        for method, hits in picks.items():
            rows.append({"method": method, "M": size, "m": None, "nfe": nfe[method], "success": sum(hits) / n})
        for m in filter_steps:
            hits = [b["success"][select(judge, b["source"], b["previews"][m][:size], b["row"]["instruction"],
                                        strategy).index] for b in bank]
            rows.append({"method": "early filter (judge)", "M": size, "m": m, "nfe": size * m + steps - m,
                         "success": sum(hits) / n})
            if oracle is not None:
                hits = [b["success"][select(oracle(b["row"]), b["source"], b["previews"][m][:size],
                                            b["row"]["instruction"], strategy).index] for b in bank]
                rows.append({"method": "early filter (oracle, upper bound)", "M": size, "m": m,
                             "nfe": size * m + steps - m, "success": sum(hits) / n})
    return rows


def judge_accuracy(bank: list[dict], judge, filter_steps: tuple[int, ...]) -> dict:
    """Per preview step (and on finished panels): over pairs of seeds of one edit whose finished
    results differ in success, the share where the judge prefers the successful seed. `edits`
    counts the edits those pairs come from: pairs of one edit are not independent evidence."""
    out = {}
    mixed = sum(0 < sum(b["success"]) < len(b["success"]) for b in bank)
    for m in list(filter_steps) + ["final"]:
        hits = total = 0
        for b in bank:
            images = b["finals"] if m == "final" else b["previews"][m]
            h, t = seed_pair_agreement(b["success"], lambda g, w: judge.prefer(
                b["source"], images[g], images[w], b["row"]["instruction"]) > 0.5)
            hits, total = hits + h, total + t
        out[str(m)] = {"accuracy": hits / total if total else None, "pairs": total, "edits": mixed}
    return out


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
    for m in sorted({r["m"] for r in early}):
        pts = [(r["nfe"], r["success"]) for r in early if r["m"] == m]
        ax.plot(*zip(*pts), marker="o", alpha=0.8, label=f"early filter, m = {m}")
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
            device: str = "auto", base: str = "toy", adapter: str = "none", judge: str = "toy-judge",
            sizes: tuple[int, ...] = (2, 4, 6, 8), filter_steps: tuple[int, ...] = (1, 2, 4, 6, 10),
            strategy: str = "sequential") -> dict:
    from .suites import load_suite
    from .editor import ICEditor
    from .evaluation import scoring_rows
    from .judge import OracleJudge
    from .registry import load_judge

    out = Path(out_dir)
    rows = scoring_rows(load_suite(make_suite(out / "suite", n=n, seed=suite_seed)))
    editor = ICEditor.from_registry(base, adapter=adapter, device=device, fuse_adapter=True)
    editor.pipe.set_progress_bar_config(disable=True)
    the_judge = load_judge(judge, device=device)
    bank = seed_bank(editor, rows, max(sizes), filter_steps, steps, seed)
    table = replay_strategies(bank, the_judge, sizes, filter_steps, steps, strategy, seed,
                              oracle=lambda row: OracleJudge(row["target"]))
    accuracy = judge_accuracy(bank, the_judge, filter_steps)
    title = f"Inference-time scaling: {base} + {adapter}, judge {judge} ({n} held-out edits, {steps} steps)"
    lines = [f"**{title}**", "", "| method | M | m | NFE | success |", "|---|---|---|---|---|"]
    lines += [f"| {r['method']} | {r['M']} | {r['m'] if r['m'] is not None else '-'} | {r['nfe']} | "
              f"{r['success']:.1%} |" for r in table]
    lines += ["", "Judge agreement with the parser against the preview step: " + ", ".join(
        f"{k}: {v['accuracy']:.0%} ({v['pairs']} pairs from {v['edits']} edits)" for k, v in accuracy.items()
        if v["accuracy"] is not None)]
    record = {"experiment": "scaling", "n": n, "steps": steps, "suite_seed": suite_seed, "base": base,
              "adapter": adapter, "judge": judge, "strategy": strategy, "table": table, "judge_accuracy": accuracy,
              "command": f"python -m icedit_lib.experiments scaling --out-dir {out_dir} --n {n} --steps {steps} "
                         f"--base {base} --adapter {adapter} --judge {judge}"}
    atomic_write_text(out / "results.json", json.dumps(record, indent=2))
    atomic_write_text(out / "table.md", "\n".join(lines) + "\n")
    _save_figure(scaling_figure(table, accuracy, title), out / "figure.png")
    return record


# name -> (train.py arguments or a shipped adapter's registry name, prompt mode at inference)
# The shipped adapters' recipe adapts the miniature's text encoders too (`train --text-encoder-rank`,
# not in the paper: the miniature's encoders never read an instruction); the ablations follow it. The shipped
# adapters also distil the base's caption-prompted prediction (`--caption-distill`); the ablations keep the
# paper's loss, so that they measure the paper's choices.
ENCODERS = ["--text-encoder-rank", "16"]
FINE_TUNING = {
    "training-free (no adapter)": (None, "ic"),
    "LoRA r32": ("toy-lora", "ic"),
    "LoRA-MoE 4 x r32": ("toy-moe", "ic"),
    ABLATION_REFERENCE: (["--adapter", "moe", *ENCODERS], "ic"),
    "LoRA-MoE 4 x r32, bare instruction (trained and used)": (["--adapter", "moe", "--prompt", "direct", *ENCODERS],
                                                              "direct"),
    "LoRA-MoE 1 x r32": (["--adapter", "moe", "--num-experts", "1", *ENCODERS], "ic"),
    "LoRA-MoE 2 x r32": (["--adapter", "moe", "--num-experts", "2", *ENCODERS], "ic"),
    "LoRA-MoE 8 x r32": (["--adapter", "moe", "--num-experts", "8", *ENCODERS], "ic"),
    "LoRA-MoE 4 x r8": (["--adapter", "moe", "--rank", "8", "--alpha", "8", *ENCODERS], "ic"),
    "LoRA-MoE 4 x r32, fixed router (authors)": (["--adapter", "moe", "--router", "fixed", *ENCODERS], "ic"),
    "LoRA-MoE 4 x r32, loss on the right half": (["--adapter", "moe", "--loss-region", "right", *ENCODERS], "ic"),
}


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name.lower()).strip("_")


def train_ablation(name: str, train_args: list[str], out: Path, train_steps: int, base: str) -> Path:
    """Train (or reuse) one ablation adapter; return its folder."""
    from . import train

    folder = out / "adapters" / _slug(name)
    done = folder / "training.json"
    if done.exists() and json.loads(done.read_text()).get("steps") == train_steps:
        return folder
    train.main(train_args + ["--base", base, "--output-dir", str(folder), "--work-dir", str(out / "work" / _slug(name)),
                             "--max-steps", str(train_steps), "--validate-every", "0"])
    return folder


def fine_tuning(out_dir: str | Path, n: int = 64, steps: int = 28, seed: int = 0, suite_seed: int = 4006,
                device: str = "auto", base: str = "toy", train_steps: int = 1000,
                configurations: dict | None = None) -> dict:
    """Every row of `FINE_TUNING` (or `configurations`) on one held-out suite; shipped adapters
    that are missing are trained like the ablations (`--adapter lora` / `moe`)."""
    from . import registry
    from .editor import ICEditor

    out = Path(out_dir)
    suite = make_suite(out / "suite", n=n, seed=suite_seed)
    results, parameters = {}, {}
    for name, (adapter, prompt) in (configurations or FINE_TUNING).items():
        if isinstance(adapter, str) and not registry.available(adapter):  # train a stand-in for the shipped one
            adapter = ["--adapter", "moe" if adapter.endswith("moe") else "lora", *ENCODERS]
        if isinstance(adapter, list):
            adapter = str(train_ablation(name, adapter, out, train_steps, base))
        editor = ICEditor.from_registry(base, adapter=adapter or "none", device=device, fuse_adapter=True)
        editor.pipe.set_progress_bar_config(disable=True)
        record_file = registry.adapter_file(adapter)[1].parent / "training.json" if adapter else None
        if record_file and record_file.exists():
            rec = json.loads(record_file.read_text())
            parameters[name] = {"trainable_parameters": rec.get("trainable_parameters"), "steps": rec.get("steps")}
        results[name] = evaluate_suite(editor, suite, out / "runs" / _slug(name), seed=seed, steps=steps,
                                       prompt_mode=prompt, options={"adapter": adapter, "base": base}, title=name)
    title = f"Fine-tuning on the miniature ({n} held-out edits, {steps} steps)"
    table = comparison_table(results, title)
    table += "\n| configuration | trainable parameters | training steps |\n|---|---|---|\n" + "".join(
        f"| {k} | {v['trainable_parameters']:,} | {v['steps']} |\n" for k, v in parameters.items())
    record = {"experiment": "fine-tuning", "n": n, "steps": steps, "suite_seed": suite_seed, "train_steps": train_steps,
              "command": f"python -m icedit_lib.experiments fine-tuning --out-dir {out_dir} --n {n} --steps {steps} "
                         f"--train-steps {train_steps}",
              "parameters": parameters, "summaries": {k: v["summary"] for k, v in results.items()}}
    atomic_write_text(out / "results.json", json.dumps(record, indent=2))
    atomic_write_text(out / "table.md", table)
    _save_figure(comparison_figure(results, title), out / "figure.png")
    paired(out, "fine-tuning")
    return record


def moe_routing(out_dir: str | Path, n: int = 64, steps: int = 28, seed: int = 0, suite_seed: int = 4006,
                device: str = "auto", base: str = "toy", adapter: str = "toy-moe") -> dict:
    """What a LoRA-MoE's router decides on: for each MoE layer, how much of the expert choice the edit
    type explains (the paper's premise, section 3.2: experts specialise by kind of edit), against the
    token's role (text, left panel, right panel) and its position. Counted over every token of every
    sampling step of the edits of the fine-tuning table's held-out suite (`suite_seed` 4006)."""
    import matplotlib.pyplot as plt
    import torch

    from . import lora_moe
    from .suites import load_suite
    from .diptych import plan_layout
    from .editor import ICEditor
    from .images import load_image

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
    _save_figure(fig, out / "figure.png")
    return record


EXPERIMENTS = {"training-free": training_free, "fine-tuning": fine_tuning, "scaling": scaling, "moe-routing": moe_routing}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("experiment", choices=sorted(EXPERIMENTS))
    p.add_argument("--out-dir", required=True)
    p.add_argument("--n", type=int, default=64)
    p.add_argument("--steps", type=int, default=28)
    p.add_argument("--device", default="auto")
    p.add_argument("--base", default="toy", help="scaling, fine-tuning, moe-routing: the Fill base")
    p.add_argument("--adapter", default=None,
                   help="scaling: the adapter (default none: the training-free model); moe-routing: the LoRA-MoE "
                        "(default toy-moe)")
    p.add_argument("--judge", default="toy-judge", help="scaling: the judge")
    p.add_argument("--train-steps", type=int, default=1000, help="fine-tuning: optimizer steps per ablation adapter")
    p.add_argument("--paired-only", action="store_true",
                   help="training-free / fine-tuning: edit nothing, recompute paired.json / paired.md from the runs "
                        "already in --out-dir")
    return p.parse_args(argv)


def main(argv=None) -> dict:
    from diffusers.utils import logging as diffusers_logging

    diffusers_logging.disable_progress_bar()
    a = parse_args(argv)
    if a.paired_only:
        if a.experiment not in PAIRED:
            raise SystemExit(f"--paired-only: {a.experiment} has no paired comparisons")
        comparisons = paired(a.out_dir, a.experiment)
        print((Path(a.out_dir) / "paired.md").read_text())
        return {"paired": comparisons}
    extra = {"scaling": {"base": a.base, "adapter": a.adapter or "none", "judge": a.judge},
             "fine-tuning": {"base": a.base, "train_steps": a.train_steps},
             "moe-routing": {"base": a.base, "adapter": a.adapter or "toy-moe"}}.get(a.experiment, {})
    record = EXPERIMENTS[a.experiment](a.out_dir, n=a.n, steps=a.steps, device=a.device, **extra)
    print((Path(a.out_dir) / "table.md").read_text())
    return record


if __name__ == "__main__":
    main()
