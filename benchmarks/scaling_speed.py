"""Wall time of early-filter scaling against a single edit, side by side in one run (issue target on the
2-core CPU: early filter with M = 6 at most 2.5x a single edit). Writes benchmarks/results/scaling_speed.json.

    python benchmarks/scaling_speed.py [--judge mini-judge] [--num-seeds 6] [--filter-steps 4] [--repeats 5]

The M previews run as one batched call, the judge compares them (M - 1 comparisons, two
passes each), and the winner resumes from step m. Best-of-M on finished images is timed
too, for the paper's comparison. Untrained and trained weights time the same.
"""
import random
import time

import torch
from record import benchmark_parser, timing_summary, write_record

from icedit_lib import shapesworld as sw
from icedit_lib.editor import ICEditor
from icedit_lib.registry import load_judge
from icedit_lib.scaling import best_of_m, early_filter, single


def main(argv=None):
    p = benchmark_parser("scaling_speed", adapter="none", repeats=5)
    p.add_argument("--judge", default="mini-judge")
    p.add_argument("--num-seeds", type=int, default=6)
    p.add_argument("--filter-steps", type=int, default=4)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    editor = ICEditor.from_registry(args.base, adapter=args.adapter, device="cpu", fuse_adapter=True)  # as the CLI
    editor.pipe.set_progress_bar_config(disable=True)
    judge = load_judge(args.judge, device="cpu")
    pair = sw.random_pair(random.Random(0), split="eval")
    source, instruction = sw.render(pair.source), pair.instruction
    runs = {
        "single": lambda s: single(editor, source, instruction, seed=s, steps=args.steps),
        "early_filter": lambda s: early_filter(editor, judge, source, instruction, args.num_seeds, args.filter_steps,
                                               seed=s, steps=args.steps),
        "best_of_m_finished": lambda s: best_of_m(editor, judge, source, instruction, args.num_seeds, seed=s,
                                                  steps=args.steps),
    }
    for run in runs.values():  # warm-up
        run(0)
    times = {name: [] for name in runs}
    nfe = {}
    for i in range(args.repeats):  # interleaved, so machine noise hits every method alike
        for name, run in runs.items():
            t = time.perf_counter()
            res = run(100 + i)
            times[name].append(time.perf_counter() - t)
            nfe[name] = res.nfe
    results = {name: dict(timing_summary(ts), nfe=nfe[name]) for name, ts in times.items()}
    for r in results.values():
        r["ratio_to_single"] = r["median_s"] / results["single"]["median_s"]
    for name, r in results.items():
        print(f"{name:>20}: median {r['median_s']:.3f} s, NFE {r['nfe']}, {r['ratio_to_single']:.2f}x single")
    return write_record(args.out, "scaling_speed.py", argv,
                        what=f"one {args.steps}-step edit of a 64x64 panel (128x64 diptych): single seed vs early filter "
                             f"(M = {args.num_seeds}, m = {args.filter_steps}) vs best of M finished, judge {args.judge}",
                        base=args.base, adapter=args.adapter, threads=args.threads, repeats=args.repeats,
                        results=results)


if __name__ == "__main__":
    main()
