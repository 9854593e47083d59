#!/bin/bash
# The grown Fill's sampling cost beside the plain one's, on a quiet machine, in one run (the same benchmark as
# benchmarks/results/sampling_speed.json; no adapter: these are bases).
here=lab/2026-12-05_fill_depth
while [ ! -f $here/latent_hue_gaps_fill_deep.txt ]; do sleep 20; done
for arm in fill_v9 fill_deep fill_v9 fill_deep; do
  .venv/bin/python benchmarks/sampling_speed.py --base checkpoints/$arm --threads 2 --repeats 10 \
      --out $here/sampling_speed_$arm.json > /dev/null 2>&1
  .venv/bin/python -c "import json; r=json.load(open('$here/sampling_speed_$arm.json'))['results']; print('$arm', {k: round(v['median_s'], 4) for k, v in r.items() if isinstance(v, dict)})"
done
