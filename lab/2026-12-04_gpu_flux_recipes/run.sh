#!/usr/bin/env bash
# Issue 31, prepared for the next session that draws a device (not run yet): FLUX.1 Fill [dev]'s recipes side by
# side on an H200, random weights of the real shape, in one call of about 9 minutes.
#   1. benchmarks/flux_recipes.py --presets (none): bf16 eager and compiled (regional, dynamic height), fp8 eager
#      and compiled, fp8 weight-only, nf4; a 1024 x 512 and a 1024 x 768 diptych; step time, 28-step edit,
#      compilation time, peak memory, relative error against bf16 eager (about 5 minutes: the 24 GB reference
#      is saved once for the quantized loads).
#   2. benchmarks/flux_recipes.py --recipes (none) --presets 80 24 16: the whole pipeline as `icedit edit --memory N`
#      loads and places it (T5-XXL, CLIP-L, VAE and the transformer, random weights): peak memory and time per
#      edit (about 4 minutes, most of it writing and reading the 34 GB folder).
#   3. benchmarks/mini_recipes.py --device cuda: the trained miniature's 64 held-out edits under bf16 (the default),
#      fp8 compiled, fp8 and compiled bf16, each paired edit by edit with the default (the issue's "success
#      unchanged under the same recipe on a GPU"); each recipe is written as it finishes (about a minute).
# Added 2026-12-07: step 3, and flux_recipes.py writes its record after each recipe, so a timeout keeps the rest.
# Needs no network. The device image has torch, transformers, accelerate; first, here:
# `bash lab/2026-12-07_device_site/pack.sh` (diffusers, peft, torchao, bitsandbytes into .device/site.tar.xz).
# Run with the device tool: `bash lab/2026-12-04_gpu_flux_recipes/run.sh`, timeout_s 600, carry [".device"].
# Outputs in $OUT: machine.txt, flux_recipes.json / .md (transformer recipes), flux_presets.json / .md,
# mini_recipes.json / .md (ship as benchmarks/results/mini_recipes_cuda.json), logs.
# SMOKE=1 runs the same script on a CPU at the miniature's size (CI: tests/test_benchmarks.py).
set -euo pipefail
OUT=${OUT:-outputs/gpu_flux_recipes}
SMOKE=${SMOKE:-0}
PY=${PYTHON:-python3}
mkdir -p "$OUT"
OUT=$(realpath "$OUT")
if [ -f .device/site.tar.xz ]; then  # the packages the image lacks (lab/2026-12-07_device_site/pack.sh)
  mkdir -p /tmp/site && tar xJf .device/site.tar.xz -C /tmp/site
  export PYTHONPATH=/tmp/site:$PWD
fi
export PYTHONUNBUFFERED=1 PYTHONPATH=${PYTHONPATH:-$PWD}
if [ "$SMOKE" = 1 ]; then
  ARGS=(--size mini --device cpu --steps 2 --repeats 1); RECIPES=(bf16 fp8-weight nf4); PRESETS=(80 16)
  MINI=(--device cpu --steps 2 --recipes default fp8-weight nf4)
else
  ARGS=(--size full --device cuda --steps 28 --repeats 2); RECIPES=(bf16 bf16-compiled fp8 fp8-compiled fp8-weight nf4)
  PRESETS=(80 24 16)
  MINI=(--device cuda --recipes default fp8-compiled fp8 compiled)
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > "$OUT/machine.txt" 2>&1 || true
fi
cd benchmarks
timeout 290 "$PY" flux_recipes.py "${ARGS[@]}" --recipes "${RECIPES[@]}" --presets --out "$OUT/flux_recipes.json" \
  > "$OUT/flux_recipes.log" 2>&1 || echo "recipes rc=$?" >> "$OUT/machine.txt"
timeout 210 "$PY" flux_recipes.py "${ARGS[@]}" --recipes --presets "${PRESETS[@]}" --out "$OUT/flux_presets.json" \
  > "$OUT/flux_presets.log" 2>&1 || echo "presets rc=$?" >> "$OUT/machine.txt"
timeout 60 "$PY" mini_recipes.py "${MINI[@]}" --out "$OUT/mini_recipes.json" \
  > "$OUT/mini_recipes.log" 2>&1 || echo "mini rc=$?" >> "$OUT/machine.txt"
ls -la "$OUT"
