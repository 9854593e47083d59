"""Sampling speed of the miniature: a 28-step 128 x 64 diptych edit at batch 1 (issue target: < 0.3 s on
the 2-core CPU). Writes benchmarks/results/sampling_speed.json.

    python benchmarks/sampling_speed.py [--threads 1 2] [--repeats 10]

Untrained and trained weights time the same: only the sizes matter.
"""
import argparse
import random
import time
from pathlib import Path

import torch
from record import timing_summary, write_record

from icedit_lib import shapesworld as sw
from icedit_lib.editor import ICEditor


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("--base", default="toy")
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--repeats", type=int, default=10)
    p.add_argument("--steps", type=int, default=28)
    p.add_argument("--out", default=str(Path(__file__).parent / "results" / "sampling_speed.json"))
    args = p.parse_args(argv)
    editor = ICEditor.from_registry(args.base, device="cpu")
    source = sw.render(sw.random_scene(random.Random(0)))
    results = {}
    for threads in args.threads:
        torch.set_num_threads(threads)
        editor.edit(source, "make the red circle blue", steps=args.steps)  # warm-up
        times = []
        for i in range(args.repeats):
            t = time.perf_counter()
            editor.edit(source, "make the red circle blue", seed=i, steps=args.steps)
            times.append(time.perf_counter() - t)
        results[f"threads_{threads}"] = dict(timing_summary(times), repeats=args.repeats)
        print(f"{threads} thread(s): median {results[f'threads_{threads}']['median_s']:.3f} s per {args.steps}-step edit")
    return write_record(args.out, "sampling_speed.py", argv,
                        what=f"{args.steps}-step 128x64 diptych edit, batch 1, ICEditor.edit (VAE encode + "
                             "transformer steps + decode)", base=args.base, results=results)


if __name__ == "__main__":
    main()
