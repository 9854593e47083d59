#!/usr/bin/env bash
# `make remeasure`'s commands (Makefile), in two lanes of one thread each, ordered so that the longest chain
# (the MoE adapter, then the judge, then the MoE scaling table) starts first. Run from the repository root after
# `make stale-states`; each lane logs to checkpoints/lane_{a,b}.log. A killed lane resumes from its states.
set -euo pipefail
run() { echo "== $(date +%T) $*"; OMP_NUM_THREADS=1 .venv/bin/python -m "$@"; }
lane_a() {
  run icedit_lib.train --base mini --adapter moe --text-encoder-rank 16 --caption-distill 1 --output-dir data/models/mini_moe --work-dir checkpoints/mini_moe --max-steps 12000 --eval-n 64 --threads 1
  touch checkpoints/lane_moe.done
  run icedit_lib.train_judge --base mini --adapter none --output-dir data/models/mini_judge --threads 1
  touch checkpoints/lane_judge.done
  run icedit_lib.experiments scaling --out-dir results/scaling_moe --adapter mini-moe --judge mini-judge
  run icedit_lib.experiments moe-routing --out-dir results/moe_routing
  echo "== $(date +%T) lane a done"
}
lane_b() {
  run icedit_lib.train --base mini --adapter lora --text-encoder-rank 16 --caption-distill 1 --output-dir data/models/mini_lora --work-dir checkpoints/mini_lora --max-steps 12000 --eval-n 64 --threads 1
  run icedit_lib.experiments training-free --out-dir results/training_free
  while [ ! -f checkpoints/lane_moe.done ]; do sleep 30; done
  run icedit_lib.experiments fine-tuning --out-dir results/fine_tuning --n 64 --steps 28 --train-steps 1000
  run icedit_lib.metric_agreement --clip data/models/mini_clip --out-dir results/metric_agreement
  while [ ! -f checkpoints/lane_judge.done ]; do sleep 30; done
  run icedit_lib.experiments scaling --out-dir results/scaling_training_free --adapter none --judge mini-judge
  echo "== $(date +%T) lane b done"
}
rm -f checkpoints/lane_moe.done checkpoints/lane_judge.done
lane_a > checkpoints/lane_a.log 2>&1 &
lane_b > checkpoints/lane_b.log 2>&1 &
wait
