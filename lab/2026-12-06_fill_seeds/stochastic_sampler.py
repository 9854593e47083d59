"""Probe (session 33): the Fill's edits with a stochastic flow-matching sampler instead of the Euler ODE.

Where a recolor fails at 60000 steps, half the failed panels do not parse: the object painted with a gradient
between two colours (`../2026-12-05_fill_named/recolor_failures_60000.txt`), different tokens of one object having
settled on different colours. The deterministic Euler sampler keeps whatever the early, hedging predictions put
in; a stochastic sampler (diffusers' `FlowMatchEulerDiscreteScheduler(stochastic_sampling=True)`: each step jumps
to the model's clean estimate and re-noises it to the next noise level with fresh noise) lets later, surer
predictions overwrite them. Runs `pretrain_eval.evaluate_fill` (the Fill evaluation's pairs, seeds and captions)
with each sampler. `stochastic_sampler_60000.json` was written by this script's first version, which looped over
the same pairs itself (change edits only; the keys "ok" and "per_type" instead of the evaluation's metrics).

    python lab/2026-12-06_fill_seeds/stochastic_sampler.py --base checkpoints/fill_v10 --n 128 --out FILE
"""
import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
import torch  # noqa: E402
from diffusers import FlowMatchEulerDiscreteScheduler  # noqa: E402

from icedit_lib import registry  # noqa: E402
from icedit_lib.pretrain_eval import evaluate_fill, paired_fill  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--base", required=True)
    p.add_argument("--n", type=int, default=64)
    p.add_argument("--out", default=None)
    a = p.parse_args()
    torch.set_num_threads(1)
    pipe, _ = registry.load_fill_pipeline(a.base, device="cpu")
    pipe.set_progress_bar_config(disable=True)
    euler = pipe.scheduler
    results = {}
    for sampler in ("euler", "stochastic"):
        pipe.scheduler = (euler if sampler == "euler" else
                          FlowMatchEulerDiscreteScheduler.from_config(euler.config, stochastic_sampling=True))
        results[sampler] = evaluate_fill(pipe, n=a.n)  # the Fill evaluation's pairs, seeds and captions
        print(sampler, round(results[sampler]["fill_one_change"], 3), results[sampler]["fill_one_change_per_type"],
              flush=True)
    results["paired"] = paired_fill(results["stochastic"], results["euler"])
    print("stochastic against euler:", results["paired"])
    if a.out:
        Path(a.out).write_text(json.dumps({"base": a.base, "n": a.n, "results": results}, indent=1))


if __name__ == "__main__":
    main()
