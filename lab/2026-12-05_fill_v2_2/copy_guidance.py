"""Probe (session 27): does guidance away from the copy caption complete the edits the Fill hedges on?

Where a recolor fails, the Fill mostly draws the object in a mix of its old and new colours (the parser's "mixed
colors"), or leaves it unchanged: the flow-matching mean of copying and changing. The miniature was never
guidance-distilled (it learned to ignore FLUX's guidance embedding), so `guidance_scale` does nothing. Here, true
classifier-free-style guidance with the *copy* caption as the negative: v = v_copy + s (v_change - v_copy), two
transformer calls a step, on the held-out pairs of the Fill's evaluation (`pretrain_eval.evaluate_fill`, seed 2025).

    python lab/2026-12-05_fill_v2_2/copy_guidance.py --base checkpoints/fill_v4a --n 64 --scales 1 2 3
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


class CopyGuided(torch.nn.Module):
    """The transformer, called twice a step: with the change caption (what the pipeline passes) and with the copy
    caption's embeddings, mixed as v_copy + scale (v_change - v_copy)."""

    def __init__(self, transformer, scale):
        super().__init__()
        self.inner, self.scale, self.negative = transformer, scale, None

    def __getattr__(self, name):
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(self.inner, name)

    def forward(self, *args, encoder_hidden_states=None, pooled_projections=None, **kw):
        out = self.inner(*args, encoder_hidden_states=encoder_hidden_states, pooled_projections=pooled_projections,
                         **kw)
        if self.scale == 1.0:
            return out
        neg_embeds, neg_pooled = self.negative
        copy = self.inner(*args, encoder_hidden_states=neg_embeds, pooled_projections=neg_pooled, **kw)
        return (copy[0] + self.scale * (out[0] - copy[0]),)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--base", required=True)
    p.add_argument("--n", type=int, default=64)
    p.add_argument("--scales", type=float, nargs="+", default=[1.0, 2.0, 3.0])
    p.add_argument("--out", default=None)
    a = p.parse_args()
    torch.set_num_threads(1)
    pipe, _ = registry.load_fill_pipeline(a.base, device="cpu")
    pipe.set_progress_bar_config(disable=True)
    guided = CopyGuided(pipe.transformer, 1.0)
    pipe.transformer = guided
    editor = ICEditor(pipe, panel_width=sw.PANEL, max_sequence_length=mini.T5_MAX_LENGTH)
    results = {}
    for scale in a.scales:
        guided.scale = scale
        rng = random.Random(2025)
        per_type, ok_all = defaultdict(list), []
        for i in range(a.n):
            pair = sw.random_pair(rng, split="eval")
            copy_caption = sw.diptych_caption(pair.source, None)
            embeds, pooled, _ = pipe.encode_prompt(prompt=[copy_caption], prompt_2=None,
                                                   max_sequence_length=mini.T5_MAX_LENGTH)
            guided.negative = (embeds, pooled)
            result = editor.edit(sw.render(pair.source), sw.diptych_caption(pair.source, pair.edit), seed=i, steps=28,
                                 guidance=30.0, prompt_mode="direct")
            ok = sw.read_scene(result.image).exact == pair.target
            per_type[pair.edit.kind].append(int(ok))
            ok_all.append(int(ok))
        results[scale] = {"one_change": sum(ok_all) / len(ok_all), "ok": ok_all,
                          "per_type": {k: round(sum(v) / len(v), 3) for k, v in sorted(per_type.items())}}
        print(scale, results[scale]["one_change"], results[scale]["per_type"], flush=True)
    if a.out:
        Path(a.out).write_text(json.dumps({"base": a.base, "n": a.n, "results": results}, indent=1))


if __name__ == "__main__":
    main()
