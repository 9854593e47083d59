#!/bin/bash
# After the arm's last step: its 256-pair evaluation against the shipped Fill, what its failures draw, the Fill
# card's note rendered from both, and, if the new Fill completes more of the 256 pairs than the shipped one by a
# margin the sign test confirms (p < 0.05), the ship (`ship_v3.sh`, about two hours of both cores).
# Waits for the training process to exit with its 40000-step export written, then uses both cores:
#   nohup lab/2026-12-06_base_v3/after_arm.sh > checkpoints/after_arm.log 2>&1 &
# Leaves: lab/2026-12-06_base_v3/eval_v3s_40000_256/metrics.json,
# lab/2026-12-06_fill_failures/failures_eval_v3s_40000_256.json, card_notes/fill.md (read it: its sentence on what
# limits the Fill must still hold for the counts it quotes), and the shipped tree (checkpoints/ship_v3.log).
set -euo pipefail
cd /work/main
while pgrep -f "work-dir checkpoints/fill_v3s_work" > /dev/null; do sleep 30; done
step=$(python3 -c "import json; print(json.load(open('checkpoints/fill_v3s/training_fill.json'))['step'])")
[ "$step" -eq 40000 ] || { echo "the arm stopped at $step, not 40000: resume it first"; exit 1; }
echo "== $(date +%T) 256-pair evaluation"
OMP_NUM_THREADS=2 .venv/bin/icedit eval-pretrained --part fill --base checkpoints/fill_v3s --n 256 \
  --out-dir checkpoints/eval_v3s_40000_256 --paired-with lab/2026-12-05_fill_named/plain_60000_256
mkdir -p lab/2026-12-06_base_v3/eval_v3s_40000_256
cp checkpoints/eval_v3s_40000_256/metrics.json lab/2026-12-06_base_v3/eval_v3s_40000_256/
echo "== $(date +%T) failures"
OMP_NUM_THREADS=2 .venv/bin/python lab/2026-12-06_fill_failures/classify.py checkpoints/eval_v3s_40000_256
here=lab/2026-12-06_base_v3
python3 $here/render_fill_note.py $here/eval_v3s_40000_256/metrics.json \
  lab/2026-12-06_fill_failures/failures_eval_v3s_40000_256.json > $here/card_notes/fill.md.tmp
mv $here/card_notes/fill.md.tmp $here/card_notes/fill.md
better=$(python3 -c "import json; p = json.load(open('$here/eval_v3s_40000_256/metrics.json'))['paired_with']
print(int(p['only_a'] > p['only_b'] and p['p_success'] < 0.05))")
[ "$better" = 1 ] || { echo "not better than the shipped Fill by a confirmed margin: no ship"; exit 1; }
echo "== $(date +%T) ship"
exec $here/ship_v3.sh $here/card_notes checkpoints/fill_v3s > checkpoints/ship_v3.log 2>&1
