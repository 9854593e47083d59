#!/usr/bin/env bash
# Issue 30, prepared for a GPU machine that holds the weights and data (not run yet): the paper's Table 1 (Emu Edit
# test: CLIP-I, CLIP-out, DINO against the source) and Table 2 (MagicBrush test: L1, CLIP-I, DINO against the ground
# truth) rows of ICEdit and of the training-free model, on a stated subset, with both CLIPs. No network at run
# time: every model and data set comes from a local folder named by an environment variable.
#   FLUX_FILL=/path/FLUX.1-Fill-dev  ICEDIT_LORA=/path/normal-lora  CLIP_L=/path/clip-vit-large-patch14
#   CLIP_B=/path/clip-vit-base-patch32  DINO=/path/dino-vits16  EMU=/path/emu_edit_test_set (parquet files)
#   MAGICBRUSH=/path/magicbrush/test (edit_sessions.json, images/)  N=100 (edits per benchmark)  OUT=outputs/bench
# On an H200 a 28-step edit takes about 2.6 s of transformer time (lab/2026-11-30_gpu_h200), so 100 edits per
# benchmark and configuration take about 5 minutes, scoring a few seconds: about 20 minutes for the four runs.
# Then compare each table.md with the paper's rows (notebook 08 quotes them) and commit the outputs to lab/.
# SMOKE=1 runs the same script on a CPU with the miniature and local stand-ins (CI: tests/test_bench.py).
set -euo pipefail
OUT=${OUT:-outputs/bench}; N=${N:-100}; PY=${PYTHON:-python3}
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 PYTHONUNBUFFERED=1
mkdir -p "$OUT"
if [ "${SMOKE:-0}" = 1 ]; then
  EDIT=(--base "${FLUX_FILL:-mini}" --steps 1 --device cpu); ADAPTER=(--adapter none); CLIPS=("$CLIP_B")
else
  EDIT=(--base "$FLUX_FILL" --steps 28 --device cuda); ADAPTER=(--adapter "$ICEDIT_LORA"); CLIPS=("$CLIP_L" "$CLIP_B")
fi
for clip in "${CLIPS[@]}"; do
  tag=$(basename "$clip")
  "$PY" -m icedit_lib.cli bench --suite emu-test --source "$EMU" --n "$N" --clip "$clip" --dino "$DINO" \
    "${EDIT[@]}" "${ADAPTER[@]}" --out-dir "$OUT/emu_icedit_$tag"
  "$PY" -m icedit_lib.cli bench --suite emu-test --source "$EMU" --n "$N" --clip "$clip" --dino "$DINO" \
    "${EDIT[@]}" --adapter none --out-dir "$OUT/emu_training_free_$tag" --paired-with "$OUT/emu_icedit_$tag"
  "$PY" -m icedit_lib.cli bench --suite magicbrush-test --source "$MAGICBRUSH" --n "$N" --clip "$clip" \
    --dino "$DINO" "${EDIT[@]}" "${ADAPTER[@]}" --out-dir "$OUT/magicbrush_icedit_$tag"
done
cat "$OUT"/*/table.md
