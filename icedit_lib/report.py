"""The numbers the README and the notebooks quote, rendered from the results files and records: never typed.

    python -m icedit_lib.report                      # print the README's block
    python -m icedit_lib.report --write README.md    # replace the README's block between the markers

`tests/test_report.py` fails when README.md's block differs from what the files say, so a result that changes
(`make remeasure`, a new model) changes the README with it. The notebooks show their committed runs' findings
with `findings(name)`, a paragraph of Markdown made from the same files; their own prose quotes no result
(`tests/test_notebooks.py` checks it).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from .experiments.fine_tuning import TYPED

ROOT = Path(__file__).resolve().parent.parent
BEGIN = "<!-- results: rendered by `python -m icedit_lib.report --write README.md` from the files named; do not edit -->"
END = "<!-- results: end -->"


def _read(path: str) -> dict:
    return json.loads((ROOT / path).read_text())


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def rows() -> list[tuple[str, str, str]]:
    """(what, the number, the file it comes from)."""
    vae = _read("data/models/mini/vae/training.json")["evaluation"]
    t2i = _read("data/models/mini/training_t2i.json")["evaluation"]
    fill = _read("data/models/mini/training_fill.json")["evaluation"]
    free = _read("results/training_free/results.json")["summaries"]
    tuned = _read("results/fine_tuning/results.json")["summaries"]
    scaling = _read("results/scaling_moe/results.json")["table"]
    speed = _read("benchmarks/results/sampling_speed.json")["results"]
    single = next(r for r in scaling if r["method"] == "single seed")
    early = [r for r in scaling if r["method"] == "early filter (judge)" and r["M"] == 6]
    best_early = max(early, key=lambda r: r["success"])
    oracle = next(r for r in scaling if r["method"] == "oracle best of M (upper bound)" and r["M"] == 6)
    clip = next((r for r in scaling if r["method"] == "best of M, finished (CLIP)" and r["M"] == 6), None)
    typed = tuned.get(TYPED)
    two_threads = min(v["median_s"] for k, v in speed.items() if k.endswith("threads_2"))
    n = lambda s: s["overall"]["n"]  # noqa: E731
    return [
        ("VAE: held-out panels reconstructed exactly", _pct(vae["exact_all"]), "data/models/mini/vae/training.json"),
        (f"text-to-image: held-out scenes drawn exactly ({t2i['n']}, {t2i['steps']} steps)", _pct(t2i["t2i_exact"]),
         "data/models/mini/training_t2i.json"),
        (f"Fill: one-change diptychs completed exactly / copies ({fill['n']})",
         f"{_pct(fill['fill_one_change'])} / {_pct(fill['fill_copy'])}", "data/models/mini/training_fill.json"),
        (f"training-free inpainting, IC prompt / bare instruction ({n(free['inpaint + IC prompt'])} edits)",
         f"{_pct(free['inpaint + IC prompt']['overall']['success'])} / "
         f"{_pct(free['inpaint + bare instruction']['overall']['success'])}", "results/training_free/results.json"),
        ("training-free inversion (T2I + K/V injection), IC prompt",
         _pct(free["inversion + IC prompt"]["overall"]["success"]), "results/training_free/results.json"),
        (f"fine-tuned LoRA / LoRA-MoE ({n(tuned['LoRA r32'])} edits)",
         f"{_pct(tuned['LoRA r32']['overall']['success'])} / {_pct(tuned['LoRA-MoE 4 x r32']['overall']['success'])}",
         "results/fine_tuning/results.json"),
        *([("fine-tuned LoRA-MoE, the same edits as people type them / as templates",
             f"{_pct(typed['overall']['success'])} / {_pct(tuned['LoRA-MoE 4 x r32']['overall']['success'])}",
             "results/fine_tuning/results.json")] if typed else []),
        ("fine-tuned LoRA-MoE: L1 on the pixels the edit should keep",
         f"{tuned['LoRA-MoE 4 x r32']['overall']['l1_kept']:.4f}", "results/fine_tuning/results.json"),
        (f"LoRA-MoE + early filter (M = 6, best m = {best_early['m']}) / one seed / oracle best of 6",
         f"{_pct(best_early['success'])} / {_pct(single['success'])} / {_pct(oracle['success'])}",
         "results/scaling_moe/results.json"),
        *([("LoRA-MoE + a CLIP verifier that reads the target's caption, best of 6 finished", _pct(clip["success"]),
            "results/scaling_moe/results.json")] if clip else []),
        ("a 28-step edit on 2 CPU threads (median)", f"{two_threads:.3f} s", "benchmarks/results/sampling_speed.json"),
    ]


# --------------------------------------------------------------------------- the notebooks' findings
def _count(share: float, n: int) -> str:
    return f"{round(share * n)} of {n}"


def _p(p: float) -> str:
    return f"p = {p:.2g}"


def _paired(c: dict, a_name: str, b_name: str) -> str:
    """One edit-by-edit comparison (`evaluation.paired_comparison`) in words."""
    lo, hi = c["l1_kept_diff_ci95"]
    sees = "a difference the suite can see" if c["p_success"] < 0.05 else "not a difference this many edits can show"
    keeps = (f"{a_name} keeps the pixels the edit should keep better in {c['a_keeps_more']} of {c['n']} edits "
             f"(kept-pixel L1 {a_name} - {b_name} {c['l1_kept_diff']:+.4f}, 95% interval {lo:+.4f} to {hi:+.4f}"
             f"{', which excludes 0' if lo > 0 or hi < 0 else ', which includes 0'})")
    return (f"{c['only_a']} edits only {a_name} gets right against {c['only_b']} only {b_name} does "
            f"(sign test {_p(c['p_success'])}: {sees}); {keeps}")


def _types_won(per_type: dict) -> str:
    won = [f"{t} {_count(v['success'], v['n'])}" for t, v in per_type.items() if v["success"] > 0]
    return ", ".join(won) if won else "no edit type"


def _training_free(folder: str = "results/training_free") -> str:
    rec, paired = _read(f"{folder}/results.json"), _read(f"{folder}/paired.json")
    s = rec["summaries"]
    ic, bare, ref = s["inpaint + IC prompt"], s["inpaint + bare instruction"], s["inpaint + descriptive caption (reference)"]
    inv_ic, inv_bare = s["inversion + IC prompt"], s["inversion + bare instruction"]
    o = lambda row: row["overall"]  # noqa: E731
    ic_vs_bare = next(c for c in paired if (c["a"], c["b"]) == ("inpaint + IC prompt", "inpaint + bare instruction"))
    ratio = (f", {o(ref)['success'] / o(ic)['success']:.1f} times the instruction's" if o(ic)["success"] else "")
    return (
        f"**What the committed run shows** (`{folder}`, {rec['n']} held-out edits, {rec['steps']} steps, on the shipped "
        f"`mini` base). Inpainting + IC prompt: {_pct(o(ic)['success'])} success ({_types_won(ic['per_type'])}), L1 on "
        f"kept pixels {o(ic)['l1_kept']:.3f}; inpainting + bare instruction: {_pct(o(bare)['success'])}, "
        f"{o(bare)['l1_kept']:.3f}; inversion: {_pct(o(inv_ic)['success'])} with the IC prompt and "
        f"{_pct(o(inv_bare)['success'])} with the bare instruction ({o(inv_ic)['l1_kept']:.3f} and "
        f"{o(inv_bare)['l1_kept']:.3f}); the descriptive-caption reference: {_pct(o(ref)['success'])} "
        f"({_types_won(ref['per_type'])}), {o(ref)['l1_kept']:.3f}. Edit by edit (`paired.md`), IC prompt against "
        f"bare instruction: {_paired(ic_vs_bare, 'the IC prompt', 'the bare instruction')}. Told the change in its "
        f"own words (the reference row), the base scores {_pct(o(ref)['success'])}{ratio}."
    )


def _fine_tuning(folder: str = "results/fine_tuning") -> str:
    rec, paired = _read(f"{folder}/results.json"), _read(f"{folder}/paired.json")
    s = {k: v["overall"] for k, v in rec["summaries"].items()}
    by = {(c["a"], c["b"]): c for c in paired}
    lora, moe, free = "LoRA r32", "LoRA-MoE 4 x r32", "training-free (no adapter)"
    ref, bare = "LoRA-MoE 4 x r32, ablation reference", "LoRA-MoE 4 x r32, bare instruction (trained and used)"
    typed = TYPED
    others = [k for k in s if k not in (lora, moe, free, ref, bare, typed)]
    lo, hi = min(s[k]["success"] for k in others), max(s[k]["success"] for k in others)
    never = [t for t in rec["summaries"][lora]["per_type"]
             if rec["summaries"][lora]["per_type"][t]["success"] == 0 and rec["summaries"][moe]["per_type"][t]["success"] == 0]
    adapters = [k for k in s if k not in (free, bare, typed)]
    typed_text = (f" Given the same edits as people type them (synonyms, a polite word, capitals, punctuation), the "
                  f"shipped LoRA-MoE scores {_pct(s[typed]['success'])}: "
                  f"{_paired(by[(moe, typed)], 'the templates', 'the typed instructions')}." if typed in s else "")
    l1s = [s[k]["l1_kept"] for k in adapters]
    steps = rec["parameters"][lora]["steps"]
    return (
        f"**What the committed run shows** (`{folder}`, {rec['n']} held-out edits, on the shipped `mini` base). The "
        f"shipped adapters ({steps} steps each, with caption distillation: notebook 05) score {_pct(s[lora]['success'])} "
        f"(LoRA) and {_pct(s[moe]['success'])} (LoRA-MoE), the training-free base {_pct(s[free]['success'])}. LoRA "
        f"against no adapter: {_paired(by[(lora, free)], 'LoRA', 'no adapter')}. Edit types neither shipped adapter "
        f"gets right: {', '.join(never) or 'none'}. LoRA-MoE against LoRA: {_paired(by[(moe, lora)], 'LoRA-MoE', 'LoRA')}."
        f"{typed_text}"
        f" The ablations are trained {rec['train_steps']} steps each and compared with the LoRA-MoE recipe trained as "
        f"long with the paper's loss (the ablation reference, {_pct(s[ref]['success'])}). Trained and used with the "
        f"bare instruction the adapter scores {_pct(s[bare]['success'])}: "
        f"{_paired(by[(ref, bare)], 'the IC prompt', 'the bare instruction')}. The other ablations score "
        f"{_pct(lo)} to {_pct(hi)}. Every IC-prompt adapter's kept-pixel L1 lies between {min(l1s):.4f} and "
        f"{max(l1s):.4f}, the base's alone {s[free]['l1_kept']:.4f}."
    )


def _moe_routing(folder: str = "results/moe_routing") -> str:
    rec = _read(f"{folder}/results.json")
    layers = rec["layers"].values()

    def span(key: str, fmt: str = ".2f") -> str:
        values = [layer[key] for layer in layers]
        return f"{min(values):{fmt}}-{max(values):{fmt}}"

    return (
        f"**What the committed run shows** (`{folder}`, `{rec['adapter']}` on {rec['n']} held-out edits, every token of "
        f"every one of {rec['steps']} steps): expert balance {span('balance')}; the share of the routing's entropy "
        f"explained by the edit type {span('dependence_on_edit_type', '.3f')} (a random grouping of the same sizes: "
        f"{span('dependence_on_random_grouping', '.3f')}), by the token's role (text, left, right) "
        f"{span('dependence_on_role', '.3f')}, by its position on the token grid {span('dependence_on_position', '.3f')}."
    )


def _scaling(folders=("results/scaling_training_free", "results/scaling_moe"), M: int = 6) -> str:
    parts = []
    for folder in folders:
        rec = _read(f"{folder}/results.json")
        t = rec["table"]
        row = lambda method, **kw: [r for r in t if r["method"] == method and all(r[k] == v for k, v in kw.items())]  # noqa: E731
        single = row("single seed")[0]["success"]
        oracle = row("oracle best of M (upper bound)", M=M)[0]["success"]
        finished = row("best of M, finished (judge)", M=M)[0]["success"]
        early = row("early filter (judge)", M=M)
        best = max(early, key=lambda r: r["success"])
        ideal = row("early filter (oracle, upper bound)", M=M)
        acc = rec["judge_accuracy"]
        previews = [v["accuracy"] for k, v in acc.items() if k != "final"]
        name = "the training-free model" if rec["adapter"] in (None, "none") else f"`{rec['adapter']}`"
        parts.append(
            f"With {name} (`{folder}`, {rec['n']} edits, judge `{rec['judge']}`): one seed {_pct(single)}, the oracle's "
            f"best of {M} finished {_pct(oracle)}; the judge's early filter {_pct(min(r['success'] for r in early))} to "
            f"{_pct(best['success'])} over m = {', '.join(str(r['m']) for r in early)} (best at m = {best['m']}), its "
            f"best of {M} finished {_pct(finished)}; the oracle as early filter {', '.join(_pct(r['success']) for r in ideal)} "
            f"at the same m. On pairs of one edit's seeds that differ in success the judge agrees with the parser "
            f"{_pct(min(previews))} to {_pct(max(previews))} on previews and {_pct(acc['final']['accuracy'])} on "
            f"finished images ({acc['final']['pairs']} pairs from {acc['final']['edits']} edits).")
        parts += [_verifier(rec, name, M) for name in rec.get("verifier_accuracy", {})]
    judge = _read("data/models/mini_judge/training.json")["evaluation"]
    return ("**What the committed runs show.** " + " ".join(parts) +
            f" On held-out synthetic pairs (copies, smears and wrong edits made by hand) `mini-judge` agrees "
            f"{_pct(judge['synthetic_agreement'])}.")


def _verifier(rec: dict, name: str, M: int = 6) -> str:
    """A second verifier's rows of a scaling record (CLIP, paper Table 3b), in words."""
    t = rec["table"]
    finished = next(r["success"] for r in t if r["method"] == f"best of M, finished ({name})" and r["M"] == M)
    early = [r for r in t if r["method"] == f"early filter ({name})" and r["M"] == M]
    acc = rec["verifier_accuracy"][name]
    previews = [v["accuracy"] for k, v in acc.items() if k != "final" and v["accuracy"] is not None]
    return (f"{name} as the verifier (`{Path(rec['clip']).name}`, each candidate scored against the target scene's "
            f"caption, which the judge is not given): best of {M} finished {_pct(finished)}, early filter {_pct(min(r['success'] for r in early))} to "
            f"{_pct(max(r['success'] for r in early))}; it agrees with the parser {_pct(min(previews))} to "
            f"{_pct(max(previews))} on previews and {_pct(acc['final']['accuracy'])} on finished images.")


def verifiers() -> str:
    """The judge against CLIP as the early filter's verifier, on both committed scaling runs (notebook 08)."""
    parts = []
    for folder in ("results/scaling_training_free", "results/scaling_moe"):
        rec = _read(f"{folder}/results.json")
        if not rec.get("verifier_accuracy"):
            continue
        t = rec["table"]
        judge = next(r["success"] for r in t if r["method"] == "best of M, finished (judge)" and r["M"] == 6)
        parts.append(f"`{folder}` ({rec['adapter']}): the judge `{rec['judge']}` picks a successful finished edit "
                     f"{_pct(judge)} of the time from 6 seeds; " + _verifier(rec, "CLIP"))
    return " ".join(parts) if parts else "No committed scaling run has a CLIP verifier yet (`make remeasure`)."


def _full_scale_early_filter(log: str = "lab/2026-11-30_gpu_h200/flux_full_scale_run2.log", M: int = 6, m: int = 6,
                             n: int = 28) -> str:
    """The early filter's transformer time at full scale, from the H200 timing of the 12B transformer."""
    import ast

    timing = {}
    for line in (ROOT / log).read_text().splitlines():
        if line.startswith(("edit (batch 1):", "previews (batch 6):")):
            key, value = line.split(":", 1)
            timing[key] = ast.literal_eval(value.strip())  # a dict's repr: literals only, nothing executed
    one, six = timing["edit (batch 1)"]["per_step_s"], timing["previews (batch 6)"]["per_step_s"]
    cpu = _read("benchmarks/results/scaling_speed.json")["results"]["early_filter"]
    rows = [("single seed", n, n * one),
            (f"early filter, m = {m} (this course: the winner resumes at step m)", M * m + n - m,
             m * six + (n - m) * one),
            (f"early filter, m = {m}, the paper's accounting (the winner restarts)", M * m + n, m * six + n * one),
            (f"best of {M} finished", M * n, n * six)]
    table = "\n".join(f"| {what} | {nfe} | {sec:.1f} s |" for what, nfe, sec in rows)
    return (f"On the CPU the miniature's {M} previews run as one batch for little more than one, so early filtering "
            f"costs {cpu['ratio_to_single']:.2f}x a single edit in wall time (`benchmarks/results/scaling_speed.json`). "
            f"The 12B FLUX transformer on a GPU is compute-bound instead: on an H200 (`{log}`, random weights of the "
            f"real shape, bf16, a 1024 x 512 diptych) one step takes {1000 * one:.0f} ms at batch 1 and "
            f"{1000 * six:.0f} ms for {M} previews at once, {six / one:.1f}x. There, wall time follows NFE:\n\n"
            f"| M = {M} | NFE | transformer time (H200) |\n|---|---|---|\n{table}\n\n"
            "The judge's own time (Qwen2.5-VL, five duels over both orders) comes on top and was not measured.")


def render() -> str:
    lines = [BEGIN, "| on the miniature (held-out ShapesWorld edits, exact verdicts) | now | from |", "|---|---|---|"]
    lines += [f"| {what} | {value} | `{source}` |" for what, value, source in rows()]
    return "\n".join(lines + [END])


PRESETS_BEGIN = ("<!-- presets: rendered by `python -m icedit_lib.report --write README.md` from devices.MEMORY_PRESETS "
                 "and benchmarks/results/flux_*.json, mini_recipes_*.json; do not edit -->")
PRESETS_END = "<!-- presets: end -->"
RECIPES_RECORD = "benchmarks/results/flux_recipes.json"  # the transformer recipes (one call of the benchmark)
PRESETS_RECORD = "benchmarks/results/flux_presets.json"  # the whole pipeline under each preset (another)
MINI_RECIPES_RECORDS = ("benchmarks/results/mini_recipes_cpu.json", "benchmarks/results/mini_recipes_cuda.json")


def _record_with(key: str, paths) -> tuple[Path | None, dict]:
    """The first of `paths` whose record has a non-empty `key`, and that record."""
    for path in paths:
        record = json.loads(path.read_text()) if path.exists() else {}
        if record.get(key):
            return path, record
    return None, {}


def presets_table(path: Path | None = None, recipes_path: Path | None = None) -> str:
    """Which `--memory` preset for which card, and what it costs where the benchmark has measured it (`path`, by
    default `PRESETS_RECORD`, else the presets of `RECIPES_RECORD`); then the transformer recipes' step times."""
    from .devices import MEMORY_PRESETS

    path, record = _record_with("presets", [path] if path else [ROOT / PRESETS_RECORD, ROOT / RECIPES_RECORD])
    measured = record.get("presets", {})
    lines = ["| GPU memory | `--memory` | transformer | offload | compiled | a 1024 x 512 edit | peak GiB | why |",
             "|---|---|---|---|---|---|---|---|"]
    for gib, preset in MEMORY_PRESETS.items():
        row = measured.get(str(gib), {})
        edit = f"{row['edit_s']:.1f} s" if "edit_s" in row else "skipped" if "skipped" in row else "not measured yet"
        peak = f"{row['peak_gib']:.1f}" if isinstance(row.get("peak_gib"), (int, float)) else "-"
        quantize = {"none": "bf16", "fp8": "float8 (torchao)", "nf4": "4-bit NF4 (bitsandbytes)"}.get(
            preset.quantize, preset.quantize)
        lines.append(f"| {gib} GB | `--memory {gib}` | {quantize} | {preset.offload} | "
                     f"{'yes' if preset.compile else 'no'} | {edit} | {peak} | {preset.why} |")
    source = (f"Measured by `benchmarks/flux_recipes.py` on {record.get('device', 'a GPU')} (`{path.name}`, "
              "random weights of the real sizes, with a rank-32 LoRA of the authors' shape)." if measured else
              "Time and memory are not measured yet: the prepared device call `lab/2026-12-04_gpu_flux_recipes/run.sh` "
              f"writes `{PRESETS_RECORD}` and `{RECIPES_RECORD}`, and `python -m icedit_lib.report --write README.md` "
              "puts them here.")
    return "\n".join(lines) + "\n\n" + source + transformer_recipes(recipes_path) + recipes_on_the_miniature()


def _skipped(row: dict) -> str:
    """`name skipped (Why)` from a benchmark row's "skipped" text ("ValueError: ...")."""
    return f"skipped ({row['skipped'].split(':')[0]})"


def transformer_recipes(path: Path | None = None, grid: str = "1024x512") -> str:
    """A sentence on one denoising step of the transformer alone under each recipe (`RECIPES_RECORD`), with each lossy
    recipe's largest relative error against bf16 eager; empty where none is measured."""
    path, record = _record_with("recipes", [path or ROOT / RECIPES_RECORD])
    if not record:
        return ""
    parts = []
    for name, rows in record["recipes"].items():
        if "skipped" in rows:
            parts.append(f"{name} {_skipped(rows)}")
        elif grid in rows:
            r = rows[grid]
            error = f", error {max(r['relative_error']):.2g}" if r.get("relative_error") else ""
            extra = f", first call +{r['first_call_extra_s']:.0f} s" if r.get("first_call_extra_s", 0) >= 1 else ""
            parts.append(f"{name} {1000 * r['per_step_s']:.1f} ms{error}{extra}")
    return (f" One denoising step of the {grid.replace('x', ' x ')} diptych, the transformer alone, on "
            f"{record.get('device', 'a GPU')} (`{path.name}`; error: the largest relative error of a step's "
            "prediction against bf16 eager): " + "; ".join(parts) + ".")


def recipes_on_the_miniature(paths: tuple[Path, ...] | None = None) -> str:
    """Whether each recipe changes what the trained miniature edits (`benchmarks/mini_recipes.py`'s records):
    a sentence a device, empty where none is measured."""
    sentences = []
    for path in paths or tuple(ROOT / p for p in MINI_RECIPES_RECORDS):
        if not path.exists():
            continue
        record = json.loads(path.read_text())
        recipes = record["recipes"]
        default = recipes.get("default", {})
        if "success" not in default:
            continue
        parts = [f"{name} {r['success']:.1%} ({r['against_default']['only_a']} / "
                 f"{r['against_default']['only_b']}, p = {r['against_default']['p_success']:.2g})"
                 if "success" in r else f"{name} {_skipped(r)}"
                 for name, r in recipes.items() if name != "default"]
        where = "a CPU" if record["device"] == "cpu" else record["device"]
        sentences.append(f"Do the recipes change what is drawn? On {where}, the trained miniature's {default['n']} "
                         f"held-out edits (`benchmarks/mini_recipes.py`, `{path.name}`): default ({default['dtype']}) "
                         f"{default['success']:.1%}; " + ", ".join(parts) + " (in brackets: the edits only the "
                         "recipe gets right / only the default, and the exact sign test).")
    return "".join(" " + s for s in sentences)


FINDINGS = {"training-free": _training_free, "fine-tuning": _fine_tuning, "moe-routing": _moe_routing,
            "scaling": _scaling, "verifiers": verifiers, "full-scale early filter": _full_scale_early_filter,
            "memory presets": presets_table}


def findings(name: str) -> str:
    """The Markdown paragraph a notebook shows for a committed run (`FINDINGS`), made from its files now."""
    if name not in FINDINGS:
        raise KeyError(f"no findings named {name!r}; choose from {sorted(FINDINGS)}")
    return FINDINGS[name]()


BLOCKS = {"results": (BEGIN, END, render), "presets": (PRESETS_BEGIN, PRESETS_END,
                                                      lambda: "\n".join([PRESETS_BEGIN, presets_table(), PRESETS_END]))}


def replace_block(text: str, block: str, begin: str = BEGIN, end: str = END) -> str:
    if begin not in text or end not in text:
        raise ValueError(f"the file has no block {begin[:30]}... (its begin and end markers)")
    head, rest = text.split(begin, 1)
    return head + block + rest.split(end, 1)[1]


def main(argv=None) -> str:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--write", default=None, metavar="FILE", help="replace the blocks in FILE (e.g. README.md)")
    args = p.parse_args(argv)
    blocks = {name: make() for name, (_, _, make) in BLOCKS.items()}
    if args.write:
        path = Path(args.write)
        text = path.read_text()
        for name, (begin, end, _) in BLOCKS.items():
            text = replace_block(text, blocks[name], begin, end)
        path.write_text(text)
    else:
        print("\n\n".join(blocks.values()))
    return blocks["results"]


if __name__ == "__main__":
    main()
