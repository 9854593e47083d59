#!/bin/bash
# The design arm beside the v3 Fill: the same widening and recipe plus the scene read-out (`--scene-loss 0.02`,
# after REPA) from the first step. Waits for the T2I run (PID $1) to end, so that it takes that core.
cd /work/main
while kill -0 "$1" 2>/dev/null; do sleep 30; done
cp -r checkpoints/t2i_l4_12000 checkpoints/fill_v3s
echo "started $(date)"
exec .venv/bin/python -m icedit_lib.pretrain_flux --stage fill --model-dir checkpoints/fill_v3s --work-dir checkpoints/fill_v3s_work \
  --steps 40000 --batch-size 16 --lr 1e-3 --p-identical 0.2 --fill-kinds right --eval-every 2000 --eval-n 64 \
  --export-every 1000 --threads 1 --compile --checkpoint-minutes 3 --scene-loss 0.02
