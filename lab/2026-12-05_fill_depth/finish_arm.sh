#!/bin/bash
# Waits for an arm's training to end, then evaluates it on the 256 held-out pairs paired with REF (after REF's own
# evaluation has written its metrics), and runs the hue scripts on its diptychs.
#   lab/2026-12-05_fill_depth/finish_arm.sh fill_v9 lab/2026-12-05_base_v2_4/plain_50000_256
#   lab/2026-12-05_fill_depth/finish_arm.sh fill_deep checkpoints/fill_v9_256
set -e
arm=$1 ref=$2
here=lab/2026-12-05_fill_depth
while pgrep -f "model-dir checkpoints/$arm " > /dev/null || [ ! -f $ref/metrics.json ]; do sleep 30; done
OMP_NUM_THREADS=1 .venv/bin/icedit eval-pretrained --part fill --base checkpoints/$arm --n 256 \
    --out-dir checkpoints/${arm}_256 --paired-with $ref > checkpoints/${arm}_256.log 2>&1
.venv/bin/python lab/2026-12-05_fill_curriculum/hue_commitment.py checkpoints/${arm}_256/images > $here/hue_commitment_$arm.txt
.venv/bin/python lab/2026-12-05_fill_curriculum/latent_hue_gaps.py $here/hue_commitment_$arm.txt > $here/latent_hue_gaps_$arm.txt
