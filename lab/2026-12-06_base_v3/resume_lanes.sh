#!/usr/bin/env bash
# Base v3's re-measurement resumed after a stop (session 41 stopped inside it): `remeasure_lanes.sh`'s commands
# from the judge and the fine-tuning table on; the 12000-step adapters and the training-free table were finished
# (04:25-04:37) and are not run again. Each command resumes from its states. Then `finish_ship.sh`, given the
# numbers of the notebooks still to execute (default 05-08).
#   nohup lab/2026-12-06_base_v3/resume_lanes.sh [NN ...] > checkpoints/resume_lanes.log 2>&1 &
set -euo pipefail
cd /work/main
run() { echo "== $(date +%T) $*"; OMP_NUM_THREADS=1 .venv/bin/python -m "$@"; }
lane_a() {
  run icedit_lib.train_judge --base mini --adapter none --output-dir data/models/mini_judge --threads 1
  touch checkpoints/lane_judge.done
  run icedit_lib.experiments scaling --out-dir results/scaling_moe --adapter mini-moe --judge mini-judge
  run icedit_lib.experiments moe-routing --out-dir results/moe_routing
  echo "== $(date +%T) lane a done"
}
lane_b() {
  run icedit_lib.experiments fine-tuning --out-dir results/fine_tuning --n 64 --steps 28 --train-steps 1000
  run icedit_lib.metric_agreement --clip data/models/mini_clip --out-dir results/metric_agreement
  while [ ! -f checkpoints/lane_judge.done ]; do sleep 30; done
  run icedit_lib.experiments scaling --out-dir results/scaling_training_free --adapter none --judge mini-judge
  echo "== $(date +%T) lane b done"
}
rm -f checkpoints/lane_judge.done
lane_a > checkpoints/lane_a.log 2>&1 &
lane_b > checkpoints/lane_b.log 2>&1 &
wait
exec lab/2026-12-06_base_v3/finish_ship.sh "$@"
