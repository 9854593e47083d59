#!/usr/bin/env bash
# Base v3's re-measurement resumed after a stop (session 41 stopped inside it). Done in session 41: the 12000-step
# adapters, the training-free table, the judge, the LoRA-MoE scaling table and the routing ("lane a done" in
# checkpoints/lane_a.log), and the training-free scaling table if checkpoints/scaling_tf.log ends "exit 0". Left:
# the fine-tuning table (its ablations resume from their states), the metric agreement, the training-free scaling
# table if it did not finish. Then `finish_ship.sh`, given the numbers of the notebooks still to execute (05-08 by
# default).
#   nohup lab/2026-12-06_base_v3/resume_lanes.sh [NN ...] > checkpoints/resume_lanes.log 2>&1 &
set -euo pipefail
cd /work/main
run() { echo "== $(date +%T) $*"; OMP_NUM_THREADS=1 .venv/bin/python -m "$@"; }
lane_b() {
  run icedit_lib.experiments fine-tuning --out-dir results/fine_tuning --n 64 --steps 28 --train-steps 1000
  run icedit_lib.metric_agreement --clip data/models/mini_clip --out-dir results/metric_agreement
  echo "== $(date +%T) lane b done"
}
grep -q "lane a done" checkpoints/lane_a.log || { echo "lane a did not finish: run remeasure_lanes.sh's lane a"; exit 1; }
if ! tail -1 checkpoints/scaling_tf.log 2>/dev/null | grep -q "exit 0"; then
  run icedit_lib.experiments scaling --out-dir results/scaling_training_free --adapter none --judge mini-judge \
    > checkpoints/scaling_tf.log 2>&1 &
fi
lane_b > checkpoints/lane_b.log 2>&1 &
wait
exec lab/2026-12-06_base_v3/finish_ship.sh "$@"
