#!/usr/bin/env bash
# Session 42: base v3's ship finished from a checkout without `checkpoints/`, `.venv` or the ablation adapters.
# Two lanes train the eight ablations; then the fine-tuning table (reusing them), the metric agreement, notebooks
# 05-08, every notebook's stamp, the README.
#   nohup lab/2026-12-07_ship_v3/lanes.sh > checkpoints/lanes.log 2>&1 &
set -euo pipefail
cd /work/main
export OMP_NUM_THREADS=1
py=.venv/bin/python
echo "== $(date +%T) ablations"
$py lab/2026-12-07_ship_v3/train_ablations.py 0 2 > checkpoints/ablations_0.log 2>&1 &
$py lab/2026-12-07_ship_v3/train_ablations.py 1 2 > checkpoints/ablations_1.log 2>&1 &
wait
echo "== $(date +%T) fine-tuning table"
$py -m icedit_lib.experiments fine-tuning --out-dir results/fine_tuning --n 64 --steps 28 --train-steps 1000
echo "== $(date +%T) metric agreement"
$py -m icedit_lib.metric_agreement --clip data/models/mini_clip --out-dir results/metric_agreement
echo "== $(date +%T) notebooks 05 06 08"
.venv/bin/jupyter nbconvert --to notebook --execute --inplace --ExecutePreprocessor.timeout=1800 \
  notebooks/05_*.ipynb notebooks/06_*.ipynb notebooks/08_*.ipynb
$py -m icedit_lib.notebook notebooks/*.ipynb
$py -m icedit_lib.report --write README.md
echo "== $(date +%T) shipped"
