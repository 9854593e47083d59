"""The Fill card's note with its numbers rendered from the measurement files, not typed (issue 28's ship).

    python lab/2026-12-06_base_v3/render_fill_note.py EVAL_METRICS FAILURES > lab/2026-12-06_base_v3/card_notes/fill.md

EVAL_METRICS: the 256-pair `icedit eval-pretrained --part fill ... --paired-with` metrics.json of the finished arm;
FAILURES: `lab/2026-12-06_fill_failures/classify.py`'s JSON for the same evaluation. The wording around the numbers
is `fill_note.md.template` (Python format fields); its last sentence lists the classified failures by verdict.
"""
import collections
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# the classifier's verdicts, as the note words them
SHORT = {"unclean reading (blob or smear)": "unclean", "changed wrong (wrong attribute at the target cell)":
         "a wrong attribute at the target cell", "changed right, style lost": "drawn right in the wrong style",
         "background right, style lost": "the background right in the wrong style"}
ORDER = ("move", "recolor", "replace", "resize", "background", "add", "remove", "restyle")


def counts_by_type(pairs: list[dict]) -> dict[str, tuple[int, int]]:
    won, seen = collections.Counter(), collections.Counter()
    for p in pairs:
        if p["kind"] == "copy":
            continue
        seen[p["kind"]] += 1
        won[p["kind"]] += bool(p["success"])
    return {k: (won[k], seen[k]) for k in ORDER if seen[k]}


def fields(metrics: dict, failures: dict) -> dict[str, str]:
    paired = metrics["paired_with"]
    by_type = counts_by_type(metrics["pairs"])
    unclean = sum(v.get("unclean reading (blob or smear)", 0) for v in failures["verdicts"].values())
    swaps = collections.Counter(failures["colour_swaps"])
    mixed = sum(any("mixed colors" in i for i in r["issues"]) for r in failures["rows"] if not r["clean"])
    return {
        "n": str(metrics["n"]),
        "success": f"{metrics['fill_one_change']:.1%}",
        "copy": f"{metrics['fill_copy']:.0%}",
        "kept": f"{metrics['fill_kept_objects']:.1%}",
        "shipped": f"{paired['success_b']:.1%}",
        "only_new": str(paired["only_a"]),
        "only_shipped": str(paired["only_b"]),
        "p": f"{paired['p_success']:.2g}",
        "per_type": ", ".join(f"{k} {w}/{n}" for k, (w, n) in by_type.items()),
        "failed": str(sum(n - w for w, n in by_type.values())),
        "classified": str(sum(sum(v.values()) for v in failures["verdicts"].values())),
        "unclean": str(unclean),
        "unclean_mixed": str(mixed),
        "verdicts": "; ".join(f"{k} {sum(v.values())} (" + ", ".join(f"{n} {SHORT.get(label, label)}" for label, n in
                                                                 sorted(v.items(), key=lambda x: -x[1])) + ")"
                              for k, v in sorted(failures["verdicts"].items(), key=lambda x: -sum(x[1].values()))),
        "swaps": ", ".join(f"{pair} {c}" for pair, c in swaps.most_common()) or "none",
        "swaps_total": str(sum(swaps.values())),
    }


def main(argv=None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    metrics, failures = (json.loads(Path(a).read_text()) for a in argv)
    assert metrics.get("paired_with") and metrics["part"] == "fill", "EVAL_METRICS: a --paired-with Fill evaluation"
    print((HERE / "fill_note.md.template").read_text().strip().format(**fields(metrics, failures)))


if __name__ == "__main__":
    main()
