"""The Fill run's evaluations as a Markdown table, from its step log (issue 28).

    python lab/2026-12-05_base_v2/fill_table.py checkpoints/fill_text_work/log.jsonl
"""
import json
import sys

TYPES = ("add", "background", "move", "recolor", "remove", "replace", "resize", "restyle")


def main(path):
    rows = {}
    for line in open(path):
        rec = json.loads(line)
        if "eval" in rec and rec["eval"]:
            rows[rec["step"]] = rec["eval"]  # a step evaluated twice (a resumed run): the later one
    print("| step | one change | copy | kept objects | " + " | ".join(TYPES) + " |")
    print("|---" * (4 + len(TYPES)) + "|")
    for step, ev in sorted(rows.items()):
        per = ev["fill_one_change_per_type"]
        print(f"| {step} | {ev['fill_one_change']:.1%} | {ev.get('fill_copy', float('nan')):.1%} | "
              f"{ev['fill_kept_objects']:.0%} | " + " | ".join(f"{per.get(t, 0):.0%}" for t in TYPES) + " |")


if __name__ == "__main__":
    main(sys.argv[1])
