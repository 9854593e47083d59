"""Average the Fill transformers of model folders continued from one export with different data seeds.

A weight average of runs fine-tuned from one starting point (Wortsman et al. 2022, "model soups") lands in the
same basin and often beats each run; here it would let the 2-core machine train the Fill on both cores at once,
two seeds in parallel, instead of one chain and an idle core. Writes OUT as a copy of the first folder with the
averaged `transformer/` (safetensors in, safetensors out).

    python lab/2026-12-06_fill_seeds/average_fills.py checkpoints/fill_v11 checkpoints/fill_v11b --out DIR
"""
import argparse
import shutil
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

WEIGHTS = "transformer/diffusion_pytorch_model.safetensors"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("folders", nargs="+")
    p.add_argument("--out", required=True)
    a = p.parse_args()
    states = [load_file(str(Path(f) / WEIGHTS)) for f in a.folders]
    assert all(s.keys() == states[0].keys() for s in states), "the folders hold different architectures"
    mean = {k: torch.stack([s[k].float() for s in states]).mean(0).to(states[0][k].dtype) for k in states[0]}
    out = Path(a.out)
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(a.folders[0], out)
    save_file(mean, str(out / WEIGHTS), metadata={"format": "pt"})
    print(f"{out}: the mean of {len(states)} Fill transformers ({', '.join(a.folders)})")


if __name__ == "__main__":
    main()
