"""Probe (lab record, not course code): the T2I model of an assembled miniature folder draws held-out captions.

    python lab/2026-12-04_language_before_images/t2i_curve/samples.py MODEL_DIR OUT.png [--objects 4] [--n 8]

The first `--n` held-out scenes with `--objects` objects of the evaluation's own sequence (`evaluate_t2i`: seed
2024, 28 steps, guidance 3.5, scene i drawn with seed i), each with its caption, the drawing and the parser's
verdict: what "exact" means, four objects at a time.
"""
import argparse
import random
import sys
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
from icedit_lib import miniature as mini, registry, shapesworld as sw  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("model_dir")
    p.add_argument("out")
    p.add_argument("--objects", type=int, default=4)
    p.add_argument("--n", type=int, default=8)
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    pipe, _ = registry.load_t2i_pipeline(args.model_dir, device="cpu")
    rng = random.Random(2024)
    scenes = [(i, s) for i, s in enumerate(sw.random_scene(rng, split="eval") for _ in range(64))
              if len(s.objects) == args.objects][: args.n]
    fig, axes = plt.subplots(1, len(scenes), figsize=(2.4 * len(scenes), 3.6), squeeze=False)
    exact = 0
    for ax, (i, scene) in zip(axes[0], scenes):
        caption = sw.describe_scene(scene).capitalize() + "."
        image = pipe(caption, height=64, width=64, num_inference_steps=28, guidance_scale=3.5,
                     max_sequence_length=mini.T5_MAX_LENGTH, generator=torch.Generator("cpu").manual_seed(i)).images[0]
        ok = sw.read_scene(image).exact == scene
        exact += ok
        ax.imshow(image)
        ax.set_title("exact" if ok else "differs", color="green" if ok else "red", fontsize=9)
        ax.set_xlabel("\n".join(textwrap.wrap(caption, 30)), fontsize=6)
        ax.set_xticks([]), ax.set_yticks([])
    fig.suptitle(f"{Path(args.model_dir).name}: held-out {args.objects}-object captions, {exact} of {len(scenes)} exact")
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    print(f"{exact} of {len(scenes)} exact -> {args.out}")


if __name__ == "__main__":
    main()
