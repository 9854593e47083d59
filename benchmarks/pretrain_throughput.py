"""Pretraining throughput: training examples a second of the miniature's Fill stage (issue 28's target:
at least 20,000 a second on an H200). Writes benchmarks/results/pretrain_throughput.json.

    python benchmarks/pretrain_throughput.py                                   # the CPU, small batches
    python benchmarks/pretrain_throughput.py --device cuda --batch-size 256 1024 --data-workers 8 \\
        --mixed-precision bf16 --compile --seconds 20

Each configuration runs `pretrain_flux`'s own training step (data, loss with the recipe's scene read-out,
optimizer, EMA) on an untrained miniature built from configs (random weights time the same as trained
ones), warms up for `--warmup-steps`, then counts the steps finished in `--seconds` (synchronised on a
GPU). The data come from `--data-workers` worker processes as in a real run, so what is measured is the
whole loop.
"""
import argparse
import tempfile
import time
from pathlib import Path

import torch
from record import write_record

from icedit_lib import miniature as mini
from icedit_lib import pretrain_flux


def measure(model_dir: str, device: str, batch: int, workers: int, precision: str, compiled: bool,
            seconds: float, warmup_steps: int, scene_loss: float) -> dict:
    argv = ["--stage", "fill", "--model-dir", model_dir, "--batch-size", str(batch), "--data-workers", str(workers),
            "--mixed-precision", precision, "--device", device, "--steps", "1000000", "--p-identical", "0.2",
            "--scene-loss", str(scene_loss)]
    args = pretrain_flux.parse_args(argv)
    pipe, model = pretrain_flux.build_stage(args, device)
    pretrain_flux.add_scene_head(model, args, device)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-4)
    ema = [p.detach().clone() for p in params]
    scene = pretrain_flux.scene_readout(model, args)
    if compiled:
        model.transformer.compile(dynamic=False)
    autocast = torch.autocast(torch.device(device).type, dtype=torch.bfloat16, enabled=precision == "bf16")
    batches = pretrain_flux.step_batches(args, 0, 10 ** 9)

    def step():
        s, examples = next(batches)
        with autocast:
            loss = pretrain_flux.training_loss(pipe, args, s, device, examples, scene)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        with torch.no_grad():
            torch._foreach_lerp_(ema, [p.detach() for p in params], 0.001)

    def sync():
        if device.startswith("cuda"):
            torch.cuda.synchronize()

    t = time.perf_counter()
    for _ in range(warmup_steps):
        step()
    sync()
    warmup_s = time.perf_counter() - t
    steps, t = 0, time.perf_counter()
    while time.perf_counter() - t < seconds:
        step()
        steps += 1
    sync()
    elapsed = time.perf_counter() - t
    out = {"batch_size": batch, "data_workers": workers, "scene_loss": scene_loss, "mixed_precision": precision,
           "compile": compiled, "steps": steps, "seconds": round(elapsed, 2), "warmup_s": round(warmup_s, 2),
           "examples_per_s": round(steps * batch / elapsed, 1), "ms_per_step": round(1000 * elapsed / steps, 1)}
    if device.startswith("cuda"):
        out["peak_gib"] = round(torch.cuda.max_memory_allocated() / 2 ** 30, 2)
        torch.cuda.reset_peak_memory_stats()
    return out


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch-size", type=int, nargs="+", default=[16])
    p.add_argument("--data-workers", type=int, nargs="+", default=[0])
    p.add_argument("--mixed-precision", nargs="+", default=["no"], choices=("no", "bf16"))
    p.add_argument("--compile", action="store_true", help="also each configuration with torch.compile")
    p.add_argument("--scene-loss", type=float, default=0.02, help="the Fill recipe's scene read-out weight "
                   "(`pretrain.RECIPES`); 0 times the loop without it")
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--warmup-steps", type=int, default=3)
    p.add_argument("--out", default=str(Path(__file__).parent / "results" / "pretrain_throughput.json"))
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.device.startswith("cuda"):
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = str(mini.assemble(Path(tmp) / "mini"))
        runs = [measure(model_dir, args.device, b, w, mp, c, args.seconds, args.warmup_steps, args.scene_loss)
                for b in args.batch_size for w in args.data_workers for mp in args.mixed_precision
                for c in ((False, True) if args.compile else (False,))]
    best = max(runs, key=lambda r: r["examples_per_s"])
    device_name = torch.cuda.get_device_name() if args.device.startswith("cuda") else "cpu"
    return write_record(args.out, "pretrain_throughput.py", argv, device=device_name, threads=args.threads,
                        runs=runs, best_examples_per_s=best["examples_per_s"], target_examples_per_s=20000)


if __name__ == "__main__":
    main()
