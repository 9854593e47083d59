"""Learning curves of the miniature's pretraining: held-out success against training examples seen.

    python -m icedit_lib.learning_curve --run "joint encoders=checkpoints/curve_joint_work" \\
        --run "pretrained text=checkpoints/curve_text_work" --out-dir lab/2026-12-04_language_before_images/t2i_curve

Reads the evaluations a `pretrain_flux` run logs every `--eval-every` steps (its work folder's
`log.jsonl`, or a copy of such a log; the batch size after a colon, default 16), and writes `curve.json`
and `figure.png`: what notebook 02 shows to make the case for the text path. A T2I run's points hold exact
scenes, exact scenes by object count and attribute accuracies; a Fill run's hold one-change success, copy,
kept objects and success per edit type. `--previous curve.json` extends an earlier curve: a run continued in a
new session (`--continue-from-export`, a fresh work folder) adds its points under the same label (give
`--run` once per folder of a chain, in order), and a label with no run keeps its points.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from .checkpoints import atomic_write_text


def read_curve(log: str | Path, batch_size: int) -> list[dict]:
    """The evaluation points of one run (a work folder or its `log.jsonl`), in order of steps."""
    log = Path(log)
    points = []
    for line in (log / "log.jsonl" if log.is_dir() else log).read_text().splitlines():
        row = json.loads(line)
        ev = row.get("eval")
        if not ev:
            continue
        point = {"step": row["step"], "examples": row["step"] * batch_size, "n": ev["n"]}
        if "t2i_exact" in ev:
            points.append(point | {"exact": ev["t2i_exact"], "exact_by_objects": ev.get("t2i_exact_by_objects"),
                                   **{k: ev[f"t2i_{k}"] for k in ("cells", "shape", "color", "size", "background",
                                                                  "style")}})
        elif "fill_one_change" in ev:
            points.append(point | {"one_change": ev["fill_one_change"], "copy": ev.get("fill_copy"),
                                   "kept_objects": ev.get("fill_kept_objects"),
                                   "per_type": ev["fill_one_change_per_type"]})
    return sorted(points, key=lambda p: p["step"])


def is_fill(curves: dict[str, list[dict]]) -> bool:
    """Whether the curves are a Fill stage's (else a T2I's); one figure holds one kind."""
    kinds = {"one_change" in p for points in curves.values() for p in points}
    if len(kinds) > 1:
        raise ValueError("these curves mix T2I and Fill evaluations: plot each stage's runs in a curve of its own")
    return kinds == {True}


def plot(curves: dict[str, list[dict]]):
    return plot_fill(curves) if is_fill(curves) else plot_t2i(curves)


def plot_fill(curves: dict[str, list[dict]]):
    """Top left: one-change success and copy against examples seen; then one panel per edit type."""
    import matplotlib.pyplot as plt

    types = sorted({t for points in curves.values() for p in points for t in p["per_type"]})
    fig, axes = plt.subplots(2, 5, figsize=(17, 6.4), sharex=True)
    colors = plt.get_cmap("tab10").colors
    panels = [(lambda p: p["one_change"], "one-change diptychs, all"), (lambda p: p["copy"], "copy (identical halves)")]
    panels += [(lambda p, t=t: p["per_type"].get(t), f"edit type: {t}") for t in types]
    for (label, points), color in zip(curves.items(), colors):
        x = [p["examples"] / 1000 for p in points]
        for ax, (value, _) in zip(axes.flat, panels):
            y = [100 * v if (v := value(p)) is not None else float("nan") for p in points]
            ax.plot(x, y, "o-", color=color, markersize=3, label=label)
    for ax, (_, title) in zip(axes.flat, panels):
        ax.set_title(title, fontsize=10)
    for ax in axes.flat[len(panels):]:
        ax.axis("off")
    for ax in axes[1]:
        ax.set_xlabel("training examples seen (thousands)")
    for ax in axes.flat[:len(panels)]:
        ax.grid(alpha=0.3)
        ax.set_ylim(-3, 103)
    axes[0, 0].set_ylabel("held-out pairs (%)")
    axes[1, 0].set_ylabel("held-out pairs (%)")
    return _legend_below(fig, axes[0, 0])


def plot_t2i(curves: dict[str, list[dict]]):
    """Top: exact scenes against examples seen, for all scenes and by object count. Bottom: what the parser
    reads right, object by object (the cells occupied, and shape, colour and size in the right cells)."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 5, figsize=(17, 6.4), sharex=True)
    colors = plt.get_cmap("tab10").colors
    bottom = [("cells", "scenes with the right cells occupied"), ("shape", "objects' shape"),
              ("color", "objects' colour"), ("size", "objects' size"), ("background", "scenes' background")]
    for (label, points), color in zip(curves.items(), colors):
        x = [p["examples"] / 1000 for p in points]
        axes[0, 0].plot(x, [100 * p["exact"] for p in points], "o-", color=color, label=label, markersize=3)
        for k in range(1, 5):
            y = [100 * v if (v := (p["exact_by_objects"] or {}).get(str(k))) is not None else float("nan")
                 for p in points]
            axes[0, k].plot(x, y, "o-", color=color, markersize=3)
        for ax, (key, _) in zip(axes[1], bottom):
            ax.plot(x, [100 * p[key] for p in points], "o-", color=color, markersize=3)
    axes[0, 0].set_title("exact scenes, all")
    for k in range(1, 5):
        axes[0, k].set_title(f"exact scenes with {k} object{'s' if k > 1 else ''}")
    for ax, (_, title) in zip(axes[1], bottom):
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("training examples seen (thousands)")
    for ax in axes.flat:
        ax.grid(alpha=0.3)
        ax.set_ylim(-3, 103)
    axes[0, 0].set_ylabel("held-out scenes (%)")
    axes[1, 0].set_ylabel("held-out scenes / objects (%)")
    return _legend_below(fig, axes[0, 0])


def _legend_below(fig, ax):
    """One legend for the figure, under its panels, where it hides no curve."""
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    fig.legend(*ax.get_legend_handles_labels(), loc="lower center", ncol=3, fontsize=9)
    return fig


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--run", action="append", required=True, metavar="LABEL=WORK_DIR[:BATCH]",
                   help="a pretrain_flux work folder (or its log.jsonl), its label and (default 16) its batch size; "
                        "repeatable, also under one label (a chain of continuations)")
    p.add_argument("--out-dir", required=True)
    p.add_argument("--previous", default=None, help="a curve.json to extend (see the module docstring)")
    args = p.parse_args(argv)
    curves = json.loads(Path(args.previous).read_text()) if args.previous else {}
    for item in args.run:
        label, _, where = item.partition("=")
        folder, _, batch = where.partition(":")
        by_step = {point["step"]: point for point in curves.get(label, [])}
        by_step.update({point["step"]: point for point in read_curve(folder, int(batch or 16))})
        curves[label] = [by_step[step] for step in sorted(by_step)]
    figure = plot(curves)  # before anything is written: curves that mix stages are refused here
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "curve.json", json.dumps(curves, indent=2))
    figure.savefig(out / "figure.png", dpi=110)
    return curves


if __name__ == "__main__":
    main()
