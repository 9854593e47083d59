"""The training-free table (paper section 3.1 and its prompt ablation): {T2I inversion, inpainting} x {IC prompt,
bare instruction} on a held-out ShapesWorld suite, and the inpainting base told each change in its pretraining
captions' words (a reference row)."""
from __future__ import annotations

import json
from pathlib import Path

from ..checkpoints import atomic_write_text
from ..diptych import FILL_GUIDANCE, T2I_GUIDANCE
from ..evaluation import evaluate_suite
from ..suites import make_suite
from .common import REFERENCE_ROW, comparison_figure, comparison_table, paired, run_folder, save_figure

TITLE = "Training-free editing on the miniature"
FRAMEWORKS = {"inversion": ("mini-t2i", T2I_GUIDANCE), "inpaint": ("mini", FILL_GUIDANCE)}


def training_free(out_dir: str | Path, n: int = 64, steps: int = 28, seed: int = 0, suite_seed: int = 4004,
                  device: str = "auto") -> dict:
    """{inversion, inpainting} x {IC prompt, bare instruction}, no adapter; and the inpainting framework
    prompted with the pretraining corpus's descriptive caption of each change (a reference row)."""
    from ..editor import ICEditor
    from ..inversion import InversionEditor

    out = Path(out_dir)
    suite = make_suite(out / "suite", n=n, seed=suite_seed)
    results = {}
    for framework, (base, guidance) in FRAMEWORKS.items():
        cls = InversionEditor if framework == "inversion" else ICEditor
        editor = cls.from_registry(base, device=device)
        for prompt in ("ic", "direct"):
            name = f"{framework} + {'IC prompt' if prompt == 'ic' else 'bare instruction'}"
            results[name] = evaluate_suite(editor, suite, run_folder(out, "training-free", name), seed=seed,
                                           steps=steps, guidance=guidance, prompt_mode=prompt,
                                           options={"framework": framework, "base": base}, title=name)
    # Reference row: the same changes in the pretraining corpus's descriptive language. The miniature's
    # frozen T5 / CLIP learned words from captions only, so the instruction verbs ("remove", "make", ...)
    # keep their random initial embeddings; this row shows what the Fill base does when it is spoken to
    # in words it knows.
    name = REFERENCE_ROW
    base, guidance = FRAMEWORKS["inpaint"]
    editor = ICEditor.from_registry(base, device=device)
    results[name] = evaluate_suite(editor, suite, run_folder(out, "training-free", name), seed=seed, steps=steps,
                                   guidance=guidance, prompt_mode="direct", text_field="caption",
                                   options={"framework": "inpaint", "base": base}, title=name)
    title = f"{TITLE} ({n} held-out edits, {steps} steps)"
    record = {"experiment": "training-free", "n": n, "steps": steps, "suite_seed": suite_seed,
              "command": f"python -m icedit_lib.experiments training-free --out-dir {out_dir} --n {n} --steps {steps}",
              "summaries": {k: v["summary"] for k, v in results.items()}}
    atomic_write_text(out / "results.json", json.dumps(record, indent=2))
    atomic_write_text(out / "table.md", comparison_table(results, title))
    save_figure(comparison_figure(results, title), out / "figure.png")
    paired(out, "training-free")
    return record
