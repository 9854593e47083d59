"""Probe (session 21, not shipped): the editor's own flow model as the judge of its previews.

    python lab/2026-11-30_judge_ranking/editor_likelihood.py --adapter toy-moe --n 96 --suite-seed 5005 \
        --out work/editor_likelihood_5005

A candidate panel is scored by how well the editor (the Fill base with the adapter, prompted with
the IC prompt) denoises the diptych (source | candidate): the velocity error on the right half's
tokens, averaged over fixed noise levels and noise draws shared by all candidates of an edit
(common random numbers), lower is better. This is the rectified-flow loss used as a likelihood
surrogate, as diffusion classifiers do; no parser is involved. Beside it, on the same seed bank:
`toy-judge` and the oracle reading the previews (an upper bound that knows the target), with the
functions of `icedit_lib.experiments` that make the scaling tables.
"""
import argparse
import hashlib
import json
from pathlib import Path

import torch
from PIL import Image

from icedit_lib.suites import load_suite
from icedit_lib.corpus import to_tensor
from icedit_lib.editor import ICEditor
from icedit_lib.evaluation import scoring_rows
from icedit_lib.experiments import judge_accuracy, replay_strategies, seed_bank
from icedit_lib.judge import OracleJudge, PairwiseJudge
from icedit_lib.diptych import make_prompt, plan_layout
from icedit_lib.registry import load_judge
from icedit_lib.suites import make_suite


class EditorLikelihoodJudge(PairwiseJudge):
    def __init__(self, editor: ICEditor, times=(0.2, 0.4, 0.6, 0.8), draws=2, guidance=50.0):
        self.editor, self.times, self.draws, self.guidance = editor, times, draws, guidance
        self.cache = {}

    @torch.no_grad()
    def velocity_error(self, source: Image.Image, candidate: Image.Image, instruction: str) -> float:
        key = (hashlib.sha1(source.tobytes()).hexdigest(), hashlib.sha1(candidate.tobytes()).hexdigest(), instruction)
        if key in self.cache:
            return self.cache[key]
        ed, pipe = self.editor, self.editor.pipe
        layout = plan_layout(source.size, ed.panel_width, ed.token_pixels)
        w, h = layout.panel_size
        diptych = Image.new("RGB", (2 * w, h))
        diptych.paste(source.convert("RGB").resize(layout.panel_size), (0, 0))
        diptych.paste(candidate.convert("RGB").resize(layout.panel_size), (w, 0))
        image = to_tensor([diptych])
        _, _, height, width = image.shape
        mask = torch.zeros(1, 1, height, width)
        mask[..., width // 2:] = 1
        x0 = (pipe.vae.encode(image).latent_dist.mode() - pipe.vae.config.shift_factor) * pipe.vae.config.scaling_factor
        c, lh, lw = x0.shape[1:]
        x0 = pipe._pack_latents(x0, 1, c, lh, lw)
        mask_packed, masked = pipe.prepare_mask_latents(mask, image * (1 - mask), 1, c, 1, height, width, image.dtype,
                                                        "cpu", torch.Generator().manual_seed(0))
        img_ids = pipe._prepare_latent_image_ids(1, lh // 2, lw // 2, "cpu", x0.dtype)
        right = img_ids[:, 2] >= (lw // 2) // 2
        embeds, pooled, text_ids = pipe.encode_prompt([make_prompt(instruction, "ic")], None, device="cpu",
                                                      max_sequence_length=ed.max_sequence_length)
        n = len(self.times) * self.draws
        noise = torch.stack([torch.randn(x0.shape[1:], generator=torch.Generator().manual_seed(1000 * k + d))
                             for k in range(len(self.times)) for d in range(self.draws)])
        t = torch.tensor([t for t in self.times for _ in range(self.draws)])
        xt = (1 - t[:, None, None]) * x0 + t[:, None, None] * noise
        v = pipe.transformer(hidden_states=torch.cat([xt, masked.expand(n, -1, -1), mask_packed.expand(n, -1, -1)], -1),
                             timestep=t, guidance=torch.full((n,), self.guidance), pooled_projections=pooled.expand(n, -1),
                             encoder_hidden_states=embeds.expand(n, -1, -1), txt_ids=text_ids, img_ids=img_ids,
                             return_dict=False)[0]
        err = (v - (noise - x0)).pow(2).mean(-1)[:, right].mean().item()
        self.cache[key] = err
        return err

    def p_first(self, source, first, second, instruction) -> float:
        gap = self.velocity_error(source, second, instruction) - self.velocity_error(source, first, instruction)
        return float(torch.sigmoid(torch.tensor(gap / 1e-3)))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--adapter", default="toy-moe")
    p.add_argument("--n", type=int, default=96)
    p.add_argument("--suite-seed", type=int, default=5005)
    p.add_argument("--out", required=True)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    rows = scoring_rows(load_suite(make_suite(out / "suite", n=args.n, seed=args.suite_seed)))
    editor = ICEditor.from_registry("toy", adapter=args.adapter, fuse_adapter=True)
    editor.pipe.set_progress_bar_config(disable=True)
    steps, sizes, filter_steps = 28, (6,), (1, 2, 4, 6, 10)
    bank = seed_bank(editor, rows, 6, filter_steps, steps)
    record = {"args": vars(args)}
    for name, judge in [("toy-judge", load_judge("toy-judge", device="cpu")),
                        ("editor likelihood", EditorLikelihoodJudge(editor))]:
        table = replay_strategies(bank, judge, sizes, filter_steps, steps,
                                  oracle=lambda row: OracleJudge(row["target"]))
        record[name] = {"table": table, "agreement": judge_accuracy(bank, judge, filter_steps)}
        print(name, json.dumps(record[name]["agreement"]))
        print("\n".join(f"{r['method']} M={r['M']} m={r['m']} {r['success']:.3f}" for r in table))
    (out / "results.json").write_text(json.dumps(record, indent=1))


if __name__ == "__main__":
    main()
