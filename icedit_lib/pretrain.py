"""Pretrain the whole miniature from scratch with one command: time-boxed, resumable.

    python -m icedit_lib.pretrain --all --out-dir DIR --minutes 9 --device cuda      # a GPU, one call
    python -m icedit_lib.pretrain --all --out-dir DIR --minutes 600 --threads 2      # the CPU, across sessions

Stages, in order, each its own module with its own resumable state under DIR/work/<stage>:

1. `text`: language before images (`pretrain_text`): the CLIP and T5 encoders learn, on text
   alone, which object each word belongs to.
2. `vae`: the AutoencoderKL (`train_vae`).
3. `t2i`: a FLUX text-to-image transformer on the frozen encoders (`pretrain_flux --stage t2i
   --pretrained-text`).
4. `fill`: the Fill transformer widened from it, on inpainting (`pretrain_flux --stage fill
   --scene-loss 0.02`: the scene read-out that made base v3's Fill learn faster).

Each stage gets a share of `--minutes` (`--shares`) and fits its learning-rate schedule to that
share (`schedule.StepBudget`: it times its first steps, then fixes its length). A stage that has
finished is recorded in DIR/pretrain_progress.json and skipped; one that was killed resumes from
its state. So the same command, run again, continues where it stopped: on the CPU the box spans
several sessions. The folder is a diffusers miniature (`mini` layout) that the registry, the
editor and the evaluations read like the shipped one; each stage writes its own record
(`training_text.json`, `vae/training.json`, `training_t2i.json`, `training_fill.json`) with its
evaluation.

The recipes per device (`RECIPES`) differ only in batch size, learning rate and the GPU's data
workers: the GPU's large batches want a lower peak (measured on an H200 in issue 28's probes: T2I
5e-4, Fill 3e-4 at batch 256).
"""
from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

from .checkpoints import atomic_write_text
from .devices import pick_device

STAGES = ("text", "vae", "t2i", "fill")
DEFAULT_SHARES = {"text": 0.08, "vae": 0.17, "t2i": 0.35, "fill": 0.40}
# Per device: the arguments of each stage beyond the time box. "most" caps the fitted length.
RECIPES = {
    "cpu": {"text": ["--batch-size", "128", "--lr", "2e-3", "--steps", "100000"],
            "vae": ["--batch-size", "8", "--lr", "1e-3", "--steps", "1000000"],
            "t2i": ["--batch-size", "16", "--lr", "1e-3", "--steps", "1000000"],
            "fill": ["--batch-size", "16", "--lr", "1e-3", "--steps", "1000000", "--p-identical", "0.2",
                     "--scene-loss", "0.02"]},
    "cuda": {"text": ["--batch-size", "256", "--lr", "2e-3", "--steps", "100000", "--data-workers", "8"],
             "vae": ["--batch-size", "64", "--lr", "1e-3", "--steps", "1000000"],
             "t2i": ["--batch-size", "256", "--lr", "5e-4", "--steps", "1000000"],
             "fill": ["--batch-size", "256", "--lr", "3e-4", "--steps", "1000000", "--p-identical", "0.2",
                      "--scene-loss", "0.02"]},
}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--all", action="store_true", help="every stage in order (the default when --stages is not given)")
    p.add_argument("--stages", default=",".join(STAGES), help=f"a comma-separated subset of {','.join(STAGES)}")
    p.add_argument("--out-dir", required=True, help="the miniature folder (diffusers layout) and its work/ states")
    p.add_argument("--minutes", type=float, required=True, help="the time box for all the stages together")
    p.add_argument("--shares", default=",".join(f"{s}={v}" for s, v in DEFAULT_SHARES.items()),
                   help="each stage's share of --minutes, e.g. text=0.1,vae=0.2,t2i=0.3,fill=0.4")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda")
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--eval-n", type=int, default=64, help="held-out scenes / pairs in each stage's evaluation")
    p.add_argument("--extra", action="append", default=[], metavar="STAGE:ARGS",
                   help="more arguments for one stage, e.g. 't2i:--eval-every 1000' (repeatable)")
    args = p.parse_args(argv)
    args.stages = [s for s in args.stages.split(",") if s]
    unknown = set(args.stages) - set(STAGES)
    if unknown:
        p.error(f"--stages: unknown stage(s) {sorted(unknown)}; choose from {list(STAGES)}")
    try:
        args.shares = {k: float(v) for k, v in (item.split("=") for item in args.shares.split(","))}
    except ValueError:
        p.error("--shares: stage=fraction pairs, comma-separated")
    if set(args.shares) != set(STAGES) or min(args.shares.values()) < 0:
        p.error(f"--shares: one non-negative share for each of {list(STAGES)}")
    args.device = pick_device(args.device)
    return args


def stage_argv(stage: str, args, out: Path, minutes: float) -> list[str]:
    """The command-line arguments of one stage's own module."""
    work = out / "work" / stage
    common = ["--budget-minutes", f"{minutes:.3f}", "--work-dir", str(work)] + (
        ["--threads", str(args.threads)] if args.threads else [])
    recipe = RECIPES["cuda" if args.device.startswith("cuda") else "cpu"][stage]
    extra = [a for item in args.extra if item.startswith(stage + ":") for a in item.split(":", 1)[1].split()]
    device = ["--device", args.device]
    if stage == "text":
        return ["--out-dir", str(out)] + common + device + recipe + extra
    if stage == "vae":
        return ["--output-dir", str(out / "vae"), "--eval-every", "100000000"] + common + device + recipe + extra
    return (["--stage", stage, "--model-dir", str(out), "--eval-every", "100000000", "--eval-n", str(args.eval_n)] +
            (["--pretrained-text"] if stage == "t2i" else []) + common + device + recipe + extra)


def run_stage(stage: str, argv: list[str]) -> dict:
    from . import pretrain_flux, pretrain_text, train_vae

    module = {"text": pretrain_text, "vae": train_vae, "t2i": pretrain_flux, "fill": pretrain_flux}[stage]
    return module.main(argv)


def assemble_folder(out: Path) -> None:
    """A fresh miniature folder (untrained parts), so every stage can read and write its part."""
    from .miniature import assemble

    if not (out / "model_index.json").exists():
        tmp = out.with_name(out.name + ".assembling")
        shutil.rmtree(tmp, ignore_errors=True)
        assemble(tmp)
        out.mkdir(parents=True, exist_ok=True)
        for part in tmp.iterdir():
            if not (out / part.name).exists():
                shutil.move(str(part), str(out / part.name))
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv=None) -> dict:
    args = parse_args(argv)
    out = Path(args.out_dir)
    assemble_folder(out)
    progress_path = out / "pretrain_progress.json"
    progress = json.loads(progress_path.read_text()) if progress_path.exists() else {"stages": {}}
    total = sum(args.shares[s] for s in args.stages) or 1.0
    for stage in args.stages:
        if stage in progress["stages"]:
            print(f"pretrain: {stage} finished earlier ({progress['stages'][stage]['wall_s']:.0f} s); skipped")
            continue
        minutes = args.minutes * args.shares[stage] / total
        argv_stage = stage_argv(stage, args, out, minutes)
        print(f"pretrain: {stage}, {minutes:.1f} min: python -m icedit_lib.{_module(stage)} {' '.join(argv_stage)}")
        t0 = time.time()
        record = run_stage(stage, argv_stage)
        progress["stages"][stage] = {"wall_s": round(time.time() - t0, 1), "minutes_budget": round(minutes, 3),
                                     "argv": argv_stage, "evaluation": _evaluation(record)}
        atomic_write_text(progress_path, json.dumps(progress, indent=2))
    progress["command"] = "python -m icedit_lib.pretrain " + " ".join(argv if argv is not None else [])
    atomic_write_text(progress_path, json.dumps(progress, indent=2))
    return progress


def _module(stage: str) -> str:
    return {"text": "pretrain_text", "vae": "train_vae", "t2i": "pretrain_flux", "fill": "pretrain_flux"}[stage]


def _evaluation(record: dict) -> dict:
    return record.get("evaluation") or record.get("probe") or {}


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
