"""The shipped judge (synthetic candidates only), the probe's judge (also the LoRA-MoE's own seeds) and the oracle on
the same held-out pool of LoRA-MoE candidates: within-edit agreement with the parser per preview step."""
import json
from pathlib import Path

from icedit_lib import registry
from icedit_lib.train_judge import load_pool, oracle_agreement, pool_agreement, synthetic_agreement

here = Path(__file__).parent
pool = load_pool(Path("checkpoints/judge_moe/pool"), "eval")
record = json.loads(Path("checkpoints/judge_moe_out/training.json").read_text())
seed = record["args"]["seed"]
out = {}
for name, location in (("shipped mini-judge", "mini-judge"), ("probe: + the LoRA-MoE's own seeds", "checkpoints/judge_moe_out")):
    judge = registry.load_judge(location, device="cpu")
    out[name] = {"pool": pool_agreement(judge, pool), "synthetic": synthetic_agreement(judge)}
out["oracle (knows the target)"] = {"pool": oracle_agreement(pool, seed, "eval")}
(here / "compare.json").write_text(json.dumps(out, indent=2))
for name, rec in out.items():
    print(name, {k: (round(v["agreement"], 3) if v["agreement"] is not None else None, v["pairs"])
                 for k, v in rec["pool"].items()}, "synthetic", rec.get("synthetic"))
