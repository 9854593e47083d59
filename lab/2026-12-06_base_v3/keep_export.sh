#!/bin/bash
# Keep a copy of a run's export at one step (each export overwrites the last), for paired comparisons at equal steps.
# usage: keep_export.sh MODEL_DIR STAGE STEP DEST
#   e.g. keep_export.sh checkpoints/fill_v3 fill 16000 checkpoints/fill_v3_16000
set -euo pipefail
cd /work/main
model=$1 stage=$2 step=$3 dest=$4
step_of() {
  python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['step'])" "$1/training_$stage.json" 2>/dev/null || echo -1
}
until [ "$(step_of "$model")" -ge "$step" ]; do sleep 20; done
[ "$(step_of "$model")" -eq "$step" ] || { echo "missed: $model is past step $step"; exit 1; }
sleep 5
rm -rf "$dest.tmp" && cp -r "$model" "$dest.tmp"
[ "$(step_of "$dest.tmp")" -eq "$step" ] || { echo "the export moved on while copying"; rm -rf "$dest.tmp"; exit 1; }
mv "$dest.tmp" "$dest"
echo "kept $model at step $step in $dest ($(date))"
