"""Figures the notebooks and the demo share (matplotlib; no display needed)."""
from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt


def edit_grid(rows, title: str | None = None, scale: float = 2.0):
    """One row per edit: source | instruction | result (| target, if given).

    `rows`: dicts with `source`, `instruction`, `result` and optionally `target`, `ok`."""
    has_target = any("target" in r for r in rows)
    cols = 4 if has_target else 3
    fig, axes = plt.subplots(len(rows), cols, figsize=(scale * cols * 1.2, scale * len(rows)), squeeze=False)
    for ax_row, r in zip(axes, rows):
        ax_row[0].imshow(r["source"])
        ax_row[1].text(0.5, 0.5, "\n".join(textwrap.wrap(r["instruction"], 22)), ha="center", va="center",
                       fontsize=9, wrap=True)
        ax_row[2].imshow(r["result"])
        if "ok" in r:
            ax_row[2].set_title("success" if r["ok"] else "failed", fontsize=8,
                                color="green" if r["ok"] else "red")
        if has_target and "target" in r:
            ax_row[3].imshow(r["target"])
        for ax in ax_row:
            ax.set_xticks([]), ax.set_yticks([])
            for s in ax.spines.values():
                s.set_visible(ax is not ax_row[1])
    for ax, name in zip(axes[0], ["source", "instruction", "result", "target"]):
        ax.set_title(name if not ax.get_title() else f"{name}: {ax.get_title()}", fontsize=9)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
