"""Assemble base v3 (issue 28) from its parts: the four-layer encoders, the T2I at 20000 steps, the v3 Fill.

    python lab/2026-12-06_base_v3/assemble_v3.py --fill-from checkpoints/fill_v3 --out data/models/mini \
        --notes-dir NOTES

The Fill's folder (`widen_at_12000.sh`) holds everything but the finished T2I: the encoders, tokenizers and VAE it
was widened with, and the T2I at its 12000-step export. The T2I is replaced by its 20000-step export
(`t2i_export_20000/`), and each part's record gets the `card` entry the model card renders (`model_card`): what it
is, its data, the commands that remake it from scratch, and a note read from NOTES/{text,t2i,fill}.md (the
measurements of the ship session). The parts are checked against each other before anything is written, and the
output folder is replaced atomically (a sibling folder renamed over it).
"""
import argparse
import hashlib
import json
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
from icedit_lib.model_card import write_card  # noqa: E402

ENCODERS = ROOT / "lab" / "2026-12-06_text_binding" / "encoders_layers4"
T2I = HERE / "t2i_export_20000"
SHIPPED = ROOT / "data" / "models" / "mini"
TEXT_PARTS = ("text_encoder", "text_encoder_2", "tokenizer", "tokenizer_2")

T2I_FOLDER = ("a folder made by `python -m icedit_lib.miniature --out-dir DIR --vae data/models/mini/vae` with the "
              "text stage's encoders and tokenizers copied in")


def digest(folder: Path) -> str:
    """One hash over a folder's files (names and bytes), to check that two parts share a component."""
    h = hashlib.sha256()
    for f in sorted(p for p in folder.rglob("*") if p.is_file()):
        h.update(str(f.relative_to(folder)).encode())
        h.update(f.read_bytes())
    return h.hexdigest()


def check_parts(fill_dir: Path) -> None:
    """The Fill was widened with these encoders, this VAE, and this T2I run's 12000-step export."""
    for part in TEXT_PARTS:
        assert digest(fill_dir / part) == digest(ENCODERS / part), f"{part}: not the four-layer encoders"
    assert digest(fill_dir / "vae") == digest(SHIPPED / "vae"), "vae: not the shipped VAE"
    widened = json.loads((fill_dir / "training_t2i.json").read_text())
    finished = json.loads((T2I / "training_t2i.json").read_text())
    assert widened["step"] == 12000 and finished["step"] == finished["args"]["steps"] == 20000
    assert widened["args"]["work_dir"] == finished["args"]["work_dir"], "the Fill was widened from another T2I run"
    fill = json.loads((fill_dir / "training_fill.json").read_text())
    assert fill["args"]["fill_kinds"] == "right" and "evaluation" in fill


def cards(fill_dir: Path, notes: Path) -> dict[str, dict]:
    """The `card` entry of each record: the shipped base's wording where the recipe is the same."""
    shipped = {name: json.loads((SHIPPED / f"training_{name}.json").read_text())["card"]
               for name in ("text", "t2i")}
    fill = json.loads((fill_dir / "training_fill.json").read_text())["args"]
    text = json.loads((ENCODERS / "training_text.json").read_text())["args"]
    return {
        "text": {"what": shipped["text"]["what"].replace("(2 layers", f"({text['layers']} layers"),
                 "data": shipped["text"]["data"],
                 "commands": f"`python -m icedit_lib.pretrain_text --out-dir DIR --steps {text['steps']} --layers "
                             f"{text['layers']} --threads 1` (the evaluation: `python -m icedit_lib.pretrain_text "
                             "--probe-only DIR`)",
                 "note": (notes / "text.md").read_text().strip()},
        "t2i": {"what": shipped["t2i"]["what"], "data": shipped["t2i"]["data"],
                "commands": f"{T2I_FOLDER}, then `python -m icedit_lib.pretrain_flux --stage t2i --pretrained-text "
                            "--model-dir DIR --steps 20000 --batch-size 16 --lr 1e-3 --export-every 1000 --threads 1 "
                            "--compile`; resumable after a kill (the same command)",
                "note": (notes / "t2i.md").read_text().strip()},
        "fill": {"what": "FluxTransformer2DModel Fill (192 in / 64 out), widened from the T2I model at its "
                         "12000-step export",
                 "data": f"inpainting on the frozen text encoders, every step a right-half mask of a described "
                         f"diptych ({1 - fill['p_identical']:.0%} one change, {fill['p_identical']:.0%} identical); "
                         f"loss on masked tokens 1.0, others {fill['unmasked_weight']:g}; batch {fill['batch_size']}, "
                         f"AdamW {fill['lr']:g} ({fill['warmup']}-step warm-up, cosine), EMA {fill['ema']:g}"
                         + (f"; scene read-out weight {fill['scene_loss']:g}" if fill["scene_loss"] else ""),
                 "commands": f"the T2I's folder at its 12000-step export (the T2I command with `--stop-at 12000`, "
                             f"or a copy of its folder when its export reaches step 12000), then `python -m "
                             f"icedit_lib.pretrain_flux --stage fill --model-dir DIR --steps {fill['steps']} "
                             f"--batch-size {fill['batch_size']} --lr {fill['lr']:g} --p-identical "
                             f"{fill['p_identical']:g} --fill-kinds right"
                             + (f" --scene-loss {fill['scene_loss']:g}" if fill["scene_loss"] else "")
                             + " --export-every 1000 --threads 1 --compile`; resumable after a kill",
                 "note": (notes / "fill.md").read_text().strip()},
    }


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--fill-from", required=True, help="the v3 Fill's model folder (widened at the T2I's 12000)")
    p.add_argument("--out", required=True)
    p.add_argument("--notes-dir", required=True, help="text.md, t2i.md, fill.md: each part's card note")
    args = p.parse_args(argv)
    src, out, notes = Path(args.fill_from), Path(args.out), Path(args.notes_dir)
    check_parts(src)
    entries = cards(src, notes)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=".assemble-"))
    shutil.rmtree(tmp)
    shutil.copytree(src, tmp)
    shutil.rmtree(tmp / "transformer_t2i")
    shutil.copytree(T2I / "transformer_t2i", tmp / "transformer_t2i")
    shutil.copy(ENCODERS / "training_text.json", tmp / "training_text.json")
    shutil.copy(T2I / "training_t2i.json", tmp / "training_t2i.json")
    for name, card in entries.items():
        path = tmp / f"training_{name}.json"
        record = json.loads(path.read_text())
        record["card"] = card
        path.write_text(json.dumps(record, indent=1) + "\n")
    write_card(tmp)
    old = out.with_name(out.name + ".replaced")
    shutil.rmtree(old, ignore_errors=True)
    if out.exists():
        out.rename(old)
    tmp.rename(out)
    shutil.rmtree(old, ignore_errors=True)
    print(f"assembled {out}: text {json.loads((out / 'training_text.json').read_text())['step']} steps, "
          f"t2i {json.loads((out / 'training_t2i.json').read_text())['step']}, "
          f"fill {json.loads((out / 'training_fill.json').read_text())['step']}")


if __name__ == "__main__":
    main()
