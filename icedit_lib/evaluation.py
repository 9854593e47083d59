"""The evaluation harness: edit every row of a scoring suite, score with the ShapesWorld parser.

    icedit eval --suite data/suites/heldout/suite.jsonl --out-dir outputs/eval [edit options]

Writes into the output folder:
- `images/<id>.png`: every edited panel that was scored (at the source's size);
- `results.json`: the options, one record per row (success, L1, L1 on kept pixels) and
  the summary overall and per edit type;
- `table.md`: the summary as a Markdown table;
- `figure.png`: success per edit type, and a few examples.

Scoring follows the spec: success = the scene read back from the edited panel equals the
target scene; L1 against the rendered target; L1 on the pixels equal in source and target.
"""
from __future__ import annotations

import json
from pathlib import Path

from tqdm.auto import tqdm

from . import shapesworld as sw
from .checkpoints import atomic_path, atomic_write_text
from .diptych import FILL_GUIDANCE
from .images import load_image, save_image


class SuiteScoringError(ValueError):
    """A suite without the fields scoring needs."""


def scoring_rows(rows: list[dict]) -> list[dict]:
    for row in rows:
        missing = {"source_scene", "target_scene"} - set(row)
        if missing:
            raise SuiteScoringError(f"suite row {row['id']!r} lacks {sorted(missing)}: it cannot be scored "
                                    "(make scoring suites with `python -m icedit_lib.suites`)")
        row["source"] = sw.Scene.from_dict(row["source_scene"])
        row["target"] = sw.Scene.from_dict(row["target_scene"])
        row.setdefault("edit_type", "unknown")
    return rows


def markdown_table(summary: dict, title: str = "") -> str:
    lines = [f"**{title}**", ""] if title else []
    lines += ["| edit type | n | success | L1 | L1 kept |", "|---|---|---|---|---|"]
    rows = list(summary["per_type"].items()) + [("**overall**", summary["overall"])]
    for name, s in rows:
        lines.append(f"| {name} | {s['n']} | {s['success']:.1%} | {s['l1']:.4f} | {s['l1_kept']:.4f} |")
    return "\n".join(lines) + "\n"


def figure(summary: dict, examples: list[dict], title: str):
    import matplotlib.pyplot as plt

    kinds = list(summary["per_type"])
    n_ex = min(6, len(examples))
    fig = plt.figure(figsize=(12, 5.5))
    ax = fig.add_axes([0.06, 0.64, 0.9, 0.3])
    ax.bar(kinds, [summary["per_type"][k]["success"] for k in kinds], color="tab:blue")
    ax.axhline(summary["overall"]["success"], color="k", ls="--", lw=1, label="overall")
    ax.set_ylim(0, 1)
    ax.set_ylabel("success")
    ax.set_title(title)
    ax.legend()
    for j, ex in enumerate(examples[:n_ex]):
        for k, (img, label) in enumerate(((ex["source_image"], "source"), (ex["result"], "ok" if ex["ok"] else "fail"))):
            a = fig.add_axes([0.02 + j * (0.96 / n_ex), 0.06 + (1 - k) * 0.24, 0.96 / n_ex - 0.01, 0.2])
            a.imshow(img)
            a.set_xticks([]), a.set_yticks([])
            if k == 0:
                a.set_title(ex["instruction"][:34], fontsize=7)
            else:
                a.set_xlabel(label, fontsize=8, color="green" if ex["ok"] else "red")
    return fig


def discordant_sign_test(successes: list[tuple[bool, bool]]) -> tuple[int, int, float]:
    """(only A right, only B right, exact two-sided sign-test p-value) over paired (A, B) verdicts
    (McNemar's exact test): under the null each item only one side gets right is a fair coin."""
    import math

    only_a = sum(a and not b for a, b in successes)
    only_b = sum(b and not a for a, b in successes)
    k, m = min(only_a, only_b), only_a + only_b
    return only_a, only_b, min(1.0, 2 * sum(math.comb(m, i) for i in range(k + 1)) / 2 ** m) if m else 1.0


def paired_comparison(rows_a: list[dict], rows_b: list[dict], n_boot: int = 10000, seed: int = 0) -> dict:
    """Configuration A against B on the same suite, edit by edit.

    At 64 edits, two success rates a few points apart can differ by chance alone; pairing each
    edit with itself removes the variation between edits. Reported: the edits that only A, or
    only B, gets right, with the exact two-sided sign-test p-value on those discordant edits
    (McNemar's exact test), and the mean per-edit difference in L1 on kept pixels (A - B,
    negative: A keeps the source better) with a 95% bootstrap interval."""
    import numpy as np

    b_by_id = {r["id"]: r for r in rows_b}
    if {r["id"] for r in rows_a} != set(b_by_id):
        raise ValueError("paired_comparison: the two runs did not score the same suite rows")
    pairs = [(r, b_by_id[r["id"]]) for r in rows_a]
    only_a, only_b, p_success = discordant_sign_test([(a["success"], b["success"]) for a, b in pairs])
    diff = np.array([a["l1_kept"] - b["l1_kept"] for a, b in pairs])
    boot = np.random.default_rng(seed).choice(diff, size=(n_boot, len(diff))).mean(axis=1)
    low, high = np.percentile(boot, [2.5, 97.5])
    return {"n": len(pairs), "success_a": sum(a["success"] for a, _ in pairs) / len(pairs),
            "success_b": sum(b["success"] for _, b in pairs) / len(pairs), "only_a": only_a, "only_b": only_b,
            "p_success": p_success, "l1_kept_diff": float(diff.mean()), "l1_kept_diff_ci95": [float(low), float(high)],
            "a_keeps_more": int((diff < 0).sum())}


def evaluate_suite(editor, suite: str | Path, out_dir: str | Path, seed: int = 0, steps: int = 28,
                   guidance: float = FILL_GUIDANCE, prompt_mode: str = "ic", options: dict | None = None,
                   title: str = "", text_field: str = "instruction") -> dict:
    """Edit and score every row of `suite`; write images, results.json, table.md, figure.png.
    `text_field="caption"` prompts with the rows' descriptive captions instead of their instructions."""
    from .suites import load_suite

    rows = scoring_rows(load_suite(suite))
    if any(text_field not in row for row in rows):
        raise SuiteScoringError(f"suite rows lack {text_field!r} (suites made by `python -m icedit_lib.suites` "
                                "have it)")
    out = Path(out_dir)
    records, scores, examples = [], [], []
    for row in tqdm(rows, desc="evaluating", unit="edit"):
        source = load_image(row["image_path"])
        result = editor.edit(source, row[text_field], seed=seed, steps=steps, guidance=guidance,
                             prompt_mode=prompt_mode).image
        save_image(result, out / "images" / f"{row['id']}.png")
        score = sw.score_edit(result, row["source"], row["target"], row["edit_type"])
        scores.append(score)
        records.append({"id": row["id"], "edit_type": row["edit_type"], "instruction": row[text_field],
                        "success": bool(score.success), "l1": score.l1, "l1_kept": score.l1_kept})
        if len(examples) < 6:
            examples.append({"source_image": source, "result": result, "ok": score.success,
                             "instruction": row[text_field]})
    summary = sw.summarize(scores)
    title = title or f"{Path(suite).name}: {summary['overall']['success']:.0%} success"
    result = {"suite": str(suite), "options": {"seed": seed, "steps": steps, "guidance": guidance,
                                                "prompt_mode": prompt_mode, "text_field": text_field,
                                                **(options or {})},
              "summary": summary, "rows": records}
    atomic_write_text(out / "results.json", json.dumps(result, indent=2))
    atomic_write_text(out / "table.md", markdown_table(summary, title))
    fig = figure(summary, examples, title)
    with atomic_path(out / "figure.png") as tmp:
        fig.savefig(tmp, dpi=90, format="png")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return result
