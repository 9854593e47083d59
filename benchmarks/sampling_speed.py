"""Sampling speed of the miniature: a 28-step 128 x 64 diptych edit at batch 1 (issue target: < 0.3 s on
the 2-core CPU). Writes benchmarks/results/sampling_speed.json.

    python benchmarks/sampling_speed.py [--threads 1 2] [--repeats 10] [--no-compile]

Eager first, then the same editor with its transformer through torch.compile as the editor compiles it on a
CPU (`ICEditor.from_registry(..., compile=True)`, `icedit edit --compile`: Inductor with the weights frozen into
the graph and a C++ wrapper), then with plain `torch.compile` for comparison; each compilation is timed apart.
Untrained and trained weights time the same: only the sizes matter.
"""
import argparse
import random
import time
from pathlib import Path

import torch
from record import timing_summary, write_record

from icedit_lib import registry, shapesworld as sw
from icedit_lib.editor import CPU_COMPILE_OPTIONS, ICEditor


# Inductor options per mode: the editor's on a CPU, and none (plain compilation).
COMPILE_OPTIONS = {"compiled": CPU_COMPILE_OPTIONS, "compiled_plain": None}


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("--base", default="mini")
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--repeats", type=int, default=10)
    p.add_argument("--steps", type=int, default=28)
    p.add_argument("--out", default=str(Path(__file__).parent / "results" / "sampling_speed.json"))
    p.add_argument("--no-compile", action="store_true", help="time the eager editor only")
    args = p.parse_args(argv)
    adapter = registry.default_adapter(args.base)  # what `icedit edit` uses on this base
    editor = ICEditor.from_registry(args.base, adapter=adapter, device="cpu", fuse_adapter=True)  # as the CLI
    editor.pipe.set_progress_bar_config(disable=True)
    source = sw.render(sw.random_scene(random.Random(0)))

    def edit(seed=0):
        editor.edit(source, "make the red circle blue", seed=seed, steps=args.steps)

    results = {}
    modes = ("eager",) if args.no_compile else ("eager", "compiled", "compiled_plain")
    for mode in modes:
        if mode != "eager":
            torch._dynamo.reset()  # forget the previous mode's graphs: each mode compiles afresh
            t = time.perf_counter()
            editor.pipe.transformer.compile(dynamic=False, options=COMPILE_OPTIONS[mode])
            edit()
            results[f"{mode}_compilation_s"] = time.perf_counter() - t
        for threads in args.threads:
            torch.set_num_threads(threads)
            edit()  # warm-up
            times = []
            for i in range(args.repeats):
                t = time.perf_counter()
                edit(seed=i)
                times.append(time.perf_counter() - t)
            key = f"{mode}_threads_{threads}"
            results[key] = dict(timing_summary(times), repeats=args.repeats)
            print(f"{mode}, {threads} thread(s): median {results[key]['median_s']:.3f} s per {args.steps}-step edit")
    return write_record(args.out, "sampling_speed.py", argv,
                        what=f"{args.steps}-step 128x64 diptych edit, batch 1, ICEditor.edit (VAE encode + "
                             "transformer steps + decode), the default adapter fused as the CLI does; eager, compiled as "
                             "the editor does on a CPU (weights frozen, C++ wrapper), and plainly compiled",
                        base=args.base, adapter=adapter, results=results)


if __name__ == "__main__":
    main()
