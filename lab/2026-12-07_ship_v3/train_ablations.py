"""Train some of the fine-tuning table's 1000-step ablation adapters into results/fine_tuning/adapters, so that
two processes share the work; `icedit_lib.experiments fine-tuning` then reuses them (a finished one is reused).
Session 42: the checkout came back without the ignored `results/fine_tuning/adapters` of session 41.
    OMP_NUM_THREADS=1 .venv/bin/python lab/2026-12-07_ship_v3/train_ablations.py 0 2   # every second, from 0
"""
import sys
from pathlib import Path

from icedit_lib.experiments.fine_tuning import FINE_TUNING, train_ablation

start, stride = int(sys.argv[1]), int(sys.argv[2])
ablations = [(name, options) for name, (options, *_rest) in FINE_TUNING.items() if isinstance(options, dict)]
for name, options in ablations[start::stride]:
    print("==", name, flush=True)
    train_ablation(name, options, Path("results/fine_tuning"), 1000, "mini")
