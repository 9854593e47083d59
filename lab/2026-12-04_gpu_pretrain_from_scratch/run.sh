#!/usr/bin/env bash
# Issue 28, prepared for the next session that draws a device (not run yet): the whole miniature from
# scratch in one call of about 9 minutes on an H200, and the pretraining throughput.
#   1. benchmarks/pretrain_throughput.py: the Fill stage's training examples a second (target 20,000) at
#      batches 256 and 1024, bf16, 8 data workers, eager and compiled (about 2 minutes with compilation).
#   2. python -m icedit_lib.pretrain --all: text encoders, VAE, T2I, Fill in a 6-minute box, each stage's
#      schedule fitted to its share (text 8%, VAE 17%, T2I 35%, Fill 40%), then each stage's evaluation on
#      held-out scenes (the T2I and Fill samplings add about a minute).
# Needs no network: the project and its pinned packages. The device image has torch, transformers, accelerate;
# first, here: `bash lab/2026-12-07_device_site/pack.sh` (diffusers, peft, torchao, bitsandbytes, prodigyopt into
# .device/site.tar.xz). Run with the device tool: `bash lab/2026-12-04_gpu_pretrain_from_scratch/run.sh`,
# timeout_s 600, carry [".device"].
# Outputs in $OUT: machine.txt, pretrain_throughput.json, pretrain.log, base_fill.tgz (the folder without
# transformer_t2i), base_t2i.tgz (transformer_t2i and the records). Then, on the CPU: unpack both into one
# folder DIR and score it with the project's own evaluations:
#   icedit eval-pretrained --part t2i --base DIR --n 64 --out-dir results/...   (and --part fill, --part vae)
#   python -m icedit_lib.pretrain_text --probe-only DIR
# SMOKE=1 runs the same script on a CPU in a minute (CI: tests/test_pretrain.py).
set -euo pipefail
OUT=${OUT:-outputs/gpu_pretrain}
SMOKE=${SMOKE:-0}
PY=${PYTHON:-python3}
mkdir -p "$OUT"
if [ -f .device/site.tar.xz ]; then  # the packages the image lacks (lab/2026-12-07_device_site/pack.sh)
  mkdir -p /tmp/site && tar xJf .device/site.tar.xz -C /tmp/site
  export PYTHONPATH=/tmp/site:$PWD
fi
export PYTHONUNBUFFERED=1 PYTHONPATH=${PYTHONPATH:-$PWD}
if [ "$SMOKE" = 1 ]; then
  DEVICE=cpu; THREADS=1; MINUTES=0.02; BATCHES="2"; WORKERS=1; SECONDS_EACH=0.5; COMPILE=""
  EXTRA=(--eval-n 1 --extra "text:--steps 2 --batch-size 4 --probe-texts 40"
         --extra "vae:--steps 2 --batch-size 2 --eval-panels 2" --extra "t2i:--steps 2 --batch-size 2 --warmup 1"
         --extra "fill:--steps 2 --batch-size 2 --warmup 1")
else
  DEVICE=cuda; THREADS=8; MINUTES=6; BATCHES="256 1024"; WORKERS=8; SECONDS_EACH=15; COMPILE="--compile"
  EXTRA=(--extra "t2i:--data-workers 8 --mixed-precision bf16" --extra "fill:--data-workers 8 --mixed-precision bf16")
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > "$OUT/machine.txt" 2>&1 || true
fi
"$PY" -c "import torch, diffusers, transformers; print(torch.__version__, diffusers.__version__, transformers.__version__)" \
  >> "$OUT/machine.txt"
(cd benchmarks && timeout 240 "$PY" pretrain_throughput.py --device $DEVICE --threads $THREADS \
  --batch-size $BATCHES --data-workers $WORKERS --mixed-precision bf16 $COMPILE --seconds $SECONDS_EACH \
  --out "$(cd .. && realpath "$OUT")/pretrain_throughput.json") || echo "throughput benchmark failed: rc=$?" >> "$OUT/machine.txt"
start=$(date +%s)
timeout 450 "$PY" -m icedit_lib.pretrain --all --out-dir /tmp/gpu_base --minutes $MINUTES --device $DEVICE \
  --threads $THREADS "${EXTRA[@]}" > "$OUT/pretrain.log" 2>&1 || echo "pretrain rc=$?" >> "$OUT/machine.txt"
echo "pretrain wall seconds: $(( $(date +%s) - start ))" >> "$OUT/machine.txt"
tar czf "$OUT/base_fill.tgz" -C /tmp/gpu_base --exclude work --exclude transformer_t2i .
tar czf "$OUT/base_t2i.tgz" -C /tmp/gpu_base transformer_t2i $(cd /tmp/gpu_base && ls training_*.json pretrain_progress.json 2>/dev/null)
rm -rf /tmp/gpu_base
