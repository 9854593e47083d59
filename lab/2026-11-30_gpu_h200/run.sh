#!/bin/bash
# One lent NVIDIA H200 (a session's 15 minutes of device time): the full-size FLUX timing, then three
# miniature pretraining continuations side by side, and a GPU run of the editing, scaling and fine-tuning
# code paths. Run from the repository root by the device tool, with $OUT for what comes back, and
#   carry: .whl (diffusers, peft, prodigyopt, regex wheels for Python 3.12; the image has torch,
#          transformers, accelerate) and gpu_carry (the Fill export to continue: transformer/ and
#          training_fill.json of checkpoints/fill_p4/toy, phase 4 at step 48000).
# What came back and what it measured: lab/2026-11-30_gpu_h200/README.md.
set -u
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1
{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
  python3 -c "import torch, diffusers, transformers, peft, accelerate; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'diffusers', diffusers.__version__, 'transformers', transformers.__version__, 'peft', peft.__version__, 'accelerate', accelerate.__version__)"
} > $OUT/machine.txt 2>&1

# 1. Full-size FLUX.1 Fill [dev] transformer, random weights, alone on the GPU.
timeout 170 python3 benchmarks/flux_full_scale.py --out $OUT/flux_full_scale.json > $OUT/flux_full_scale.log 2>&1
echo "flux benchmark rc=$?" >> $OUT/machine.txt

# 2. Miniature pretraining, three runs at once (a 2.4M-parameter model leaves the GPU mostly idle).
mkdir -p /tmp/runs
cp -r data/models/toy /tmp/runs/fill_b128 && rm -rf /tmp/runs/fill_b128/transformer
cp -r gpu_carry/transformer gpu_carry/training_fill.json /tmp/runs/fill_b128/
cp -r /tmp/runs/fill_b128 /tmp/runs/fill_b32
cp -r data/models/toy /tmp/runs/t2i_b128
common="--device cuda --threads 1 --max-minutes 5 --eval-every 1000000 --eval-n 64 --export-every 1000 --log-every 100"
fill="--stage fill --p-identical 0.2 --changed-weight 1 --fill-kinds right --continue-from-export"
python3 -m icedit_lib.pretrain_flux $fill $common --model-dir /tmp/runs/fill_b128 --work-dir /tmp/runs/fill_b128/work \
  --batch-size 128 --lr 1e-3 --steps 56000 > /tmp/runs/fill_b128.log 2>&1 &
python3 -m icedit_lib.pretrain_flux $fill $common --model-dir /tmp/runs/fill_b32 --work-dir /tmp/runs/fill_b32/work \
  --batch-size 32 --lr 5e-4 --steps 60000 > /tmp/runs/fill_b32.log 2>&1 &
python3 -m icedit_lib.pretrain_flux --stage t2i --freeze-text-encoders --continue-from-export $common \
  --model-dir /tmp/runs/t2i_b128 --work-dir /tmp/runs/t2i_b128/work --batch-size 128 --lr 1e-3 --steps 24000 \
  > /tmp/runs/t2i_b128.log 2>&1 &

# 3. The course's GPU code paths on the miniature (fp32, to compare with the CPU records; bf16 training).
mkdir -p /tmp/smoke
{ python3 -m icedit_lib.cli eval --suite results/scaling_moe/suite/suite.jsonl --adapter toy-moe --device cuda \
    --dtype fp32 --out-dir /tmp/smoke/moe_single
  python3 -m icedit_lib.cli eval --suite results/scaling_moe/suite/suite.jsonl --adapter toy-moe --device cuda \
    --dtype fp32 --num-seeds 6 --filter-steps 6 --judge toy-judge --out-dir /tmp/smoke/moe_ef6
  python3 -m icedit_lib.train --base toy --adapter moe --text-encoder-rank 16 --output-dir /tmp/smoke/train_moe \
    --max-steps 30 --mixed-precision bf16 --gradient-checkpointing --eval-n 8
} > /tmp/smoke/log.txt 2>&1
echo "smoke rc=$?" >> $OUT/machine.txt
wait
for r in fill_b128 fill_b32 t2i_b128; do
  tr '\r' '\n' < /tmp/runs/$r.log | grep -v "it/s\]$" | tail -40 > /tmp/runs/$r/stdout.txt
  part=transformer; [ $r = t2i_b128 ] && part=transformer_t2i
  (cd /tmp/runs/$r && tar cf $OUT/$r.tar $part training_*.json stdout.txt $(ls work/log.jsonl 2>/dev/null))
done
(cd /tmp/smoke && rm -rf */images train_moe/checkpoint && tr '\r' '\n' < log.txt | grep -v "it/s\]$" > log_clean.txt; tar cf $OUT/smoke.tar .)
ls -la $OUT
