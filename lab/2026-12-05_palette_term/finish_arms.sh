#!/bin/bash
# Waits for each palette arm's training to end at step 50000, then evaluates it on the 256 held-out pairs paired with
# the plain 50000-step chunk, and runs the two hue scripts on its diptychs. One arm per core.
#   nohup lab/2026-12-05_palette_term/finish_arms.sh fill_pal & ; nohup ... fill_pal3 &
set -e
arm=$1
here=lab/2026-12-05_palette_term
while pgrep -f "model-dir checkpoints/$arm " > /dev/null; do sleep 30; done
OMP_NUM_THREADS=1 .venv/bin/icedit eval-pretrained --part fill --base checkpoints/$arm --n 256 \
    --out-dir checkpoints/${arm}_256 --paired-with lab/2026-12-05_base_v2_4/plain_50000_256 > checkpoints/${arm}_256.log 2>&1
.venv/bin/python lab/2026-12-05_fill_curriculum/hue_commitment.py checkpoints/${arm}_256/images > $here/hue_commitment_$arm.txt
.venv/bin/python lab/2026-12-05_fill_curriculum/latent_hue_gaps.py $here/hue_commitment_$arm.txt > $here/latent_hue_gaps_$arm.txt
echo done > checkpoints/${arm}_256.done
