#!/bin/bash
# Prepared for the next session that draws a device (not run yet). One call, about 9 minutes of an H200:
# four miniature pretraining continuations side by side, each a schedule of its own from the shipped
# exports (`pretrain_flux --fresh-schedule`: warm-up, then cosine to a tenth, ending inside the time box,
# since the gains so far came at the low-learning-rate ends of schedules), and the bf16 training check
# that lab/2026-11-30_gpu_h200/README.md asks for. Before the call, on the CPU machine:
#   pip download --no-deps --only-binary=:all: --python-version 3.12 --platform manylinux2014_x86_64 \
#       -d .whl diffusers==0.42.1 peft==0.21.2 prodigyopt==1.1.2 regex
# (the device image has torch, transformers and accelerate; .whl travels as an untracked folder).
# Run with the device tool: `bash lab/2026-11-30_gpu_h200/next_run.sh`, timeout_s 600. Then, on the CPU, unpack each
# Fill tar into a copy of data/models/toy (DIR) and score it against the shipped base, pair by pair:
#   icedit eval-pretrained --part fill --n 256 --base DIR --out-dir lab/2026-11-30_fill_checkpoints/NAME \
#       --paired-with lab/2026-11-30_fill_checkpoints/decoder_shipped
set -u
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > $OUT/machine.txt 2>&1
mkdir -p /tmp/runs
for r in fill_b128_lr3e-4 fill_b128_lr1e-3 fill_b256_lr3e-4 t2i_b128_lr3e-4; do cp -r data/models/toy /tmp/runs/$r; done
common="--device cuda --threads 1 --max-minutes 7 --eval-every 1000000 --eval-n 64 --log-every 100 --warmup 200"
common="$common --continue-from-export --fresh-schedule"
fill="--stage fill --p-identical 0.2 --changed-weight 1 --fill-kinds right"
# 49514: the shipped Fill's step. With four processes sharing the GPU, session 16 measured 0.2 s a step at
# batch 128, so 1800 steps fit in 7 minutes at batch 128 and about 900 at batch 256.
python3 -m icedit_lib.pretrain_flux $fill $common --model-dir /tmp/runs/fill_b128_lr3e-4 \
  --work-dir /tmp/runs/fill_b128_lr3e-4/work --batch-size 128 --lr 3e-4 --steps 51314 > /tmp/runs/fill_b128_lr3e-4.log 2>&1 &
python3 -m icedit_lib.pretrain_flux $fill $common --model-dir /tmp/runs/fill_b128_lr1e-3 \
  --work-dir /tmp/runs/fill_b128_lr1e-3/work --batch-size 128 --lr 1e-3 --steps 51314 > /tmp/runs/fill_b128_lr1e-3.log 2>&1 &
python3 -m icedit_lib.pretrain_flux $fill $common --model-dir /tmp/runs/fill_b256_lr3e-4 \
  --work-dir /tmp/runs/fill_b256_lr3e-4/work --batch-size 256 --lr 3e-4 --steps 50414 > /tmp/runs/fill_b256_lr3e-4.log 2>&1 &
python3 -m icedit_lib.pretrain_flux --stage t2i --freeze-text-encoders $common --model-dir /tmp/runs/t2i_b128_lr3e-4 \
  --work-dir /tmp/runs/t2i_b128_lr3e-4/work --batch-size 128 --lr 3e-4 --steps 17800 > /tmp/runs/t2i_b128_lr3e-4.log 2>&1 &
# The bf16 check: the loss must stay finite now that cuDNN attention is left out on CUDA.
python3 -m icedit_lib.train --base toy --adapter moe --text-encoder-rank 16 --output-dir /tmp/bf16_check \
  --max-steps 30 --mixed-precision bf16 --gradient-checkpointing --eval-n 8 > $OUT/bf16_check.log 2>&1
echo "bf16 check rc=$?" >> $OUT/machine.txt
cp /tmp/bf16_check/loss.jsonl $OUT/bf16_check_loss.jsonl 2>/dev/null
wait
for r in fill_b128_lr3e-4 fill_b128_lr1e-3 fill_b256_lr3e-4 t2i_b128_lr3e-4; do
  tr '\r' '\n' < /tmp/runs/$r.log | grep -v "it/s\]$" | tail -40 > /tmp/runs/$r/stdout.txt
  part=transformer; case $r in t2i*) part=transformer_t2i;; esac
  (cd /tmp/runs/$r && tar cf $OUT/$r.tar $part training_*.json stdout.txt $(ls work/log.jsonl 2>/dev/null))
done
ls -la $OUT
