"""Probe (session 32): guidance away from the copy caption in the first sampling steps only.

Where a recolor fails at 60000 steps, the Fill paints the object between its old and new colour or leaves it
unchanged (`recolor_failures_60000.txt`): it hedges between copying and changing, and which way a seed goes is
decided early. Guidance against the copy caption over all 28 steps hurt every type at 30000 steps
(`../2026-12-05_fill_v2_2/copy_guidance.py`: s = 1.5 32.8% against 54.7%); here it acts on the first K steps only
(a guidance interval: Kynkaanniemi et al. 2024 found guidance most useful in a limited interval), the rest plain:
v = v_copy + s (v_change - v_copy) for the first K transformer calls of each edit, v_change after. Same pairs,
seeds and captions as the Fill's evaluation (seed 2025).

    python lab/2026-12-05_fill_named/early_copy_guidance.py --base checkpoints/fill_v10 --n 128 \
        --settings 1:0 2:4 3:4 2:8 --out early_copy_guidance_60000.json
"""
import argparse
import json
import random
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
import torch  # noqa: E402

from icedit_lib import miniature as mini, registry, shapesworld as sw  # noqa: E402
from icedit_lib.editor import ICEditor  # noqa: E402


class EarlyCopyGuided(torch.nn.Module):
    """The transformer; for the first `steps` calls after `reset`, also called with the copy caption and mixed."""

    def __init__(self, transformer):
        super().__init__()
        self.inner, self.scale, self.steps, self.calls, self.negative = transformer, 1.0, 0, 0, None

    def __getattr__(self, name):
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(self.inner, name)

    def forward(self, *args, encoder_hidden_states=None, pooled_projections=None, **kw):
        out = self.inner(*args, encoder_hidden_states=encoder_hidden_states, pooled_projections=pooled_projections,
                         **kw)
        self.calls += 1
        if self.scale == 1.0 or self.calls > self.steps:
            return out
        neg_embeds, neg_pooled = self.negative
        copy = self.inner(*args, encoder_hidden_states=neg_embeds, pooled_projections=neg_pooled, **kw)
        return (copy[0] + self.scale * (out[0] - copy[0]),)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--base", required=True)
    p.add_argument("--n", type=int, default=64)
    p.add_argument("--settings", nargs="+", default=["1:0", "2:4"], help="SCALE:STEPS, guidance on the first STEPS")
    p.add_argument("--out", default=None)
    a = p.parse_args()
    torch.set_num_threads(1)
    pipe, _ = registry.load_fill_pipeline(a.base, device="cpu")
    pipe.set_progress_bar_config(disable=True)
    guided = EarlyCopyGuided(pipe.transformer)
    pipe.transformer = guided
    editor = ICEditor(pipe, panel_width=sw.PANEL, max_sequence_length=mini.T5_MAX_LENGTH)
    results = {}
    for setting in a.settings:
        scale, steps = setting.split(":")
        guided.scale, guided.steps = float(scale), int(steps)
        rng = random.Random(2025)
        per_type, ok_all = defaultdict(list), []
        for i in range(a.n):
            pair = sw.random_pair(rng, split="eval")
            embeds, pooled, _ = pipe.encode_prompt(prompt=[sw.diptych_caption(pair.source, None)], prompt_2=None,
                                                   max_sequence_length=mini.T5_MAX_LENGTH)
            guided.negative, guided.calls = (embeds, pooled), 0
            result = editor.edit(sw.render(pair.source), sw.diptych_caption(pair.source, pair.edit), seed=i, steps=28,
                                 guidance=30.0, prompt_mode="direct")
            ok = sw.read_scene(result.image).exact == pair.target
            per_type[pair.edit.kind].append(int(ok))
            ok_all.append(int(ok))
        results[setting] = {"one_change": sum(ok_all) / len(ok_all), "ok": ok_all,
                            "per_type": {k: f"{sum(v)}/{len(v)}" for k, v in sorted(per_type.items())}}
        print(setting, round(results[setting]["one_change"], 3), results[setting]["per_type"], flush=True)
        if a.out:
            Path(a.out).write_text(json.dumps({"base": a.base, "n": a.n, "results": results}, indent=1))


if __name__ == "__main__":
    main()
