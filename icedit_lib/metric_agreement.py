"""What the paper's metrics reward: CLIP-I, CLIP-out and L1 against exact success, on the miniature's edits.

    python -m icedit_lib.metric_agreement --clip data/models/mini_clip --out-dir results/metric_agreement \\
        [--runs results/fine_tuning/runs] [--configs training_free__no_adapter lora_r32 lora_moe_4_x_r32]

On ShapesWorld every edit has an exact verdict (the parser reads the scene back). The fine-tuning table's runs
(`results/fine_tuning/runs/<config>`: one edited image per held-out edit, with its verdict) are scored here with
the metrics of the paper's Tables 1-2, computed with the miniature's own CLIP (`mini_clip`); an edit is an "unchanged copy" when the parser reads the source's scene
back from it:
- CLIP-I against the source (Emu Edit's protocol) and against the true target (MagicBrush's);
- CLIP-out against the target's caption (what the edit should show);
- L1 against the true target (MagicBrush's; lower is better).
For each metric: its mean per configuration beside the success rate, and how well it tells successes from
failures over all edits: the AUC (the chance that a random success scores better than a random failure; 0.5 is
no better than a coin) and Spearman's rank correlation with success. And the failures it rewards most: edits
that copied the source unchanged score CLIP-I against the source of exactly 1. DINO needs a DINO trained on
the miniature's images, which the course does not have: not reported here.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from . import shapesworld as sw
from .checkpoints import atomic_write_text
from .images import load_image
from .metrics import ClipScorer, l1_distance
from .suites import load_suite

CONFIGS = ("training_free__no_adapter", "lora_r32", "lora_moe_4_x_r32")
METRICS = {"clip_i_source": True, "clip_i_target": True, "clip_out": True, "l1_target": False}  # higher is better?


def auc(scores: np.ndarray, success: np.ndarray, higher_is_better: bool = True) -> float:
    """P(a random success scores better than a random failure), ties counted half (Mann-Whitney U / n1 n0)."""
    s = scores if higher_is_better else -scores
    pos, neg = s[success], s[~success]
    if not len(pos) or not len(neg):
        return float("nan")
    greater = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return float(greater / (len(pos) * len(neg)))


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rank correlation (average ranks for ties)."""
    def ranks(x):
        order = np.argsort(x, kind="mergesort")
        r = np.empty(len(x))
        r[order] = np.arange(len(x))
        for value in np.unique(x):  # average the ranks of ties
            r[x == value] = r[x == value].mean()
        return r
    ra, rb = ranks(np.asarray(a, float)), ranks(np.asarray(b, float))
    return float(np.corrcoef(ra, rb)[0, 1])


def score_run(run_dir: Path, suite_rows: dict, clip: ClipScorer) -> list[dict]:
    """Every edit of one run: its verdict and the four metrics."""
    rows = json.loads((run_dir / "results.json").read_text())["rows"]
    edited = [load_image(run_dir / "images" / f"{r['id']}.png") for r in rows]
    sources = [load_image(suite_rows[r["id"]]["image_path"]) for r in rows]
    targets = [sw.Scene.from_dict(suite_rows[r["id"]]["target_scene"]) for r in rows]
    source_scenes = [sw.Scene.from_dict(suite_rows[r["id"]]["source_scene"]) for r in rows]
    target_images = [sw.render(t) for t in targets]
    clip_i_source = clip.clip_i(edited, sources)
    clip_i_target = clip.clip_i(edited, target_images)
    clip_out = clip.clip_out(edited, [sw.describe_scene(t).capitalize() + "." for t in targets])
    out = []
    for k, r in enumerate(rows):
        out.append({"id": r["id"], "edit_type": r["edit_type"], "success": bool(r["success"]),
                    "unchanged": sw.read_scene(edited[k]).exact == source_scenes[k],  # the source drawn again
                    "clip_i_source": clip_i_source[k], "clip_i_target": clip_i_target[k], "clip_out": clip_out[k],
                    "l1_target": l1_distance(edited[k], target_images[k], size=None)})
    return out


def analyse(scored: dict[str, list[dict]]) -> dict:
    everything = [s for rows in scored.values() for s in rows]
    success = np.array([s["success"] for s in everything])
    out = {"per_config": {}, "agreement": {}, "n_edits": len(everything)}
    for config, rows in scored.items():
        out["per_config"][config] = {"success": float(np.mean([s["success"] for s in rows])),
                                     **{m: float(np.mean([s[m] for s in rows])) for m in METRICS},
                                     "n": len(rows), "unchanged": int(sum(s["unchanged"] for s in rows))}
    for m, higher in METRICS.items():
        values = np.array([s[m] for s in everything])
        failures = [s for s in everything if not s["success"]]
        best_failures = sorted(failures, key=lambda s: s[m], reverse=higher)[:10]
        out["agreement"][m] = {
            "auc": auc(values, success, higher), "spearman": spearman(values if higher else -values, success),
            "top10_failures_unchanged": sum(s["unchanged"] for s in best_failures),
            "mean_success": float(values[success].mean()) if success.any() else float("nan"),
            "mean_failure": float(values[~success].mean()) if (~success).any() else float("nan")}
    return out


def markdown(result: dict, clip_name: str) -> str:
    names = {"clip_i_source": "CLIP-I (source)", "clip_i_target": "CLIP-I (target)", "clip_out": "CLIP-out",
             "l1_target": "L1 (target)"}
    lines = [f"### The paper's metrics against exact success ({result['n_edits']} edits, CLIP: {clip_name})", "",
             "| configuration | success | " + " | ".join(names.values()) + " | unchanged copies |",
             "|---|---|" + "---|" * len(names) + "---|"]
    for config, r in result["per_config"].items():
        lines.append(f"| {config} | {r['success']:.1%} | " + " | ".join(f"{r[m]:.3f}" for m in names) +
                     f" | {r['unchanged']} of {r['n']} |")
    lines += ["", "| metric | AUC (success vs failure) | Spearman with success | unchanged copies among its 10 "
              "best-scored failures |", "|---|---|---|---|"]
    for m, a in result["agreement"].items():
        lines.append(f"| {names[m]} | {a['auc']:.3f} | {a['spearman']:+.3f} | {a['top10_failures_unchanged']} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--clip", default="data/models/mini_clip")
    p.add_argument("--runs", default="results/fine_tuning/runs")
    p.add_argument("--suite", default="results/fine_tuning/suite/suite.jsonl")
    p.add_argument("--configs", nargs="+", default=list(CONFIGS))
    p.add_argument("--out-dir", default="results/metric_agreement")
    p.add_argument("--device", default="cpu")
    args = p.parse_args(argv)
    clip = ClipScorer(args.clip, device=args.device)
    suite_rows = {r["id"]: r for r in load_suite(args.suite)}
    scored = {c: score_run(Path(args.runs) / c, suite_rows, clip) for c in args.configs}
    result = analyse(scored) | {"clip": args.clip, "runs": args.runs, "suite": args.suite}
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "results.json", json.dumps(result | {"edits": scored}, indent=2))
    atomic_write_text(out / "table.md", markdown(result, args.clip))
    print(markdown(result, args.clip))
    return result


if __name__ == "__main__":
    main()
