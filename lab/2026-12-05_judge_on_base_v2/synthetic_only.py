"""Synthetic-only judge training for N steps (no pool), then its held-out synthetic agreement: does the recipe
learn copy / wrong-edit / smear vs correct at all in N steps? Run from the repository root:

    python lab/2026-12-05_judge_on_base_v2/synthetic_only.py 400
"""
import sys
sys.path.insert(0, ".")
import torch
torch.set_num_threads(1)
from icedit_lib import train_judge as tj
from icedit_lib.mini_judge import ShapesJudgeModel, MiniJudge, judge_loss
from icedit_lib.miniature import build_t5_tokenizer
cfg = tj.JudgeConfig(steps=int(sys.argv[1]))
torch.manual_seed(0)
tok = build_t5_tokenizer()
model = ShapesJudgeModel(vocab_size=len(tok), width=64, layers=2)
judge = MiniJudge(model, tok)
opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
model.train()
empty = {"instructions": []}
for step in range(cfg.steps):
    lr = 1e-3 * min(1.0, (step + 1) / 200)
    for g in opt.param_groups: g["lr"] = lr
    loss = judge_loss(model, judge, tj.training_batch(empty, cfg, step))
    opt.zero_grad(); loss.backward(); opt.step()
    if step % 50 == 0: print(step, round(loss.item(), 3), flush=True)
model.eval()
print("synthetic agreement", tj.synthetic_agreement(judge))
