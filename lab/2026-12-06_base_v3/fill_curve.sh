#!/bin/bash
# The Fill learning curve: base v2.5's Fill, a chain of runs (its step logs, kept in the lab folders of the sessions
# that ran them) against base v3's Fill (the scene read-out from the first step) and the same run without the
# read-out, stopped at 19000 steps (their work folders, else the copies of their step logs here).
# Run from the repository root; writes fill_curve/.
OLD="2-layer encoders, rectangles to 11440, restarts from 20000 to 60000"
NEW="4-layer encoders, right-half diptychs, one 40000-step cosine (stopped at 19000)"
runs=(--run "$OLD=lab/2026-12-04_language_before_images/fill_curve")
for log in 2026-12-05_base_v2_1/fill_log 2026-12-05_fill_v2_2/fill_log 2026-12-05_fill_v2_3/fill_log \
           2026-12-05_fill_curriculum/plain_log 2026-12-05_fill_curriculum/plain_45000_log \
           2026-12-05_base_v2_4/plain_50000_log 2026-12-05_fill_depth/plain_55000_log 2026-12-05_fill_named/plain_60000_log; do
  runs+=(--run "$OLD=lab/$log.jsonl")
done
ARM="the same with the scene read-out (--scene-loss 0.02)"
NEW_LOG=checkpoints/fill_v3_work ARM_LOG=checkpoints/fill_v3s_work
[ -e "$NEW_LOG" ] || NEW_LOG=lab/2026-12-06_base_v3/fill_v3_log.jsonl
[ -e "$ARM_LOG" ] || ARM_LOG=lab/2026-12-06_base_v3/fill_v3s_log.jsonl
exec python -m icedit_lib.learning_curve "${runs[@]}" --run "$NEW=$NEW_LOG" --run "$ARM=$ARM_LOG" \
  --out-dir lab/2026-12-06_base_v3/fill_curve
