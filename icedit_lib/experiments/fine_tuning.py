"""The fine-tuning table (paper section 3.2 and its ablations): the training-free model, the shipped LoRA and
LoRA-MoE, and ablation adapters each trained `--train-steps` by `icedit_lib.train` (resumable; a finished one is
reused), all evaluated on one held-out suite and compared edit by edit with what they change one thing of."""
from __future__ import annotations

import json
from pathlib import Path

from ..checkpoints import atomic_write_text
from ..evaluation import evaluate_suite
from ..suites import PHRASINGS, make_suite
from .common import ABLATION_REFERENCE, comparison_figure, comparison_table, paired, save_figure, slug

# name -> (the ablation's `train.TrainConfig` options, or a shipped adapter's registry name; prompt mode at inference
# [; the suite's phrasing, `suites.PHRASINGS`: the spec's templates unless said])
# The shipped adapters' recipe adapts the miniature's text encoders too (`train --text-encoder-rank`,
# not in the paper: the miniature's encoders never read an instruction); the ablations follow it. The shipped
# adapters also distil the base's caption-prompted prediction (`--caption-distill`); the ablations keep the
# paper's loss, so that they measure the paper's choices.
TITLE = "Fine-tuning on the miniature"
MOE = {"adapter": "moe", "text_encoder_rank": 16}
TYPED = "LoRA-MoE 4 x r32, instructions as people type them"  # the same edits, not the templates trained on
FINE_TUNING = {
    "training-free (no adapter)": (None, "ic"),
    "LoRA r32": ("mini-lora", "ic"),
    "LoRA-MoE 4 x r32": ("mini-moe", "ic"),
    ABLATION_REFERENCE: (MOE, "ic"),
    "LoRA-MoE 4 x r32, bare instruction (trained and used)": ({**MOE, "prompt": "direct"}, "direct"),
    "LoRA-MoE 1 x r32": ({**MOE, "num_experts": 1}, "ic"),
    "LoRA-MoE 2 x r32": ({**MOE, "num_experts": 2}, "ic"),
    "LoRA-MoE 8 x r32": ({**MOE, "num_experts": 8}, "ic"),
    "LoRA-MoE 4 x r8": ({**MOE, "rank": 8, "alpha": 8.0}, "ic"),
    "LoRA-MoE 4 x r32, fixed router (authors)": ({**MOE, "router": "fixed"}, "ic"),
    "LoRA-MoE 4 x r32, loss on the right half": ({**MOE, "loss_region": "right"}, "ic"),
    TYPED: ("mini-moe", "ic", "typed"),
}


def train_ablation(name: str, options: dict, out: Path, train_steps: int, base: str) -> Path:
    """Train (or reuse) one ablation adapter; return its folder."""
    from ..train import TrainConfig, run_training

    folder = out / "adapters" / slug(name)
    done = folder / "training.json"
    if done.exists() and json.loads(done.read_text()).get("steps") == train_steps:
        return folder
    run_training(TrainConfig(**options, base=base, output_dir=str(folder), work_dir=str(out / "work" / slug(name)),
                             max_steps=train_steps, validate_every=0))
    return folder


def fine_tuning(out_dir: str | Path, n: int = 64, steps: int = 28, seed: int = 0, suite_seed: int = 4006,
                device: str = "auto", base: str = "mini", train_steps: int = 1000,
                configurations: dict | None = None) -> dict:
    """Every row of `FINE_TUNING` (or `configurations`) on one held-out suite; shipped adapters
    that are missing are trained like the ablations (`--adapter lora` / `moe`)."""
    from .. import adapters, registry
    from ..editor import ICEditor

    out = Path(out_dir)
    suites = {phrasing: make_suite(out / "suite", n=n, seed=suite_seed, phrasing=phrasing,
                                   name="suite.jsonl" if phrasing == "template" else f"suite_{phrasing}.jsonl")
              for phrasing in PHRASINGS}
    results, parameters = {}, {}
    for name, (adapter, prompt, *phrasing) in (configurations or FINE_TUNING).items():
        suite = suites[phrasing[0] if phrasing else "template"]
        if isinstance(adapter, str) and not registry.available(adapter):  # train a stand-in for the shipped one
            adapter = {**MOE, "adapter": "moe" if adapter.endswith("moe") else "lora"}
        if isinstance(adapter, dict):
            adapter = str(train_ablation(name, adapter, out, train_steps, base))
        editor = ICEditor.from_registry(base, adapter=adapter or "none", device=device, fuse_adapter=True)
        editor.pipe.set_progress_bar_config(disable=True)
        record_file = adapters.adapter_file(adapter)[1].parent / "training.json" if adapter else None
        if record_file and record_file.exists():
            rec = json.loads(record_file.read_text())
            parameters[name] = {"trainable_parameters": rec.get("trainable_parameters"), "steps": rec.get("steps")}
        results[name] = evaluate_suite(editor, suite, out / "runs" / slug(name), seed=seed, steps=steps,
                                       prompt_mode=prompt, options={"adapter": adapter, "base": base}, title=name)
    title = f"{TITLE} ({n} held-out edits, {steps} steps)"
    table = comparison_table(results, title)
    table += "\n| configuration | trainable parameters | training steps |\n|---|---|---|\n" + "".join(
        f"| {k} | {v['trainable_parameters']:,} | {v['steps']} |\n" for k, v in parameters.items())
    record = {"experiment": "fine-tuning", "n": n, "steps": steps, "suite_seed": suite_seed, "train_steps": train_steps,
              "command": f"python -m icedit_lib.experiments fine-tuning --out-dir {out_dir} --n {n} --steps {steps} "
                         f"--train-steps {train_steps}",
              "parameters": parameters, "summaries": {k: v["summary"] for k, v in results.items()}}
    atomic_write_text(out / "results.json", json.dumps(record, indent=2))
    atomic_write_text(out / "table.md", table)
    save_figure(comparison_figure(results, title), out / "figure.png")
    paired(out, "fine-tuning")
    return record
