"""The sentences that name which base ships, rewritten for base v3 (run by `ship_v3.sh` before the notebooks are
re-executed). Each replacement is exact; one already made is skipped, one whose old text is gone is an error, so a
ship never runs on prose that nobody looked at. The rest of the prose check (numbers' direction against the new
tables) is a person's, after the ship.
"""
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NB02 = "notebooks/02_flux_in_miniature.ipynb"

REPLACEMENTS = [
    (NB02,
     "The language-pretrained encoders, the ones the shipped base uses,\ncarry it, nearly always: at two layers the "
     "weakest reading",
     "The language-pretrained encoders carry it, nearly always: at\ntwo layers (the previous base's) the weakest "
     "reading"),
    (NB02,
     "depth is what the probe asked\nfor, and `pretrain_text` now builds four layers. The shipped image models were "
     "trained on the two-layer\nencoders, so they keep them until the base is rebuilt from scratch.",
     "depth is what the probe asked\nfor, `pretrain_text` builds four layers, and the shipped base was rebuilt on "
     "them from scratch, every image\nstage trained again."),
    (NB02,
     "the two-layer run went on to the end\nof its schedule in a later session (continued from its export), and the "
     "shipped base's text-to-image model is that\nrun's last export (section 8 prints its record; the README quotes "
     "its share of exact scenes). The four-layer run is\nthe next base's.",
     "the two-layer run, the previous base's\ntext-to-image model, went on to the end of its schedule in a later "
     "session (continued from its export); the\nfour-layer run's last export is the shipped base's text-to-image "
     "model (section 8 prints its record; the README\nquotes its share of exact scenes)."),
    (NB02,
     "The shipped Fill's curve is a chain of runs, each continued from the\nlast one's export (its record in section "
     "8 lists them); the next base's Fill, on the four-layer encoders and the\ntext-to-image model above, trains a "
     "session at a time on the CPU, and its curve grows with it.",
     "The previous base's Fill, on the two-layer encoders, was a chain of\nruns, each continued from the last one's "
     "export; the shipped Fill, on the four-layer encoders and the text-to-image\nmodel above, is one run of one "
     "schedule (section 8 prints its record)."),
    (NB02,
     "which edit types does the next base's Fill complete more often than the shipped chain",
     "which edit types does the shipped Fill complete more often than the previous base's chain"),
    ("icedit_lib/miniature.py",
     "- T5-XXL (4096) -> a 2-layer T5 of width 64; CLIP-L pooled (768) -> a 2-layer CLIP of width 64.",
     "- T5-XXL (24 layers, 4096) -> a T5 of width 64; CLIP-L pooled (768) -> a CLIP of width 64; four layers each\n"
     "  in the shipped base (`pretrain_text`'s depth), two in `build_text_encoders`' default for tests."),
]


def rewrite(text: str, old: str, new: str, where: str) -> str:
    if new in text and old not in text:
        return text
    assert text.count(old) == 1, f"{where}: expected the old sentence once, found {text.count(old)}: {old[:60]!r}"
    return text.replace(old, new)


def main(root: Path = ROOT) -> None:
    for rel in sorted({rel for rel, _, _ in REPLACEMENTS}):
        path = root / rel
        wanted = [(old, new) for target, old, new in REPLACEMENTS if target == rel]
        if rel.endswith(".ipynb"):
            nb = json.loads(path.read_text())
            markdown = [cell for cell in nb["cells"] if cell["cell_type"] == "markdown"]
            for cell in markdown:
                text = "".join(cell["source"])
                for old, new in wanted:
                    if old in text:
                        text = rewrite(text, old, new, rel)
                cell["source"] = text.splitlines(True)
            prose = "\n".join("".join(cell["source"]) for cell in markdown)
            missing = [old[:60] for old, new in wanted if new not in prose]
            assert not missing, f"{rel}: old sentences not found: {missing}"
            path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
        else:
            text = path.read_text()
            for old, new in wanted:
                text = rewrite(text, old, new, rel)
            path.write_text(text)
        print("rewritten:", rel)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT)
