#!/bin/bash
# After the arm's last step: its 256-pair evaluation against the shipped Fill, and what its failures draw.
# Waits for the training process to exit with its 40000-step export written, then uses both cores:
#   nohup lab/2026-12-06_base_v3/after_arm.sh > checkpoints/after_arm.log 2>&1 &
# Leaves: lab/2026-12-06_base_v3/eval_v3s_40000_256/metrics.json and
# lab/2026-12-06_fill_failures/failures_eval_v3s_40000_256.json; then write card_notes/fill.md and run ship_v3.sh.
set -euo pipefail
cd /work/main
while pgrep -f "work-dir checkpoints/fill_v3s_work" > /dev/null; do sleep 30; done
step=$(python3 -c "import json; print(json.load(open('checkpoints/fill_v3s/training_fill.json'))['step'])")
[ "$step" -eq 40000 ] || { echo "the arm stopped at $step, not 40000: resume it first"; exit 1; }
echo "== $(date +%T) 256-pair evaluation"
OMP_NUM_THREADS=2 .venv/bin/icedit eval-pretrained --part fill --base checkpoints/fill_v3s --n 256 \
  --out-dir checkpoints/eval_v3s_40000_256 --paired-with lab/2026-12-05_fill_named/plain_60000_256
mkdir -p lab/2026-12-06_base_v3/eval_v3s_40000_256
cp checkpoints/eval_v3s_40000_256/metrics.json lab/2026-12-06_base_v3/eval_v3s_40000_256/
echo "== $(date +%T) failures"
OMP_NUM_THREADS=2 .venv/bin/python lab/2026-12-06_fill_failures/classify.py checkpoints/eval_v3s_40000_256
echo "== $(date +%T) done"
