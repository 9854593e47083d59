"""Assemble base v2.1 (issue 28): base v2 (`data/models/mini` as shipped in session 25) with its Fill continued.

    python lab/2026-12-05_base_v2_1/assemble.py --fill-from checkpoints/fill_v3 --out data/models/mini \
        --fill-note "..."

Only the Fill transformer and its record change; the text encoders, the VAE and the T2I are base v2's. The Fill
card keeps base v2's account of the first 20000 steps and adds the continuation's command, rendered from its
record by `config.command_line` (the folder names replaced by DIR).
"""
import argparse
import dataclasses
import json
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from icedit_lib.config import command_line  # noqa: E402
from icedit_lib.model_card import write_card  # noqa: E402
from icedit_lib.pretrain_flux import PretrainConfig  # noqa: E402


def continuation_command(args: dict) -> str:
    names = {f.name for f in dataclasses.fields(PretrainConfig)}
    kept = {k: v for k, v in args.items() if k in names}
    kept.update(model_dir="DIR", work_dir=None, eval_every=PretrainConfig.eval_every,
                export_every=PretrainConfig.export_every)
    return command_line("icedit_lib.pretrain_flux", PretrainConfig(**kept)).replace(" --work-dir checkpoints/fill", "")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--fill-from", required=True, help="the folder the continued Fill exported into")
    p.add_argument("--base", default=str(ROOT / "data" / "models" / "mini"), help="base v2's folder")
    p.add_argument("--out", required=True)
    p.add_argument("--fill-note", required=True, help="the Fill card's note (its evaluations and history)")
    args = p.parse_args(argv)
    src, base, out = Path(args.fill_from), Path(args.base), Path(args.out)
    old = json.loads((base / "training_fill.json").read_text())
    new = json.loads((src / "training_fill.json").read_text())
    assert new["args"]["continue_from_export"] and new["step"] > old["step"], "not a continuation of base v2's Fill"
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=".assemble-"))
    shutil.rmtree(tmp)
    shutil.copytree(base, tmp)
    shutil.rmtree(tmp / "transformer")
    shutil.copytree(src / "transformer", tmp / "transformer")
    card = dict(old["card"])
    card["data"] += (f"; then from its {old['step']}-step export every step a right-half-masked diptych (80% one "
                     f"change), a fresh AdamW at {new['args']['lr']:g} (500-step warm-up, cosine to step "
                     f"{new['args']['steps']})")
    card["commands"] += f"; then `{continuation_command(new['args'])}`"
    card["note"] = args.fill_note
    new["card"] = card
    new["continued_from"] = {k: old[k] for k in ("step", "wall_s", "threads", "evaluation")}
    (tmp / "training_fill.json").write_text(json.dumps(new, indent=1) + "\n")
    write_card(tmp)
    if out.exists():
        shutil.rmtree(out)
    tmp.rename(out)
    print(out)


if __name__ == "__main__":
    main()
