#!/usr/bin/env bash
# Ship a continued Fill unattended (issue 28): assemble each 5000-step chunk in order onto data/models/mini (the
# card keeps every chunk's command), then retrain and re-measure everything that depends on the base, re-execute
# and stamp the notebooks and render the README. About two hours of both cores; run from the repository root:
#   nohup lab/2026-12-05_fill_named/ship_fill.sh NOTE_FILE CHUNK_DIR... > checkpoints/ship.log 2>&1 &
# What it leaves to a person: the prose check (notebooks 00, 04, 06, 07, 08 and the README's sentences against
# the new tables), a fresh-clone `.ci/run`, the commit.
set -euo pipefail
note=$1; shift  # no CHUNK_DIR: the base is assembled already (a killed ship resumes from here)
for chunk in "$@"; do
  echo "== $(date +%T) assemble $chunk"
  .venv/bin/python lab/2026-12-05_base_v2_1/assemble.py --fill-from "$chunk" --base data/models/mini \
    --out data/models/mini --fill-note "$(cat "$note")"
done
make stale-states
echo "== $(date +%T) remeasure"
lab/2026-12-05_fill_v2_3/remeasure_lanes.sh
echo "== $(date +%T) notebooks"
OMP_NUM_THREADS=1 make notebooks
.venv/bin/python -m icedit_lib.report --write README.md
echo "== $(date +%T) shipped; now check the prose, run .ci/run on a fresh clone, commit"
