#!/bin/bash
# Wait for the 4-layer T2I's 12000-step export, keep a copy, and widen the v3 Fill from it.
cd /work/main
until python3 -c "import json,sys; sys.exit(0 if json.load(open('checkpoints/t2i_l4/training_t2i.json'))['step']==12000 else 1)" 2>/dev/null; do sleep 20; done
sleep 5
rm -rf checkpoints/t2i_l4_12000.tmp && cp -r checkpoints/t2i_l4 checkpoints/t2i_l4_12000.tmp && mv checkpoints/t2i_l4_12000.tmp checkpoints/t2i_l4_12000
python3 -c "import json; assert json.load(open('checkpoints/t2i_l4_12000/training_t2i.json'))['step']==12000"
cp -r checkpoints/t2i_l4_12000 checkpoints/fill_v3
echo "widened from $(date)"
exec .venv/bin/python -m icedit_lib.pretrain_flux --stage fill --model-dir checkpoints/fill_v3 --work-dir checkpoints/fill_v3_work \
  --steps 40000 --batch-size 16 --lr 1e-3 --p-identical 0.2 --fill-kinds right --eval-every 2000 --eval-n 64 \
  --export-every 1000 --threads 1 --compile --checkpoint-minutes 3
