"""Benchmark an editor as the paper's Tables 1-2 do: edit a benchmark suite, score CLIP-I, CLIP-out, DINO and L1.

    icedit bench --suite emu-test --out-dir DIR [--n 100] [edit options]
    icedit bench --suite magicbrush-test --source TEST_FOLDER --out-dir DIR [--n 100] [edit options]
    icedit bench --suite SUITE.jsonl --out-dir DIR          # any suite in the CLI's JSON-lines format
        [--clip vit-l-14|vit-b-32|HUB_ID|DIR] [--dino HUB_ID|DIR] [--paired-with EARLIER_DIR]

Benchmark suites are written once into DIR/suite/ (images and `suite.jsonl`, the format `icedit eval` reads,
with `target`, `input_caption` and `output_caption` where the benchmark has them), then edited and scored:
- `emu-test`: the Emu Edit test set (`facebook/emu_edit_test_set`, split test; or a local copy with --source).
  No ground truth: CLIP-I and DINO against the source, CLIP-out against the output caption. The authors'
  filter drops rows whose input caption equals the output caption (`--no-emu-filter` keeps them).
- `magicbrush-test`: MagicBrush's test release (not on the hub: the authors' test.zip, unpacked; --source is
  its folder, with `edit_sessions.json` and `images/<img_id>/`), every turn one edit from its ground-truth
  input; or --source a dataset with MagicBrush's columns (`osunlp/MagicBrush`, split dev). L1, CLIP-I and
  DINO against the ground truth.
`--n N` takes a deterministic subset (a seeded shuffle, `--subset-seed`). Writes `scores.jsonl` (per edit),
`results.json`, `table.md` (the paper's layout, with the protocol: model ids, references, L1 size) and
`figure.png` (the best and worst edits). `--paired-with` an earlier run of the same suite adds each metric's
mean per-edit difference with a 95% bootstrap interval.

A reconstruction: ICEdit's authors released no evaluation code (`metrics` says what is known of their protocol).
"""
from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from .checkpoints import atomic_path, atomic_write_text
from .images import load_image, save_image
from .diptych import FILL_GUIDANCE
from .metrics import CLIP_MODELS, L1_SIZE, ClipScorer, DinoScorer, Protocol, l1_distance, mean

BENCHMARKS = {"emu-test": "facebook/emu_edit_test_set", "magicbrush-test": None}
METRICS = ("clip_i", "clip_out", "dino", "l1")


class BenchDataNotAvailable(RuntimeError):
    """A benchmark's data is neither local nor in the cache (offline)."""


# --------------------------------------------------------------------------- suites
def _subset(rows: list[dict], n: int | None, seed: int) -> list[dict]:
    if not n or n >= len(rows):
        return rows
    order = list(range(len(rows)))
    random.Random(seed).shuffle(order)
    return [rows[i] for i in sorted(order[:n])]


def _load_dataset(name_or_path: str, split: str):
    import datasets

    try:
        path = Path(name_or_path)
        if path.is_dir() and (path / "dataset_info.json").exists():
            return datasets.load_from_disk(str(path))
        if path.exists():  # parquet files or a folder of them
            files = [str(p) for p in sorted(path.rglob("*.parquet"))] if path.is_dir() else [str(path)]
            return datasets.load_dataset("parquet", data_files=files, split="train")
        return datasets.load_dataset(name_or_path, split=split)
    except (FileNotFoundError, ConnectionError, ValueError, OSError) as e:
        raise BenchDataNotAvailable(
            f"the dataset {name_or_path!r} is not available here ({type(e).__name__}). Download it with "
            f"`hf download {name_or_path} --repo-type dataset --local-dir DIR` and pass --source DIR") from None


def emu_rows(source: str, emu_filter: bool = True) -> list[dict]:
    """Emu Edit test rows: (id, source image, instruction, input and output captions)."""
    data = _load_dataset(source, "test")
    rows = []
    for i, r in enumerate(data):
        if emu_filter and r["input_caption"].strip() == r["output_caption"].strip():
            continue  # the authors' filter: nothing to tell CLIP-out that the edit happened
        rows.append({"id": f"emu-{r.get('idx', i)}", "image": r["image"], "instruction": r["instruction"],
                     "input_caption": r["input_caption"], "output_caption": r["output_caption"],
                     "task": r.get("task")})
    return rows


def magicbrush_rows(source: str) -> list[dict]:
    """MagicBrush rows: every turn from its ground-truth input, with the ground-truth output as target."""
    folder = Path(source)
    sessions = folder / "edit_sessions.json"
    if sessions.is_file():  # the authors' test release
        rows = []
        for img_id, turns in json.loads(sessions.read_text()).items():
            for k, turn in enumerate(turns, 1):
                rows.append({"id": f"mb-{img_id}-{k}", "image": folder / "images" / img_id / turn["input"],
                             "target": folder / "images" / img_id / turn["output"],
                             "instruction": turn["instruction"]})
        return rows
    data = _load_dataset(source, "dev")
    return [{"id": f"mb-{r['img_id']}-{r['turn_index']}", "image": r["source_img"], "target": r["target_img"],
             "instruction": r["instruction"]} for r in data]


def prepare_suite(suite: str, out_dir: Path, source: str | None = None, n: int | None = None, seed: int = 0,
                  emu_filter: bool = True) -> Path:
    """Write a benchmark (or copy a JSONL suite's subset) as DIR/suite/suite.jsonl with its images."""
    if suite not in BENCHMARKS:
        return Path(suite)  # a JSON-lines suite: read as it is (the subset is taken when scoring)
    if suite == "magicbrush-test" and not source:
        raise BenchDataNotAvailable("magicbrush-test is not on the hub: download the authors' test.zip (see "
                                    "MagicBrush's repository), unpack it and pass --source FOLDER")
    rows = emu_rows(source or BENCHMARKS[suite], emu_filter) if suite == "emu-test" else magicbrush_rows(source)
    rows = _subset(rows, n, seed)
    folder = out_dir / "suite"
    lines = []
    for row in tqdm(rows, desc=f"preparing {suite}", unit="row", disable=len(rows) < 20):
        line = {k: v for k, v in row.items() if k not in ("image", "target")}
        for key in ("image", "target"):
            if key in row:
                image = row[key] if hasattr(row[key], "save") else load_image(row[key])
                save_image(image.convert("RGB"), folder / "images" / f"{row['id']}_{key}.png")
                line[key] = f"images/{row['id']}_{key}.png"
        lines.append(json.dumps(line))
    atomic_write_text(folder / "suite.jsonl", "\n".join(lines) + "\n")
    return folder / "suite.jsonl"


# --------------------------------------------------------------------------- scoring
def score_rows(rows: list[dict], results: dict, clip: ClipScorer, dino: DinoScorer,
               l1_size=L1_SIZE) -> list[dict]:
    """Per edit: CLIP-I and DINO against the target when there is one, else the source; CLIP-out against the
    output caption when there is one; L1 against the target when there is one. Batched over the suite."""
    sources = [load_image(r["image_path"]) for r in rows]
    targets = [load_image(r["target_path"]) if r.get("target_path") else None for r in rows]
    references = [t if t is not None else s for s, t in zip(sources, targets)]
    edited = [results[r["id"]] for r in rows]
    clip_i, dino_i = clip.clip_i(edited, references), dino.dino(edited, references)
    captioned = [k for k, r in enumerate(rows) if r.get("output_caption")]
    clip_out = dict(zip(captioned, clip.clip_out([edited[k] for k in captioned],
                                                 [rows[k]["output_caption"] for k in captioned]))) if captioned else {}
    out = []
    for k, row in enumerate(rows):
        out.append({"id": row["id"], "instruction": row["instruction"],
                    "reference": "target" if targets[k] is not None else "source",
                    "clip_i": clip_i[k], "dino": dino_i[k], "clip_out": clip_out.get(k, float("nan")),
                    "l1": l1_distance(edited[k], targets[k], l1_size) if targets[k] is not None else float("nan")})
    return out


def summarize(scores: list[dict]) -> dict:
    return {m: mean([s[m] for s in scores]) for m in METRICS} | {"n": len(scores)}


def paired(scores_a: list[dict], scores_b: list[dict], n_boot: int = 10000, seed: int = 0) -> dict:
    """Each metric's mean per-edit difference (A - B) with a 95% bootstrap interval, over the shared edits."""
    b = {s["id"]: s for s in scores_b}
    if {s["id"] for s in scores_a} != set(b):
        raise ValueError("--paired-with: the two runs scored different edits")
    out = {}
    rng = np.random.default_rng(seed)
    for m in METRICS:
        diff = np.array([s[m] - b[s["id"]][m] for s in scores_a])
        diff = diff[~np.isnan(diff)]
        if not len(diff):
            continue
        boot = rng.choice(diff, size=(n_boot, len(diff))).mean(axis=1)
        low, high = np.percentile(boot, [2.5, 97.5])
        out[m] = {"mean_diff": float(diff.mean()), "ci95": [float(low), float(high)], "n": int(len(diff))}
    return out


def table(summary: dict, protocol: Protocol, title: str, ground_truth: bool) -> str:
    """The paper's layout: MagicBrush (L1, CLIP-I, DINO against the ground truth) or Emu Edit (CLIP-I, CLIP-out,
    DINO against the source)."""
    cols = ("l1", "clip_i", "dino") if ground_truth else ("clip_i", "clip_out", "dino")
    names = {"l1": "L1", "clip_i": "CLIP-I", "clip_out": "CLIP-out", "dino": "DINO"}
    lines = [f"### {title}", "", "| edits | " + " | ".join(names[c] for c in cols) + " |",
             "|---|" + "---|" * len(cols), f"| {summary['n']} | " + " | ".join(f"{summary[c]:.3f}" for c in cols) + " |",
             "", f"Protocol: {protocol.describe()}."]
    return "\n".join(lines) + "\n"


def figure(rows: list[dict], scores: list[dict], results: dict, key: str, k: int = 3):
    """The k best and k worst edits by `key` (lower is better for L1): source | result (| target)."""
    import matplotlib.pyplot as plt

    lower_better = key == "l1"
    ranked = sorted((s for s in scores if not np.isnan(s[key])), key=lambda s: s[key], reverse=not lower_better)
    picks = ranked[:k] + ranked[-k:] if len(ranked) > 2 * k else ranked
    by_id = {r["id"]: r for r in rows}
    cols = 3 if any(by_id[s["id"]].get("target_path") for s in picks) else 2
    fig, axes = plt.subplots(len(picks), cols, figsize=(3 * cols, 2.6 * len(picks)), squeeze=False)
    for ax_row, s in zip(axes, picks):
        row = by_id[s["id"]]
        images = [load_image(row["image_path"]), results[s["id"]]]
        if cols == 3:
            images.append(load_image(row["target_path"]) if row.get("target_path") else None)
        for ax, im, name in zip(ax_row, images, ("source", f"result, {key} {s[key]:.3f}", "target")):
            if im is not None:
                ax.imshow(im)
            ax.set_title(name if name != "source" else row["instruction"][:40], fontsize=8)
            ax.axis("off")
    fig.tight_layout()
    return fig


def run(editor, suite_path: Path, out_dir: Path, clip: ClipScorer, dino: DinoScorer, n: int | None = None,
        subset_seed: int = 0, seed: int = 0, steps: int = 28, guidance: float = FILL_GUIDANCE, prompt_mode: str = "ic",
        paired_with: str | None = None, options: dict | None = None) -> dict:
    """Edit every row, score it, write scores.jsonl, results.json, table.md and figure.png."""
    from .suites import load_suite

    rows = load_suite(suite_path)
    for row in rows:
        row["target_path"] = suite_path.parent / row["target"] if row.get("target") else None
    rows = _subset(rows, n, subset_seed)
    earlier = None
    if paired_with:  # a bad earlier run fails before any edit
        earlier_path = Path(paired_with) / "scores.jsonl"
        if not earlier_path.is_file():
            raise ValueError(f"--paired-with: no scores.jsonl in {paired_with}")
        earlier = [json.loads(line) for line in earlier_path.read_text().splitlines() if line.strip()]
    results = {}
    for row in tqdm(rows, desc="editing", unit="edit"):
        result = editor.edit(load_image(row["image_path"]), row["instruction"], seed=seed, steps=steps,
                             guidance=guidance, prompt_mode=prompt_mode).image
        save_image(result, out_dir / "images" / f"{row['id']}.png")
        results[row["id"]] = result
    scores = score_rows(rows, results, clip, dino)
    ground_truth = all(s["reference"] == "target" for s in scores)
    protocol = Protocol(clip.name, dino.name, L1_SIZE, "ground truth" if ground_truth else "source")
    summary = summarize(scores)
    title = f"{suite_path.parent.name if suite_path.name == 'suite.jsonl' else suite_path.name}: {len(rows)} edits"
    record = {"suite": str(suite_path), "protocol": protocol.describe(), "clip": clip.name, "dino": dino.name,
              "options": {"seed": seed, "steps": steps, "guidance": guidance, "prompt_mode": prompt_mode,
                          **(options or {})}, "summary": summary}
    if earlier is not None:
        record["paired_with"] = {"run": str(paired_with), **paired(scores, earlier)}
    atomic_write_text(out_dir / "scores.jsonl", "\n".join(json.dumps(s) for s in scores) + "\n")
    atomic_write_text(out_dir / "results.json", json.dumps(record, indent=2))
    atomic_write_text(out_dir / "table.md", table(summary, protocol, title, ground_truth))
    key = "l1" if ground_truth else ("clip_i" if np.isnan(summary["clip_out"]) else "clip_out")
    fig = figure(rows, scores, results, key)
    with atomic_path(out_dir / "figure.png") as tmp:
        fig.savefig(tmp, dpi=90, format="png")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return record


def clip_model(name: str) -> str:
    """A CLIP shorthand (vit-l-14, vit-b-32) to its hub id; anything else as given (hub id or folder)."""
    return CLIP_MODELS.get(name, name)
