"""Editing pairs for fine-tuning: ShapesWorld (generated), MagicBrush and OmniEdit (parquet).

Every source yields dicts {"source": PIL, "target": PIL, "instruction": str, "task": str}.

- ShapesWorld: pairs drawn from the training split with the spec's training templates,
  in a task mix shaped like the paper's Table 4 (removal and attribute changes most
  frequent, additions and swaps rarer). Pair i is a function of (seed, i).
- MagicBrush (`source_img`, `target_img`, `instruction`) and OmniEdit (`src_img`,
  `edited_img`, `edited_prompt_list`, `task`) are read from local parquet files with
  `datasets` (download them yourself; the hub is not needed). Images keep their aspect
  ratio: the diptych layout rescales them (the authors squash everything to 512 x 512).
"""
from __future__ import annotations

import io
import random
from pathlib import Path

from PIL import Image

from . import shapesworld as sw
from .images import to_rgb

# Task mix after the paper's Table 4: removal and attribute modification (here recolor +
# resize) lead; addition and swap (replace) are rarer.
TASK_MIX = {"remove": 0.20, "recolor": 0.15, "resize": 0.10, "replace": 0.12, "add": 0.10, "move": 0.11,
            "background": 0.12, "restyle": 0.10}
SOURCES = ("shapesworld", "magicbrush", "omniedit")


def shapesworld_pair(index: int, seed: int = 0) -> dict:
    rng = random.Random(seed * 1_000_003 + index)
    kind = rng.choices(list(TASK_MIX), weights=list(TASK_MIX.values()))[0]
    pair = sw.random_pair(rng, kind=kind, split="train")
    return {"source": sw.render(pair.source), "target": sw.render(pair.target), "instruction": pair.instruction,
            "task": kind, "caption": sw.diptych_caption(pair.source, pair.edit)}


def _image(value) -> Image.Image:
    """A parquet image cell (datasets' {"bytes", "path"} dict, raw bytes, or PIL) -> RGB."""
    if isinstance(value, Image.Image):
        return to_rgb(value)
    if isinstance(value, dict):
        value = value.get("bytes") or Path(value["path"]).read_bytes()
    return to_rgb(Image.open(io.BytesIO(value)))


class ParquetPairs:
    """MagicBrush or OmniEdit rows from local parquet files, through `datasets`."""

    COLUMNS = {"magicbrush": ("source_img", "target_img", "instruction", None),
               "omniedit": ("src_img", "edited_img", "edited_prompt_list", "task")}

    def __init__(self, kind: str, files: str | list[str]):
        from datasets import load_dataset

        if kind not in self.COLUMNS:
            raise ValueError(f"unknown pair format {kind!r}; expected one of {sorted(self.COLUMNS)}")
        self.kind = kind
        files = [str(f) for f in ([files] if isinstance(files, (str, Path)) else files)]
        for f in files:
            if not Path(f).exists():
                raise FileNotFoundError(f"no such parquet file: {f}")
        self.data = load_dataset("parquet", data_files=files, split="train")
        missing = [c for c in self.COLUMNS[kind] if c and c not in self.data.column_names]
        if missing:
            raise ValueError(f"{files[0]} is not {kind} data: columns {missing} are missing "
                             f"(it has {self.data.column_names})")

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int) -> dict:
        src, tgt, text, task = self.COLUMNS[self.kind]
        row = self.data[index % len(self.data)]
        instruction = row[text]
        if isinstance(instruction, list):  # OmniEdit: several phrasings; take one, deterministically
            instruction = instruction[index // len(self.data) % len(instruction)] if instruction else ""
        return {"source": _image(row[src]), "target": _image(row[tgt]), "instruction": str(instruction),
                "task": row[task] if task else "magicbrush"}


def pair_source(spec: str, seed: int = 0):
    """`shapesworld`, `magicbrush:FILE[,FILE]` or `omniedit:FILE[,FILE]` -> a function index -> pair."""
    kind, _, files = spec.partition(":")
    if kind == "shapesworld":
        return lambda i: shapesworld_pair(i, seed)
    if kind in ParquetPairs.COLUMNS:
        if not files:
            raise ValueError(f"{kind} needs parquet files: --data {kind}:path/to/file.parquet")
        return ParquetPairs(kind, files.split(",")).__getitem__
    raise ValueError(f"unknown data source {spec!r}; expected one of {SOURCES} (with :FILES for parquet)")
