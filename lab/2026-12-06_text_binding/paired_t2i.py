"""Scene-by-scene comparison of two `icedit eval-pretrained --part t2i` runs on the same held-out scenes, read from
their image names (`NNNN_ok.png` / `NNNN_fail.png`), with the library's sign test (`evaluation.discordant_sign_test`).

    python lab/2026-12-06_text_binding/paired_t2i.py EVAL_DIR_A EVAL_DIR_B [--out FILE]
"""
import argparse
import json
import os

from icedit_lib.evaluation import discordant_sign_test


def verdicts(folder):
    return {int(f.split("_", 1)[0]): f[:-4].split("_", 1)[1] == "ok" for f in os.listdir(os.path.join(folder, "images"))}


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--out")
    args = ap.parse_args(argv)
    a, b = verdicts(args.a), verdicts(args.b)
    assert a.keys() == b.keys(), "not the same scenes"
    only_a, only_b, p = discordant_sign_test([(a[i], b[i]) for i in sorted(a)])
    out = {"a": args.a, "b": args.b, "n": len(a), "exact_a": sum(a.values()), "exact_b": sum(b.values()),
           "only_a": only_a, "only_b": only_b, "sign_test_p": round(p, 4)}
    print(json.dumps(out))
    if args.out:
        open(args.out, "w").write(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
