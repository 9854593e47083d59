"""`make demo`: edit the example images with the shipped miniature and save a figure.

    python -m icedit_lib.demo --out-dir outputs

Runs on a laptop CPU in seconds: loads `mini` (or --base), edits every row of
data/examples/suite.jsonl, scores the edits with the ShapesWorld parser, and writes
outputs/demo.png (source | instruction | result | target) and outputs/demo.json.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from tqdm.auto import tqdm

from . import shapesworld as sw
from .checkpoints import atomic_path, atomic_write_text
from .suites import load_suite
from .editor import ICEditor
from .images import load_image
from .registry import DATA_DIR, default_adapter


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--suite", default=str(DATA_DIR / "examples" / "suite.jsonl"))
    p.add_argument("--out-dir", default="outputs")
    p.add_argument("--base", default="mini")
    p.add_argument("--adapter", default="default", help="default: the base's better shipped adapter | none | a name")
    p.add_argument("--steps", type=int, default=28)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto")
    return p.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    from .figures import edit_grid

    if args.adapter == "default":
        args.adapter = default_adapter(args.base)
    editor = ICEditor.from_registry(args.base, adapter=args.adapter, device=args.device, fuse_adapter=True)
    rows, scores = [], []
    for row in tqdm(load_suite(args.suite), desc="demo edits"):
        source = load_image(row["image_path"])
        result = editor.edit(source, row["instruction"], seed=args.seed, steps=args.steps).image
        entry = {"source": source, "instruction": row["instruction"], "result": result}
        if "target_scene" in row:
            target = sw.Scene.from_dict(row["target_scene"])
            score = sw.score_edit(result, sw.Scene.from_dict(row["source_scene"]), target, row["edit_type"])
            scores.append(score)
            entry.update(target=sw.render(target), ok=score.success)
        rows.append(entry)
    out = Path(args.out_dir)
    fig = edit_grid(rows, title=f"ICEdit on the miniature ({args.base}, adapter {args.adapter}, {args.steps} steps)")
    with atomic_path(out / "demo.png") as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    summary = sw.summarize(scores) if scores else {}
    atomic_write_text(out / "demo.json", json.dumps(summary, indent=2))
    verdict = f"{sum(s.success for s in scores)} of {len(scores)} edits succeed" if scores else \
        f"{len(rows)} edits (no target to check them against)"
    print(f"wrote {out / 'demo.png'}: {verdict}")
    return summary


if __name__ == "__main__":
    main()
