"""Probe (session 21): classifier-free guidance on a shipped adapter, the dropped prompt " " as the
unconditional branch (the adapters train with 10% of prompts dropped). Not part of the editor.

    python lab/2026-11-30_fine_tuning_recipes/guidance_probe.py toy-moe 128 5006 1,1.25,2

v = v_dropped + s (v_instruction - v_dropped) at every step (two transformer passes); s = 1 is the editor.
"""
import json, sys
from pathlib import Path
import torch
from icedit_lib.editor import ICEditor
from icedit_lib.evaluation import evaluate_suite
from icedit_lib.suites import make_suite

torch.set_num_threads(1)
adapter, n, seed, scales = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), [float(s) for s in sys.argv[4].split(",")]
out = Path(f"work/guidance_probe/{adapter}_{seed}")
suite = make_suite(out / "suite", n=n, seed=seed)
ed = ICEditor.from_registry("toy", adapter=adapter, fuse_adapter=True)
ed.pipe.set_progress_bar_config(disable=True)
tr = ed.pipe.transformer
orig = tr.forward
u_emb, u_pool, u_ids = ed.pipe.encode_prompt([" "], None, device="cpu", max_sequence_length=ed.max_sequence_length)
state = {"s": 1.0}

def guided(*a, **kw):
    c = orig(*a, **kw)
    if state["s"] == 1.0:
        return c
    b = kw["hidden_states"].shape[0]
    kw.update(encoder_hidden_states=u_emb.expand(b, -1, -1), pooled_projections=u_pool.expand(b, -1), txt_ids=u_ids)
    u = orig(*a, **kw)
    return (u[0] + state["s"] * (c[0] - u[0]),)

tr.forward = guided
res = {}
for s in scales:
    state["s"] = s
    r = evaluate_suite(ed, suite, out / f"s{s}")
    res[s] = r["summary"]["overall"]
    print(s, json.dumps(res[s]), {k: round(v["success"], 2) for k, v in r["summary"]["per_type"].items()}, flush=True)
