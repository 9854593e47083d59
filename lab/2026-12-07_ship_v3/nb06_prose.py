"""Notebook 06's "How to read it", rewritten against base v3's fine-tuning table (session 42): markdown only."""
import json

p = "notebooks/06_lora_moe.ipynb"
nb = json.load(open(p))
cell = nb["cells"][21]
assert cell["cell_type"] == "markdown" and "".join(cell["source"]).startswith("How to read it.")
text = """How to read it. Each ablation differs from its reference in one choice and is compared edit by edit; one, two or
three edits either way are noise at this suite size, and a training run itself moves a score by a couple of
points (the same LoRA-MoE recipe trained twice, `lab/2026-11-30_fine_tuning_recipes`). After fine-tuning, the
IC prompt and the bare instruction end within noise of each other on this base and level in what is kept: an
adapter trained with either wording learns to read it (the paper's ablation of the IC prompt is of the
training-free setting, section 3.1). LoRA-MoE against LoRA shows no reliable ordering at this scale (the routing
section above shows why), so the `--adapter default` of the miniature base is plain LoRA, fused into the weights:
fewer parameters and a faster edit. What the adapters add is the edit itself: they complete far more edits than
the base alone and keep the source about as well (`paired.md`: LoRA's interval on the kept pixels includes 0). On
this base even the 1000-step ablations edit far more often than the base alone, and the 12000-step adapters more
often still, so compare each ablation with its reference, not with the first rows. With every adapter near the
top, 64 edits separate the ablations little: a larger suite (`--n 256`) would sharpen each comparison; the command
above regenerates the table."""
lines = text.split("\n")
cell["source"] = [line + "\n" for line in lines[:-1]] + [lines[-1]]
with open(p, "w") as f:
    json.dump(nb, f, indent=1, ensure_ascii=False)
    f.write("\n")
