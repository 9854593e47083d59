"""Does a speed or memory recipe change what the editor draws? The shipped miniature's held-out edit success
under each transformer recipe of issue 31, edit by edit against the default (`default`: what `icedit edit`
runs, fp32 on a CPU and bf16 on a GPU). Writes benchmarks/results/mini_recipes_<device>.json and a table.

    python benchmarks/mini_recipes.py --threads 1   # a CPU: default, compiled, bf16, fp8-weight (2.6 min, 2-core CPU)
    python benchmarks/mini_recipes.py --device cuda  # a GPU: default (bf16), compiled, fp8-weight, fp8, fp8-compiled, nf4

`benchmarks/flux_recipes.py` measures each recipe's error on one denoising step of the 12B shape with random
weights; that error means little by itself. Here the same recipes (`devices.transformer_quantization`,
`devices.compile_transformer`, as `icedit edit --quantize/--compile` loads them) run the trained miniature with its
default adapter over the fine-tuning table's 64 held-out edits (its suite, made anew), and each is compared
with the default on the same edits and seeds: the edits only one of the two gets right, with the exact sign test
(`evaluation.paired_comparison`), and the kept pixels' L1. A recipe this machine cannot run is recorded with why.
"""
import argparse
import tempfile
import time
from pathlib import Path

import torch
from record import write_record

from icedit_lib import devices, registry
from icedit_lib.checkpoints import atomic_write_text
from icedit_lib.editor import ICEditor
from icedit_lib.evaluation import evaluate_suite, paired_comparison
from icedit_lib.suites import make_suite

# recipe -> (dtype, --quantize, --compile); quantized transformers compute in bf16 whatever the dtype
RECIPES = {"default": ("auto", "none", False), "compiled": ("auto", "none", True), "bf16": ("bf16", "none", False),
           "fp8-weight": ("auto", "fp8-weight", False), "fp8": ("auto", "fp8", False),
           "fp8-compiled": ("auto", "fp8", True), "nf4": ("auto", "nf4", False)}
CPU_RECIPES = ("default", "compiled", "bf16", "fp8-weight")
CUDA_RECIPES = ("default", "compiled", "fp8-weight", "fp8", "fp8-compiled", "nf4")  # bf16 is the default there
SUITE_N, SUITE_SEED = 64, 4006  # the fine-tuning table's held-out suite (`experiments.fine_tuning`)


def evaluate_recipe(recipe: str, args, device: str, tmp: Path) -> dict:
    """Load the editor under `recipe` and edit the suite; the rows and the seconds it took."""
    dtype, quantize, compile_ = RECIPES[recipe]
    start = time.perf_counter()
    editor = ICEditor.from_registry(args.base, adapter=args.adapter, device=device, dtype=dtype, quantize=quantize,
                                    compile=compile_, fuse_adapter=True)  # as `icedit edit` loads it
    result = evaluate_suite(editor, args.suite, tmp / recipe, steps=args.steps, options={"recipe": recipe})
    return {"rows": result["rows"], "seconds": round(time.perf_counter() - start, 1),
            "dtype": str(editor.pipe.transformer.dtype).replace("torch.", "")}


def table(record: dict) -> str:
    lines = [f"| recipe ({record['device']}) | transformer dtype | success | only this right / only default right "
             "(sign test p) | kept L1 - default's [95% CI] | load + edit + score (s) |", "|---|---|---|---|---|---|"]
    for recipe, r in record["recipes"].items():
        if "skipped" in r:
            lines.append(f"| {recipe} | | skipped: {r['skipped'][:90]} | | | |")
            continue
        c = r.get("against_default")
        paired = (f"{c['only_a']} / {c['only_b']} (p = {c['p_success']:.2g})" if c else "reference")
        diff = (f"{c['l1_kept_diff']:+.4f} [{c['l1_kept_diff_ci95'][0]:+.4f}, {c['l1_kept_diff_ci95'][1]:+.4f}]"
                if c else "reference")
        lines.append(f"| {recipe} | {r['dtype']} | {r['success']:.1%} of {r['n']} | {paired} | {diff} | "
                     f"{r['seconds']} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--base", default="mini")
    p.add_argument("--adapter", default=None, help="default: the base's default adapter (`icedit edit`'s)")
    p.add_argument("--suite", default=None, help=f"a suite file (default: the fine-tuning table's, {SUITE_N} "
                   f"held-out edits of suite seed {SUITE_SEED}, made in a temporary folder)")
    p.add_argument("--device", default="auto")
    p.add_argument("--recipes", nargs="+", choices=tuple(RECIPES), default=None,
                   help=f"default: {' '.join(CPU_RECIPES)} on a CPU, {' '.join(CUDA_RECIPES)} on a GPU")
    p.add_argument("--steps", type=int, default=28)
    p.add_argument("--threads", type=int, default=None, help="CPU threads (default: torch's)")
    p.add_argument("--out", default=None, help="default benchmarks/results/mini_recipes_<device>.json")
    args = p.parse_args(argv)
    device = devices.pick_device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    args.adapter = args.adapter or registry.default_adapter(args.base)
    recipes = args.recipes or (CUDA_RECIPES if device == "cuda" else CPU_RECIPES)
    if recipes[0] != "default":
        recipes = ["default", *[r for r in recipes if r != "default"]]  # every recipe is paired with it
    out = Path(args.out or Path(__file__).parent / "results" / f"mini_recipes_{device}.json")
    record = dict(device=torch.cuda.get_device_name() if device == "cuda" else "cpu", base=args.base,
                  adapter=args.adapter, suite=args.suite or f"make_suite(n={SUITE_N}, seed={SUITE_SEED})",
                  steps=args.steps, threads=torch.get_num_threads(), recipes={}, table="")
    reference = None
    with tempfile.TemporaryDirectory() as tmp:
        args.suite = args.suite or make_suite(Path(tmp) / "suite", n=SUITE_N, seed=SUITE_SEED)
        for recipe in recipes:
            try:
                got = evaluate_recipe(recipe, args, device, Path(tmp))
            except (ValueError, RuntimeError, ImportError) as e:  # a recipe this machine cannot run
                row = {"skipped": f"{type(e).__name__}: {e}"}
            else:
                rows = got.pop("rows")
                row = dict(got, n=len(rows), success=sum(r["success"] for r in rows) / len(rows))
                if reference is None:
                    reference = rows
                else:
                    row["against_default"] = paired_comparison(rows, reference)
            record["recipes"][recipe] = row
            print(f"{recipe}: {row}", flush=True)
            record["table"] = table(record)
            write_record(str(out), "mini_recipes.py", argv, **record)  # after each recipe: a timeout keeps the rest
    atomic_write_text(out.with_suffix(".md"), record["table"])
    print(record["table"])
    return record


if __name__ == "__main__":
    main()
