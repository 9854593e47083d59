"""The T2I learning curves of this folder's arms beside the recorded control (the shipped T2I's own run, session 22-23,
`../2026-12-04_language_before_images/t2i_curve/curve.json`, the same command and seeds on the unnormalised VAE):
held-out exact scenes and per-object colour and shape, every 1000 steps (64 scenes, seed 2024).

    python lab/2026-12-06_latent_design/compare_curves.py NAME=WORK_DIR/log.jsonl [...] > curves.md
"""
import json
import sys
from pathlib import Path

CONTROL = Path(__file__).parent.parent / "2026-12-04_language_before_images/t2i_curve/curve.json"


def arm(log: str) -> dict[int, dict]:
    out = {}
    for line in open(log):
        d = json.loads(line)
        if "eval" in d:
            out[d["step"]] = {k.removeprefix("t2i_"): v for k, v in d["eval"].items()}
    return out


def main():
    runs = {"control (spread 0.02)": {r["step"]: r for r in json.loads(CONTROL.read_text())[
        "language-pretrained encoders, frozen"]}}
    for spec in sys.argv[1:]:
        name, log = spec.split("=", 1)
        runs[name] = arm(log)
    steps = sorted(set.intersection(*(set(r) for r in runs.values())))
    names = list(runs)
    print("| step | " + " | ".join(f"{n}: exact / colour / shape" for n in names) + " |")
    print("|---|" + "---|" * len(names))
    for s in steps:
        cells = [f"{runs[n][s]['exact']:.0%} / {runs[n][s]['color']:.0%} / {runs[n][s]['shape']:.0%}" for n in names]
        print(f"| {s} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
