"""Evaluation suites: ShapesWorld edit pairs from the held-out split, as JSON lines.

    python -m icedit_lib.suites --out-dir data/examples --n 8 --seed 7

Each row is the spec's scoring format: `id`, `image` (relative to the suite file),
`instruction`, `source_scene`, `target_scene`, plus `edit_type` and `caption`: the same change
in the pretraining corpus's descriptive language ("... exactly the same as on the left but the
red circle is blue."), a reference for what the base understands without instructions. Edit types cycle so
that every type is equally represented. Scenes come from the evaluation split only
(`shapesworld.scene_split`), so no training run ever sees them.
"""
from __future__ import annotations

import argparse
import json
import random
import re
from pathlib import Path

from . import shapesworld as sw
from .checkpoints import atomic_write_text
from .images import save_image


class SuiteError(ValueError):
    """A malformed suite file."""


def safe_id(value, where: str, seen: set, error: type[Exception]) -> str:
    """A row's id as a file name: letters, digits, . _ - only, and not used before."""
    rid = str(value)
    if not re.fullmatch(r"[A-Za-z0-9._-]+", rid) or rid in (".", ".."):
        raise error(f"{where}: id {rid!r} is not a safe file name (letters, digits, . _ -)")
    if rid in seen:
        raise error(f"{where}: duplicate id {rid!r}")
    seen.add(rid)
    return rid


def load_suite(path: str | Path) -> list[dict]:
    """Suite rows, validated: `id` (a safe file name), `image` (relative to the suite), `instruction`."""
    path = Path(path)
    if not path.is_file():
        raise SuiteError(f"no such suite file: {path}")
    rows, seen = [], set()
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            raise SuiteError(f"{path}:{n}: not valid JSON ({e.msg})") from None
        if not isinstance(row, dict) or not {"id", "image", "instruction"} <= set(row):
            raise SuiteError(f"{path}:{n}: a row needs 'id', 'image' and 'instruction'")
        rid = safe_id(row["id"], f"{path}:{n}", seen, SuiteError)
        rows.append({**row, "id": rid, "image_path": path.parent / row["image"]})
    if not rows:
        raise SuiteError(f"{path} holds no rows")
    return rows


PHRASINGS = ("template", "typed")


def make_suite(out_dir: str | Path, n: int, seed: int, name: str = "suite.jsonl",
               edit_types: tuple[str, ...] = sw.EDIT_TYPES, phrasing: str = "template") -> Path:
    """n held-out edits (scenes of the evaluation split), the edit types in turn. `phrasing="typed"`: the same
    edits (same seed, same ids and images) with each instruction as people type it (`language.instruction`:
    verb synonyms, polite wrappers, questions, capitals, punctuation) instead of a spec template."""
    from .language import instruction as typed_instruction

    if phrasing not in PHRASINGS:
        raise ValueError(f"phrasing must be one of {PHRASINGS}, got {phrasing!r}")
    out = Path(out_dir)
    (out / "images").mkdir(parents=True, exist_ok=True)
    rng, typing_rng = random.Random(seed), random.Random(f"typed-{seed}")
    rows = []
    for i in range(n):
        kind = edit_types[i % len(edit_types)]
        pair = sw.random_pair(rng, kind=kind, split="eval")
        text = pair.instruction if phrasing == "template" else \
            typed_instruction(pair.source, pair.edit, typing_rng, plain=0.0).string
        rid = f"{i:04d}_{kind}"
        save_image(sw.render(pair.source), out / "images" / f"{rid}.png")
        rows.append({"id": rid, "image": f"images/{rid}.png", "instruction": text, "edit_type": kind,
                     "source_scene": pair.source.to_dict(), "target_scene": pair.target.to_dict(),
                     "caption": sw.diptych_caption(pair.source, pair.edit)})
    path = out / name
    atomic_write_text(path, "".join(json.dumps(r) + "\n" for r in rows))
    return path


def parse_args(argv=None):
    p = argparse.ArgumentParser(description="Write a held-out ShapesWorld evaluation suite.")
    p.add_argument("--out-dir", required=True)
    p.add_argument("--n", type=int, default=64)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--name", default="suite.jsonl")
    return p.parse_args(argv)


if __name__ == "__main__":
    a = parse_args()
    print(make_suite(a.out_dir, a.n, a.seed, a.name))
