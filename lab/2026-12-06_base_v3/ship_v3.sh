#!/usr/bin/env bash
# Ship base v3 unattended (issue 28): assemble it onto data/models/mini (`assemble_v3.py`: the four-layer encoders,
# the 20000-step T2I, the v3 Fill; cards from the records with the notes in NOTES_DIR), then retrain and re-measure
# everything that depends on the base, re-execute and stamp the notebooks and render the README. About two hours of
# both cores (stop the training runs first); run from the repository root:
#   nohup lab/2026-12-06_base_v3/ship_v3.sh NOTES_DIR [FILL_DIR] > checkpoints/ship_v3.log 2>&1 &
# Without FILL_DIR the base is assembled already (a killed ship resumes from the re-measurement).
# `ship_prose.py` rewrites the sentences that name which base ships. What it leaves to a person: the prose check
# (notebooks 00, 02-08 and the README's sentences against the new tables), a fresh-clone `.ci/run`, the commit.
set -euo pipefail
notes=$1
if [ $# -ge 2 ]; then
  echo "== $(date +%T) assemble from $2"
  .venv/bin/python lab/2026-12-06_base_v3/assemble_v3.py --fill-from "$2" --out data/models/mini --notes-dir "$notes"
fi
echo "== $(date +%T) the sentences that name the shipped base"
.venv/bin/python lab/2026-12-06_base_v3/ship_prose.py
# the rest is base v2.5's ship with its base already assembled: stale states, re-measurement, notebooks, README
exec lab/2026-12-05_fill_named/ship_fill.sh "$notes/fill.md"
