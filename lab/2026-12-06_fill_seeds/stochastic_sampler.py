"""Probe (session 33): the Fill's edits with a stochastic flow-matching sampler instead of the Euler ODE.

Where a recolor fails at 60000 steps, half the failed panels do not parse: the object painted with a gradient
between two colours (`../2026-12-05_fill_named/recolor_failures_60000.txt`), different tokens of one object having
settled on different colours. The deterministic Euler sampler keeps whatever the early, hedging predictions put
in; a stochastic sampler (diffusers' `FlowMatchEulerDiscreteScheduler(stochastic_sampling=True)`: each step jumps
to the model's clean estimate and re-noises it to the next noise level with fresh noise) lets later, surer
predictions overwrite them. Same pairs, seeds and captions as the Fill's evaluation (seed 2025).

    python lab/2026-12-06_fill_seeds/stochastic_sampler.py --base checkpoints/fill_v10 --n 128 --out FILE
"""
import argparse
import json
import random
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
import torch  # noqa: E402
from diffusers import FlowMatchEulerDiscreteScheduler  # noqa: E402

from icedit_lib import miniature as mini, registry, shapesworld as sw  # noqa: E402
from icedit_lib.editor import ICEditor  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--base", required=True)
    p.add_argument("--n", type=int, default=64)
    p.add_argument("--samplers", nargs="+", default=["euler", "stochastic"])
    p.add_argument("--out", default=None)
    a = p.parse_args()
    torch.set_num_threads(1)
    pipe, _ = registry.load_fill_pipeline(a.base, device="cpu")
    pipe.set_progress_bar_config(disable=True)
    euler = pipe.scheduler
    results = {}
    for sampler in a.samplers:
        pipe.scheduler = (euler if sampler == "euler" else
                          FlowMatchEulerDiscreteScheduler.from_config(euler.config, stochastic_sampling=True))
        editor = ICEditor(pipe, panel_width=sw.PANEL, max_sequence_length=mini.T5_MAX_LENGTH)
        rng = random.Random(2025)
        per_type, ok_all = defaultdict(list), []
        for i in range(a.n):
            pair = sw.random_pair(rng, split="eval")
            result = editor.edit(sw.render(pair.source), sw.diptych_caption(pair.source, pair.edit), seed=i, steps=28,
                                 guidance=30.0, prompt_mode="direct")
            ok = sw.read_scene(result.image).exact == pair.target
            per_type[pair.edit.kind].append(int(ok))
            ok_all.append(int(ok))
        results[sampler] = {"one_change": sum(ok_all) / len(ok_all), "ok": ok_all,
                            "per_type": {k: f"{sum(v)}/{len(v)}" for k, v in sorted(per_type.items())}}
        print(sampler, round(results[sampler]["one_change"], 3), results[sampler]["per_type"], flush=True)
        if a.out:
            Path(a.out).write_text(json.dumps({"base": a.base, "n": a.n, "results": results}, indent=1))


if __name__ == "__main__":
    main()
