"""Early-filter inference-time scaling (paper section 3.3), and the baselines it is measured against.

Early filter: draw M seeds, run all of them for m of the n steps in one batched call,
let a judge compare their x0 previews, and finish only the winner from step m. The paper
counts M m + n function evaluations (NFE), restarting the winner from noise; here the
winner resumes on the very schedule it stopped on (`ICEditor.resume`, exact), so the cost
is M m + (n - m).

Baselines, each returning the same record:
- `single`: one seed, n steps (NFE n);
- `random_of_m`: a random one of M seeds, finished (NFE n: only the chosen seed is run);
- `best_of_m`: all M seeds to the end, the judge picks among finished images (NFE M n),
  the paper's "full steps" row.

Measuring them all on a suite (`seed_bank`, `replay_strategies`): every edit runs once with the largest M in one
batched call that keeps the x0 previews after each m (`ICEditor.edit_with_previews`); each strategy is then
replayed on that seed bank. This is exact for early filter: the previews are those of a stopped run, and the
winner's final image is that of the resumed run (tested equal; a batch of M rounds at 1e-4 differently from a
batch of 1). NFE follows each strategy's own accounting.
"""
from __future__ import annotations

import random
import time
from dataclasses import dataclass, field

from PIL import Image
from tqdm.auto import tqdm

from .diptych import FILL_GUIDANCE
from .editor import ICEditor
from .judge import PairwiseJudge, seed_pair_agreement, select


@dataclass
class ScalingResult:
    image: Image.Image
    seed: int
    nfe: int  # transformer evaluations per image (a batch of M counts M)
    wall_s: float
    comparisons: int = 0
    candidates: list[Image.Image] = field(default_factory=list)  # previews (early filter) or finals (best-of-M)
    chosen: int = 0


def seeds_for(base_seed: int, num_seeds: int) -> list[int]:
    return [base_seed + k for k in range(num_seeds)]


def single(editor: ICEditor, image, instruction, seed=0, steps=28, guidance=FILL_GUIDANCE, prompt_mode="ic") -> ScalingResult:
    t = time.perf_counter()
    out = editor.edit(image, instruction, seed=seed, steps=steps, guidance=guidance, prompt_mode=prompt_mode)
    return ScalingResult(out.image, seed, steps, time.perf_counter() - t)


def random_of_m(editor: ICEditor, image, instruction, num_seeds=6, seed=0, steps=28, guidance=FILL_GUIDANCE,
                prompt_mode="ic", rng: random.Random | None = None) -> ScalingResult:
    pick = (rng or random.Random(seed)).randrange(num_seeds)
    res = single(editor, image, instruction, seeds_for(seed, num_seeds)[pick], steps, guidance, prompt_mode)
    res.chosen = pick
    return res


def best_of_m(editor: ICEditor, judge: PairwiseJudge, image, instruction, num_seeds=6, seed=0, steps=28,
              guidance=FILL_GUIDANCE, prompt_mode="ic", strategy="sequential") -> ScalingResult:
    t = time.perf_counter()
    seeds = seeds_for(seed, num_seeds)
    finals = editor.edit_seeds(image, instruction, seeds, steps, guidance, prompt_mode)
    sel = select(judge, image, [f.image for f in finals], instruction, strategy)
    return ScalingResult(finals[sel.index].image, seeds[sel.index], num_seeds * steps, time.perf_counter() - t,
                         sel.comparisons, [f.image for f in finals], sel.index)


def early_filter(editor: ICEditor, judge: PairwiseJudge, image, instruction, num_seeds=6, filter_steps=4, seed=0,
                 steps=28, guidance=FILL_GUIDANCE, prompt_mode="ic", strategy="sequential") -> ScalingResult:
    """M seeds x m steps (batched) -> judge the x0 previews -> resume the winner to n steps."""
    t = time.perf_counter()
    seeds = seeds_for(seed, num_seeds)
    previews = editor.preview(image, instruction, seeds, steps=steps, preview_steps=filter_steps, guidance=guidance,
                              prompt_mode=prompt_mode)
    sel = select(judge, image, previews.images, instruction, strategy)
    final = editor.resume(previews, sel.index)
    return ScalingResult(final.image, seeds[sel.index], num_seeds * filter_steps + steps - filter_steps,
                         time.perf_counter() - t, sel.comparisons, previews.images, sel.index)


class ScalingEditor:
    """An editor with `edit(...)` like ICEditor's that spends M seeds per edit: early filter
    when 0 < filter_steps < steps, best-of-M on finished images otherwise. Keeps the NFE and
    wall time of every edit in `history`."""

    def __init__(self, editor: ICEditor, judge: PairwiseJudge, num_seeds: int, filter_steps: int = 0,
                 strategy: str = "sequential"):
        if num_seeds < 2:
            raise ValueError("scaling needs at least 2 seeds")
        self.editor, self.judge, self.num_seeds = editor, judge, num_seeds
        self.filter_steps, self.strategy = filter_steps, strategy
        self.history: list[ScalingResult] = []

    def edit(self, image, instruction, seed=0, steps=28, guidance=FILL_GUIDANCE, prompt_mode="ic") -> ScalingResult:
        if 0 < self.filter_steps < steps:
            res = early_filter(self.editor, self.judge, image, instruction, self.num_seeds, self.filter_steps, seed,
                               steps, guidance, prompt_mode, self.strategy)
        else:
            res = best_of_m(self.editor, self.judge, image, instruction, self.num_seeds, seed, steps, guidance,
                            prompt_mode, self.strategy)
        self.history.append(res)
        return res


# --------------------------------------------------------------------------- a suite's seed bank, replayed
def seed_bank(editor, rows: list[dict], num_seeds: int, filter_steps: tuple[int, ...], steps: int, seed: int = 0):
    """For every suite row: the finished panels of `num_seeds` seeds, their parser success,
    and the x0 previews after each of `filter_steps` steps (one batched call per row)."""
    from . import shapesworld as sw
    from .images import load_image

    bank = []
    for row in tqdm(rows, desc="seed bank", unit="edit"):
        source = load_image(row["image_path"])
        finals, previews = editor.edit_with_previews(source, row["instruction"], seeds_for(seed, num_seeds), steps,
                                                     preview_at=filter_steps)
        success = [bool(sw.score_edit(f.image, row["source"], row["target"], row["edit_type"]).success)
                   for f in finals]
        bank.append({"row": row, "source": source, "finals": [f.image for f in finals], "previews": previews,
                     "success": success})
    return bank


def replay_strategies(bank: list[dict], judge, sizes: tuple[int, ...], filter_steps: tuple[int, ...], steps: int,
                      strategy: str = "sequential", seed: int = 0, oracle=None, verifiers: dict | None = None
                      ) -> list[dict]:
    """Success and NFE of every strategy on the seed bank (module docstring). With `oracle`
    (suite row -> a judge that knows the row's target), also the early filter with that oracle
    reading the previews: the most any judge of previews after m steps could reach. `verifiers`
    ({label: suite row -> judge}, e.g. a `ClipJudge` of the row's output caption) add their own
    "best of M, finished (label)" and "early filter (label)" rows beside the judge's."""
    per_row = {label: [make(b["row"]) for b in bank] for label, make in (verifiers or {}).items()}
    rng = random.Random(seed)
    n = len(bank)
    rows = [{"method": "single seed", "M": 1, "m": None, "nfe": steps,
             "success": sum(b["success"][0] for b in bank) / n}]
    for size in sizes:
        picks = {"random of M": [b["success"][rng.randrange(size)] for b in bank],
                 "best of M, finished (judge)": [
                     b["success"][select(judge, b["source"], b["finals"][:size], b["row"]["instruction"],
                                         strategy).index] for b in bank],
                 "oracle best of M (upper bound)": [any(b["success"][:size]) for b in bank]}
        nfe = {"random of M": steps, "best of M, finished (judge)": size * steps,
               "oracle best of M (upper bound)": size * steps}
        for label, judges in per_row.items():
            picks[f"best of M, finished ({label})"] = [
                b["success"][select(j, b["source"], b["finals"][:size], b["row"]["instruction"], strategy).index]
                for b, j in zip(bank, judges)]
            nfe[f"best of M, finished ({label})"] = size * steps
        for method, hits in picks.items():
            rows.append({"method": method, "M": size, "m": None, "nfe": nfe[method], "success": sum(hits) / n})
        for m in filter_steps:
            hits = [b["success"][select(judge, b["source"], b["previews"][m][:size], b["row"]["instruction"],
                                        strategy).index] for b in bank]
            rows.append({"method": "early filter (judge)", "M": size, "m": m, "nfe": size * m + steps - m,
                         "success": sum(hits) / n})
            if oracle is not None:
                hits = [b["success"][select(oracle(b["row"]), b["source"], b["previews"][m][:size],
                                            b["row"]["instruction"], strategy).index] for b in bank]
                rows.append({"method": "early filter (oracle, upper bound)", "M": size, "m": m,
                             "nfe": size * m + steps - m, "success": sum(hits) / n})
            for label, judges in per_row.items():
                hits = [b["success"][select(j, b["source"], b["previews"][m][:size], b["row"]["instruction"],
                                            strategy).index] for b, j in zip(bank, judges)]
                rows.append({"method": f"early filter ({label})", "M": size, "m": m, "nfe": size * m + steps - m,
                             "success": sum(hits) / n})
    return rows


def judge_accuracy(bank: list[dict], judge, filter_steps: tuple[int, ...]) -> dict:
    """Per preview step (and on finished panels): over pairs of seeds of one edit whose finished
    results differ in success, the share where the judge prefers the successful seed. `edits`
    counts the edits those pairs come from: pairs of one edit are not independent evidence.
    `judge` may also be a function of the suite row (a verifier that reads the row's caption)."""
    out = {}
    mixed = sum(0 < sum(b["success"]) < len(b["success"]) for b in bank)
    judges = [judge(b["row"]) if callable(judge) and not isinstance(judge, PairwiseJudge) else judge for b in bank]
    for m in list(filter_steps) + ["final"]:
        hits = total = 0
        for b, judge in zip(bank, judges):
            images = b["finals"] if m == "final" else b["previews"][m]
            h, t = seed_pair_agreement(b["success"], lambda g, w: judge.prefer(
                b["source"], images[g], images[w], b["row"]["instruction"]) > 0.5)
            hits, total = hits + h, total + t
        out[str(m)] = {"accuracy": hits / total if total else None, "pairs": total, "edits": mixed}
    return out
