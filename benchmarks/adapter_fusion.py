"""What fusing a LoRA saves: the same 28-step 128 x 64 diptych edit with no adapter, with the LoRA loaded as
peft layers, and with it fused into the weights (`ICEditor.from_registry(..., fuse_adapter=True)`, what the CLI
does). The three editors take turns in every repeat, so a noisy machine slows them alike; the fused and unfused
final latents are compared too. Writes benchmarks/results/adapter_fusion.json.

    python benchmarks/adapter_fusion.py [--adapter mini-lora] [--threads 2] [--repeats 6]
"""
import random
import time

import torch
from record import benchmark_parser, timing_summary, write_record

from icedit_lib import shapesworld as sw
from icedit_lib.editor import ICEditor


def main(argv=None):
    args = benchmark_parser("adapter_fusion", adapter="mini-lora", repeats=6).parse_args(argv)
    torch.set_num_threads(args.threads)
    editors = {"no_adapter": ICEditor.from_registry(args.base, adapter="none", device="cpu"),
               "unfused": ICEditor.from_registry(args.base, adapter=args.adapter, device="cpu"),
               "fused": ICEditor.from_registry(args.base, adapter=args.adapter, device="cpu", fuse_adapter=True)}
    source = sw.render(sw.random_scene(random.Random(0)))
    instruction = "make the red circle blue"
    times = {name: [] for name in editors}
    for editor in editors.values():
        editor.pipe.set_progress_bar_config(disable=True)
        editor.edit(source, instruction, steps=args.steps)  # warm-up
    for i in range(args.repeats):
        for name, editor in editors.items():
            t = time.perf_counter()
            editor.edit(source, instruction, seed=i, steps=args.steps)
            times[name].append(time.perf_counter() - t)
    latents = {}
    for name in ("unfused", "fused"):
        editor = editors[name]
        req = editor._request(source, instruction, 50.0, "ic")
        latents[name] = editor._run(req, editor.initial_latents([0], req.layout), editor.sigmas(args.steps),
                                    output_type="latent")
    results = {name: dict(timing_summary(t), repeats=args.repeats) for name, t in times.items()}
    results["max_abs_latent_difference_fused_vs_unfused"] = (latents["fused"] - latents["unfused"]).abs().max().item()
    for name in editors:
        print(f"{name}: median {results[name]['median_s']:.3f} s per {args.steps}-step edit")
    return write_record(args.out, "adapter_fusion.py", argv, what=f"{args.steps}-step 128x64 diptych edit, batch 1, "
                        "no adapter / LoRA unfused / LoRA fused, interleaved", base=args.base, adapter=args.adapter,
                        threads=args.threads, results=results)


if __name__ == "__main__":
    main()
