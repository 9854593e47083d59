#!/usr/bin/env bash
# The end of base v3's ship when `ship_fill.sh` was stopped after starting the lanes (session 41): notebooks 00-04
# need only the base, the LoRA adapter and the training-free table, so they ran beside the lanes; this waits for
# the lanes and for them, executes 05-08 (or the notebooks whose numbers are given), stamps every notebook and
# renders the README.
#   nohup lab/2026-12-06_base_v3/finish_ship.sh [NN ...] > checkpoints/finish_ship.log 2>&1 &
set -euo pipefail
cd /work/main
while pgrep -f remeasure_lanes.sh > /dev/null || pgrep -f "nbconvert.*00_welcome" > /dev/null; do sleep 20; done
grep -q "lane a done" checkpoints/lane_a.log && grep -q "lane b done" checkpoints/lane_b.log \
  || { echo "a lane did not finish: resume lab/2026-12-05_fill_v2_3/remeasure_lanes.sh first"; exit 1; }
numbers=("${@:-05 06 07 08}"); numbers=(${numbers[*]})
echo "== $(date +%T) notebooks ${numbers[*]}"
OMP_NUM_THREADS=1 .venv/bin/jupyter nbconvert --to notebook --execute --inplace --ExecutePreprocessor.timeout=1800 \
  $(for n in "${numbers[@]}"; do echo notebooks/${n}_*.ipynb; done)
.venv/bin/python -m icedit_lib.notebook notebooks/*.ipynb
.venv/bin/python -m icedit_lib.report --write README.md
echo "== $(date +%T) shipped; now check the prose, run .ci/run on a fresh clone, commit"
