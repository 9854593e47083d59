"""The numbers the README quotes, rendered from the results files and model records: never typed by hand.

    python -m icedit_lib.report                      # print the block
    python -m icedit_lib.report --write README.md    # replace the README's block between the markers

`tests/test_report.py` fails when README.md's block differs from what the files say, so a result that changes
(`make remeasure`, a new model) changes the README with it.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BEGIN = "<!-- results: rendered by `python -m icedit_lib.report --write README.md` from the files named; do not edit -->"
END = "<!-- results: end -->"


def _read(path: str) -> dict:
    return json.loads((ROOT / path).read_text())


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def rows() -> list[tuple[str, str, str]]:
    """(what, the number, the file it comes from)."""
    vae = _read("data/models/toy/vae/training.json")["evaluation"]
    t2i = _read("data/models/toy/training_t2i.json")["evaluation"]
    fill = _read("data/models/toy/training_fill.json")["evaluation"]
    free = _read("results/training_free/results.json")["summaries"]
    tuned = _read("results/fine_tuning/results.json")["summaries"]
    scaling = _read("results/scaling_moe/results.json")["table"]
    speed = _read("benchmarks/results/sampling_speed.json")["results"]
    single = next(r for r in scaling if r["method"] == "single seed")
    early = [r for r in scaling if r["method"] == "early filter (judge)" and r["M"] == 6]
    best_early = max(early, key=lambda r: r["success"])
    oracle = next(r for r in scaling if r["method"] == "oracle best of M (upper bound)" and r["M"] == 6)
    two_threads = min(v["median_s"] for k, v in speed.items() if k.endswith("threads_2"))
    n = lambda s: s["overall"]["n"]  # noqa: E731
    return [
        ("VAE: held-out panels reconstructed exactly", _pct(vae["exact_all"]), "data/models/toy/vae/training.json"),
        (f"text-to-image: held-out scenes drawn exactly ({t2i['n']}, {t2i['steps']} steps)", _pct(t2i["t2i_exact"]),
         "data/models/toy/training_t2i.json"),
        (f"Fill: one-change diptychs completed exactly / copies ({fill['n']})",
         f"{_pct(fill['fill_one_change'])} / {_pct(fill['fill_copy'])}", "data/models/toy/training_fill.json"),
        (f"training-free inpainting, IC prompt / bare instruction ({n(free['inpaint + IC prompt'])} edits)",
         f"{_pct(free['inpaint + IC prompt']['overall']['success'])} / "
         f"{_pct(free['inpaint + bare instruction']['overall']['success'])}", "results/training_free/results.json"),
        ("training-free inversion (T2I + K/V injection), IC prompt",
         _pct(free["inversion + IC prompt"]["overall"]["success"]), "results/training_free/results.json"),
        (f"fine-tuned LoRA / LoRA-MoE ({n(tuned['LoRA r32'])} edits)",
         f"{_pct(tuned['LoRA r32']['overall']['success'])} / {_pct(tuned['LoRA-MoE 4 x r32']['overall']['success'])}",
         "results/fine_tuning/results.json"),
        ("fine-tuned LoRA-MoE: L1 on the pixels the edit should keep",
         f"{tuned['LoRA-MoE 4 x r32']['overall']['l1_kept']:.4f}", "results/fine_tuning/results.json"),
        (f"LoRA-MoE + early filter (M = 6, best m = {best_early['m']}) / one seed / oracle best of 6",
         f"{_pct(best_early['success'])} / {_pct(single['success'])} / {_pct(oracle['success'])}",
         "results/scaling_moe/results.json"),
        ("a 28-step edit on 2 CPU threads (median)", f"{two_threads:.3f} s", "benchmarks/results/sampling_speed.json"),
    ]


def render() -> str:
    lines = [BEGIN, "| on the miniature (held-out ShapesWorld edits, exact verdicts) | now | from |", "|---|---|---|"]
    lines += [f"| {what} | {value} | `{source}` |" for what, value, source in rows()]
    return "\n".join(lines + [END])


def replace_block(text: str, block: str) -> str:
    if BEGIN not in text or END not in text:
        raise ValueError("the file has no results block (its begin and end markers)")
    head, rest = text.split(BEGIN, 1)
    return head + block + rest.split(END, 1)[1]


def main(argv=None) -> str:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--write", default=None, metavar="FILE", help="replace the block in FILE (e.g. README.md)")
    args = p.parse_args(argv)
    block = render()
    if args.write:
        path = Path(args.write)
        path.write_text(replace_block(path.read_text(), block))
    else:
        print(block)
    return block


if __name__ == "__main__":
    main()
