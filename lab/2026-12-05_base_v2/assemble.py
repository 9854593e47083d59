"""Assemble the miniature base, version 2 (issue 28), from its stages' exports, and write its model card.

    python lab/2026-12-05_base_v2/assemble.py --fill-from checkpoints/fill_text --out data/models/mini

The stages ran separately across sessions 22-24 (see `lab/2026-12-04_language_before_images`):
- text: `pretrain_text` (width 64, 2 layers, 3000 steps); its encoders, tokenizers and record are in
  `lab/2026-12-04_language_before_images/base_in_progress`.
- vae: the shipped VAE, unchanged (its record travels with it).
- t2i: `pretrain_flux --stage t2i` on the frozen text encoders, 20000 steps (same folder of lab).
- fill: `pretrain_flux --stage fill` widened from the T2I at its 12000-step export, 20000 steps (--fill-from:
  the folder the Fill run exported into, which holds every part in the diffusers layout).

The card entries below (what, data, commands, note) are the records' hand-written account, as for the first base;
the numbers the card prints come from the records' evaluations.
"""
import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from icedit_lib.model_card import write_card  # noqa: E402

PARTS = ROOT / "lab" / "2026-12-04_language_before_images" / "base_in_progress"
OLD_BASE = "the first base (git history of data/models/mini before session 24)"

CARDS = {
    "training_text.json": {
        "what": "CLIPTextModel and T5EncoderModel (2 layers, width 64 each), pretrained on text alone, frozen since",
        "data": "synthetic English about ShapesWorld (`language.random_text`): scene and diptych captions and edit "
                "instructions in many phrasings (verb synonyms, polite wrappers, questions, capitals, punctuation); "
                "tokenizers that lower-case and split punctuation off, a word-level vocabulary of ordinary English. "
                "Linear heads read from every T5 token its word's object (cell, shape, colour, size, role) and the "
                "text's requested change, background and style, and from CLIP's pooled vector the whole text and "
                "every cell of a described scene; batch 128, AdamW 2e-3, cosine; the heads are thrown away",
        "commands": "`python -m icedit_lib.pretrain_text --out-dir DIR --steps 3000 --threads 1` (the evaluation: "
                    "`python -m icedit_lib.pretrain_text --probe-only DIR`)",
        "note": "The stand-in for T5's and CLIP's language pretraining (issue 28, `lab/2026-12-04_language_before_"
                "images/language_probe`). The evaluation is a fresh linear probe on frozen embeddings of held-out "
                "texts about held-out scenes; the first base's encoders, trained jointly with its T2I model, "
                "scored near chance on the same binding probe (`shipped.json` there). The size probe is the "
                "weakest: the words small, medium and large bind to the right object less often than colours and "
                "shapes do. The T2I model trained on these encoders reached its targets, so the encoders were "
                "not retrained (that would restart every image stage).",
    },
    "training_t2i.json": {
        "what": "FluxTransformer2DModel T2I (64 in / 64 out, 2 double + 4 single blocks, width 128) on the frozen "
                "language-pretrained encoders",
        "data": "described panels and described diptychs (identical or one change; no imperatives), rectified "
                "flow, logit-normal shifted t, batch 16, AdamW 1e-3 (500-step warm-up, cosine), EMA 0.999",
        "commands": "a folder made by `python -m icedit_lib.miniature --out-dir DIR --vae data/models/mini/vae` with "
                    "the text stage's encoders and tokenizers copied in, then `python -m icedit_lib.pretrain_flux "
                    "--stage t2i --pretrained-text --model-dir DIR --steps 20000 --batch-size 16 --lr 1e-3 "
                    "--export-every 1000 --threads 1 --compile` (the shipped run stopped at 7000 for a session's "
                    "end and went on from its export with `--freeze-text-encoders --continue-from-export`, a fresh "
                    "optimizer re-warmed onto the same cosine); resumable after a kill",
        "note": "The learning curve against the first base's recipe (encoders trained jointly with the images, the "
                "same transformer, data and schedule) is in `lab/2026-12-04_language_before_images/t2i_curve` and "
                "notebook 02: with the language-pretrained encoders the transformer places every object in the "
                "right cell from about 48K examples on and binds colours and shapes to them, where the joint "
                "recipe's did not. On 256 held-out scenes (`eval_20000_256_scenes.json` there) the exact share "
                "and the four-object share are both above this card's 64-scene figures.",
    },
    "training_fill.json": {
        "what": "FluxTransformer2DModel Fill (192 in / 64 out), widened from the T2I model",
        "data": "inpainting on the frozen text encoders: right-half masks of described diptychs (80% one change, "
                "20% identical); to step 11440 half the steps were that and the other half random rectangles on "
                "diptychs and on panels, from 11440 every step; loss on masked tokens 1.0, others 0.1; batch 16, "
                "AdamW 1e-3 (500-step warm-up, cosine), EMA 0.999",
        "commands": "the T2I's folder at its 12000-step export, then `python -m icedit_lib.pretrain_flux --stage "
                    "fill --model-dir DIR --steps 20000 --batch-size 16 --lr 1e-3 --p-identical 0.2 "
                    "--export-every 1000 --threads 2 --compile` to step 11440, then the same command with "
                    "`--fill-kinds right` (resumed from its state: the same optimizer and schedule); the shipped run "
                    "made its first 7335 steps on one thread and was resumed exactly at each session's end; "
                    "resumable after a kill",
        "note": None,  # filled by --fill-note after the run is evaluated
    },
}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--fill-from", required=True, help="the folder the Fill run exported into")
    p.add_argument("--out", required=True)
    p.add_argument("--fill-note", default="", help="the Fill card's note (its evaluations and history)")
    args = p.parse_args(argv)
    src, out = Path(args.fill_from), Path(args.out)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=".assemble-"))
    for part in ("scheduler", "text_encoder", "text_encoder_2", "tokenizer", "tokenizer_2", "transformer", "vae"):
        shutil.copytree(src / part, tmp / part)
    for f in ("icedit.json", "model_index.json", "training_fill.json"):
        shutil.copy2(src / f, tmp / f)
    shutil.copytree(PARTS / "transformer_t2i", tmp / "transformer_t2i")
    for f in ("training_text.json", "training_t2i.json"):
        shutil.copy2(PARTS / f, tmp / f)
    shutil.copy2(ROOT / "data" / "models" / "mini" / "vae" / "training.json", tmp / "vae" / "training.json")
    config = json.loads((tmp / "vae" / "config.json").read_text())
    config.pop("_name_or_path", None)
    (tmp / "vae" / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    for f, card in CARDS.items():
        rec = json.loads((tmp / f).read_text())
        card = dict(card)
        if f == "training_fill.json":
            card["note"] = args.fill_note or "Evaluated below on the card's 64 pairs."
        rec["card"] = card
        (tmp / f).write_text(json.dumps(rec, indent=1) + "\n")
    write_card(tmp)
    if out.exists():
        shutil.rmtree(out)
    tmp.rename(out)
    print(out)


if __name__ == "__main__":
    main()
