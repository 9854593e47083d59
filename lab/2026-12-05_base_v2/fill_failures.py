"""Probe: what the Fill draws where a one-change edit fails (issue 28, session 24).

    python lab/2026-12-05_base_v2/fill_failures.py --base checkpoints/fill_text --n 24 --out DIR

For held-out pairs of the card's evaluation (seed 2025), the Fill's right panel is parsed and compared with
the target scene object by object; prints one line a pair and writes a figure of the diptychs."""
import argparse
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
import torch  # noqa: E402

from icedit_lib import miniature as mini, registry, shapesworld as sw  # noqa: E402
from icedit_lib.editor import ICEditor  # noqa: E402
from icedit_lib.figures import edit_grid  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--base", required=True)
    p.add_argument("--n", type=int, default=24)
    p.add_argument("--out", required=True)
    p.add_argument("--describe-left", action="store_true", help="the caption also describes the left scene in full")
    a = p.parse_args()
    torch.set_num_threads(1)
    pipe, entry = registry.load_fill_pipeline(a.base, device="cpu")
    pipe.set_progress_bar_config(disable=True)
    editor = ICEditor(pipe, panel_width=sw.PANEL, max_sequence_length=mini.T5_MAX_LENGTH)
    rng = random.Random(2025)
    rows = []
    for i in range(a.n):
        pair = sw.random_pair(rng, split="eval")
        caption = sw.diptych_caption(pair.source, pair.edit, describe_left=a.describe_left)
        out = editor.edit(sw.render(pair.source), caption, seed=i, steps=28, guidance=30.0, prompt_mode="direct").image
        got = sw.read_scene(out).exact
        ok = got == pair.target
        verdict = "ok" if ok else "unchanged" if got == pair.source else "other"
        detail = ""
        if not ok and got is not None:
            missing = [o for o in pair.target.objects if o not in got.objects]
            extra = [o for o in got.objects if o not in pair.target.objects]
            bg = "" if got.background == pair.target.background else f" bg {got.background} for {pair.target.background}"
            detail = f" missing {missing} extra {extra}{bg}"
        elif got is None:
            detail = " unparsable"
        print(f"{i:2d} {pair.edit.kind:10s} {verdict:9s} {caption.split(' but ')[-1] if ' but ' in caption else '(copy)'!r}{detail}", flush=True)
        rows.append(dict(source=sw.render(pair.source), instruction=f"{pair.edit.kind}: {verdict}", result=out,
                         target=sw.render(pair.target), ok=ok))
    Path(a.out).mkdir(parents=True, exist_ok=True)
    edit_grid(rows, title=a.base).savefig(Path(a.out) / "failures.png", dpi=60)


if __name__ == "__main__":
    main()
