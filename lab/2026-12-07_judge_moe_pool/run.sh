#!/usr/bin/env bash
# Probe (session 42): does a judge that also learns from the LoRA-MoE editor's own seeds (a training pool with a
# ranking loss between one edit's right and wrong seeds) tell its near misses from successes, where the shipped
# judge (synthetic candidates only) agrees with the parser at chance? Weights stay in checkpoints/; the records
# are copied here. Then `compare.py` scores the shipped judge on the same held-out pool.
#   nohup lab/2026-12-07_judge_moe_pool/run.sh > checkpoints/judge_moe.log 2>&1 &
set -euo pipefail
cd /work/main
OMP_NUM_THREADS=1 .venv/bin/python -m icedit_lib.train_judge --adapter mini-moe --pool-pairs 256 --ranking-pairs 8 \
  --eval-pairs 96 --output-dir checkpoints/judge_moe_out --work-dir checkpoints/judge_moe --threads 1
cp checkpoints/judge_moe_out/training.json checkpoints/judge_moe_out/README.md lab/2026-12-07_judge_moe_pool/
OMP_NUM_THREADS=1 .venv/bin/python lab/2026-12-07_judge_moe_pool/compare.py
