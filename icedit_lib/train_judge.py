"""Train the miniature judge (`mini-judge`) for early-filter scaling (paper section 3.3).

    python -m icedit_lib.train_judge --base mini --output-dir data/models/mini_judge

Three phases, each resumable after a kill (`mini_judge` describes the model):
1. **The scene reader** (`--reader-steps`): the judge's vision tower, pretrained to name what each
   cell of a panel holds on renders of random training scenes (some smeared, faded or noisy).
2. **Candidates of the editor** (`--work-dir/pool/`): edit pairs run through the miniature editor
   with several seeds; for every seed the x0 previews after m steps (m in `--preview-at`) and the
   finished panel are kept, each labelled by whether that seed's *finished* edit succeeds (what the
   judge must predict from an early preview). The held-out pool (`--eval-pairs`) measures the judge;
   a training pool (`--pool-pairs`, none by default) can join the training batches. Chunks of pairs
   are written atomically; a restart skips the chunks already there.
3. **The judge**: the reader and the base's T5 frozen, the joining transformer trained with binary
   cross-entropy on synthetic candidates (`mini_judge.synthetic_candidate`: correct renders,
   unedited copies, wrong edits, over-edits, blurs, noise, half-made and locally smeared edits),
   mixed with pool candidates when there is a training pool, AdamW, state every few minutes.
   With `--ranking-pairs N`, also N pairs of seeds of one pool edit (one succeeded, one failed) per
   step with a ranking loss; `--synthetic-ranking N` adds N (correct, failed) candidates of one
   synthetic edit; `--vae-roundtrip P` gives synthetic candidates the VAE's texture.

Evaluation (written to `training.json` and the model card): the reader's share of held-out scenes
named right in every cell, and on held-out pairs the share of candidate pairs with different parser
labels where the judge prefers the successful one, per preview step. The parser makes the labels;
the judge only ever sees pixels and text.
"""
from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from safetensors.torch import load_file, save_file
from tqdm.auto import tqdm

from . import shapesworld as sw
from .checkpoints import TrainingRun, atomic_path, atomic_write_text, step_rng
from .config import command_line, option, parse_config
from .corpus import to_pil, to_tensor
from .judge import seed_pair_agreement
from .mini_judge import (CANDIDATE_KINDS, LOCAL_KINDS, MiniJudge, ShapesJudgeModel, judge_loss, reader_accuracy,
                         reader_example, reader_loss, synthetic_candidate)
from .schedule import warmup_times_cosine

FINAL = 0  # the preview step recorded for finished candidates


@dataclass
class JudgeConfig:
    """The judge run's options (the command line is built from these fields: `config.parse_config`)."""
    base: str = option("mini", "the editor whose candidates the judge learns from")
    adapter: str = option("none")
    output_dir: str = option("data/models/mini_judge")
    work_dir: str = option("checkpoints/judge")
    reader_steps: int = option(2000, "pretraining steps of the scene reader (the vision tower)")
    reader_width: int = option(96)
    pool_pairs: int = option(0, "training edit pairs run through the editor (their candidates join the batches)")
    eval_pairs: int = option(96, "held-out edit pairs for the agreement numbers")
    pool_seeds: int = option(4)
    chunk: int = option(16, "pairs per pool file")
    preview_at: list[int] = field(default_factory=lambda: [1, 2, 4, 6, 10],
                                  metadata={"help": "the denoising steps whose x0 previews the pool records"})
    edit_steps: int = option(28)
    steps: int = option(2000, "optimisation steps of the judge")
    batch_size: int = option(32)
    synthetic_fraction: float = option(0.5, "with a training pool: the share of each batch that is synthetic")
    ranking_pairs: int = option(0, "per step, also this many (better, worse) seeds of one pool edit at one preview "
                                   "step, with a ranking loss: the judge is used to compare seeds of one edit")
    synthetic_kinds: list[str] = field(default_factory=lambda: list(CANDIDATE_KINDS + LOCAL_KINDS), metadata={
        "help": f"synthetic candidate kinds, from {', '.join(CANDIDATE_KINDS + LOCAL_KINDS)}"})
    vae_roundtrip: float = option(0.0, "probability that a synthetic candidate is passed through the base's VAE, so "
                                       "that clean renders do not give correct edits away (its label is re-read by "
                                       "the parser)")
    synthetic_ranking: int = option(0, "per step, also this many (correct, failed) synthetic candidates of one edit "
                                       "with the ranking loss: unlimited comparisons within one edit")
    lr: float = option(1e-3)
    width: int = option(96)
    layers: int = option(2)
    seed: int = option(0)
    checkpoint_minutes: float = option(5.0)
    threads: int = option(0)
    device: str = option("auto")

    def __post_init__(self):
        unknown = set(self.synthetic_kinds) - set(CANDIDATE_KINDS + LOCAL_KINDS)
        if unknown or not self.synthetic_kinds:
            raise ValueError(f"--synthetic-kinds: unknown or no kinds {sorted(unknown)}; "
                             f"choose from {', '.join(CANDIDATE_KINDS + LOCAL_KINDS)}")
        if not 0.0 <= self.vae_roundtrip <= 1.0:
            raise ValueError("--vae-roundtrip is a probability in [0, 1]")


def parse_args(argv=None) -> JudgeConfig:
    return parse_config(JudgeConfig, argv, description=__doc__.split("\n")[0])


# --------------------------------------------------------------------------- phase 1: the pool
def _u8(images: list[Image.Image]) -> torch.Tensor:
    return torch.from_numpy(np.stack([np.asarray(im.convert("RGB"), np.uint8) for im in images]))


def pool_chunk(editor, split: str, first: int, count: int, config: JudgeConfig) -> tuple[dict, dict]:
    """Candidates of `count` edit pairs (numbered from `first`) of `split`: tensors + metadata."""
    sources, candidates, labels, steps, instructions, pair_ids = [], [], [], [], [], []
    for index in range(first, first + count):
        rng = random.Random(f"{config.seed}-{split}-{index}")
        pair = sw.random_pair(rng, split=split)  # what pool_pair() regenerates; this rng then draws the seeds
        source = sw.render(pair.source)
        seeds = [rng.randrange(2 ** 31) for _ in range(config.pool_seeds)]
        finals, previews = editor.edit_with_previews(source, pair.instruction, seeds, steps=config.edit_steps,
                                                     preview_at=config.preview_at)
        success = [float(sw.read_scene(r.image).exact == pair.target) for r in finals]
        for m, images in [(FINAL, [r.image for r in finals])] + sorted(previews.items()):
            for image, label in zip(images, success):
                sources.append(source)
                candidates.append(image)
                labels.append(label)
                steps.append(m)
                instructions.append(pair.instruction)
                pair_ids.append(index)
    tensors = {"source": _u8(sources), "candidate": _u8(candidates), "label": torch.tensor(labels),
               "preview_step": torch.tensor(steps), "pair": torch.tensor(pair_ids)}
    return tensors, {"instructions": json.dumps(instructions)}


def build_pool(config: JudgeConfig, split: str, n_pairs: int) -> Path:
    """Write the pool of `split` chunk by chunk (skipping chunks a killed run already wrote)."""
    from .editor import ICEditor

    folder = Path(config.work_dir) / "pool"
    todo = [first for first in range(0, n_pairs, config.chunk)
            if not (folder / f"{split}_{first:05d}.safetensors").exists()]
    if todo:
        editor = ICEditor.from_registry(config.base, adapter=config.adapter, device=config.device, fuse_adapter=True)
        editor.pipe.set_progress_bar_config(disable=True)
        for first in tqdm(todo, desc=f"candidates ({split})", unit="chunk"):
            tensors, meta = pool_chunk(editor, split, first, min(config.chunk, n_pairs - first), config)
            with atomic_path(folder / f"{split}_{first:05d}.safetensors") as tmp:
                save_file(tensors, str(tmp), metadata=meta)
    return folder


def load_pool(folder: Path, split: str, n_pairs: int | None = None) -> dict:
    """The chunks of `split` (those of its first `n_pairs` pairs, when given) concatenated."""
    from safetensors import safe_open

    parts, instructions = [], []
    for f in sorted(folder.glob(f"{split}_*.safetensors")):
        if n_pairs is not None and int(f.stem.split("_")[1]) >= n_pairs:
            continue
        parts.append(load_file(str(f)))
        with safe_open(str(f), "pt") as handle:
            instructions += json.loads(handle.metadata()["instructions"])
    if not parts:
        return {"instructions": []}
    pool = {k: torch.cat([p[k] for p in parts]) for k in parts[0]}
    pool["instructions"] = instructions
    return pool


# --------------------------------------------------------------------------- phase 2: training
def _pil(u8: torch.Tensor) -> Image.Image:
    return Image.fromarray(u8.numpy())


class VAERoundTrip:
    """Encode and decode panels with the base's VAE: synthetic candidates then carry the
    texture every real candidate has (a judge must not learn "a clean render is correct")."""

    def __init__(self, base: str, device: str = "cpu"):
        from diffusers import AutoencoderKL

        from .registry import model_folder

        self.vae = AutoencoderKL.from_pretrained(model_folder(base) / "vae",
                                                 use_safetensors=True).to(device).eval()
        self.device = device

    @torch.no_grad()
    def __call__(self, images: list[Image.Image]) -> list[Image.Image]:
        if not images:
            return []
        x = to_tensor(images).to(self.device)
        return to_pil(self.vae.decode(self.vae.encode(x).latent_dist.mode()).sample)


def _maybe_roundtrip(candidates: list[tuple[Image.Image, float]], targets: list[sw.Scene], rng: random.Random,
                     config: JudgeConfig, roundtrip) -> tuple[list[Image.Image], list[float]]:
    """Round-trip each (image, label) with probability --vae-roundtrip; a round-tripped image's label
    is re-read by the parser, the others keep theirs."""
    images, labels = [im for im, _ in candidates], [label for _, label in candidates]
    chosen = [i for i in range(len(images)) if roundtrip is not None and rng.random() < config.vae_roundtrip]
    if chosen:
        for i, image in zip(chosen, roundtrip([images[i] for i in chosen])):
            images[i] = image
            labels[i] = float(sw.read_scene(image).exact == targets[i])
    return images, labels


def training_batch(pool: dict, config: JudgeConfig, step: int, roundtrip=None) -> list[tuple]:
    """(source, candidate, instruction, label) tuples, a function of (seed, step) for exact resume."""
    rng, _ = step_rng(config.seed, step)
    batch, pairs, synthetic = [], [], []
    n_pool = len(pool["instructions"])
    for _ in range(config.batch_size):
        if n_pool and rng.random() >= config.synthetic_fraction:
            i = rng.randrange(n_pool)
            batch.append((_pil(pool["source"][i]), _pil(pool["candidate"][i]), pool["instructions"][i],
                          float(pool["label"][i])))
        else:
            pair = sw.random_pair(rng, split="train")
            pairs.append(pair)
            synthetic.append(synthetic_candidate(pair, rng.choice(config.synthetic_kinds), rng))
    images, labels = _maybe_roundtrip(synthetic, [p.target for p in pairs], rng, config, roundtrip)
    return batch + [(sw.render(p.source), im, p.instruction, label) for p, im, label in zip(pairs, images, labels)]


def synthetic_ranking_batch(config: JudgeConfig, step: int, roundtrip=None) -> list[tuple]:
    """(source, correct, failed, instruction) tuples of one synthetic edit each, for the ranking loss;
    a pair whose labels do not differ after the round trip (a mild blur that still parses, a VAE
    miss) is left out."""
    rng, _ = step_rng(config.seed + 2, step)
    failures = [k for k in config.synthetic_kinds if k != "correct"] or ["copy"]
    pairs = [sw.random_pair(rng, split="train") for _ in range(config.synthetic_ranking)]
    good = [synthetic_candidate(p, "correct", rng) for p in pairs]  # draws nothing from rng
    bad = [synthetic_candidate(p, rng.choice(failures), rng) for p in pairs]
    images, labels = _maybe_roundtrip(good + bad, [p.target for p in pairs] * 2, rng, config, roundtrip)
    n = len(pairs)
    return [(sw.render(p.source), images[i], images[n + i], p.instruction)
            for i, p in enumerate(pairs) if labels[i] == 1.0 and labels[n + i] == 0.0]


def ranking_groups(pool: dict) -> list[tuple[list[int], list[int]]]:
    """(successful rows, failed rows) of each edit and preview step whose seeds' finished labels differ."""
    groups = {}
    for row, (pid, m, label) in enumerate(zip(pool["pair"].tolist(), pool["preview_step"].tolist(),
                                              pool["label"].tolist())):
        groups.setdefault((pid, m), ([], []))[0 if label == 1 else 1].append(row)
    return [g for g in groups.values() if g[0] and g[1]]


def ranking_batch(pool: dict, groups: list, config: JudgeConfig, step: int) -> list[tuple]:
    """(source, better, worse, instruction) tuples, a function of (seed, step) for exact resume."""
    rng, _ = step_rng(config.seed + 1, step)
    batch = []
    for _ in range(config.ranking_pairs if groups else 0):
        good, bad = rng.choice(groups)
        g, b = rng.choice(good), rng.choice(bad)
        batch.append((_pil(pool["source"][g]), _pil(pool["candidate"][g]), _pil(pool["candidate"][b]),
                      pool["instructions"][g]))
    return batch


def pool_pair(seed: int, split: str, index: int) -> sw.EditPair:
    """The edit pair behind a pool row (`pool["pair"]`), regenerated from its seed as `pool_chunk` drew it."""
    return sw.random_pair(random.Random(f"{seed}-{split}-{index}"), split=split)


def _within_edit_agreement(pool: dict, score) -> dict:
    """Per preview step: over candidate pairs of one edit whose finished parser labels differ,
    the share where `score(pair_index, rows)` ranks the successful one higher (ties count half;
    0.5 is chance)."""
    out = {}
    if not pool["instructions"]:
        return out
    for m in sorted(set(pool["preview_step"].tolist())):
        hits = total = 0
        for pid in sorted(set(pool["pair"].tolist())):
            rows = ((pool["pair"] == pid) & (pool["preview_step"] == m)).nonzero().flatten().tolist()
            successes = [pool["label"][r] == 1 for r in rows]
            if all(successes) or not any(successes):
                continue  # no mixed seeds: nothing to rank, and no judge call
            p = score(pid, rows)
            h, t = seed_pair_agreement(successes, lambda g, b: (p[g] > p[b]) + 0.5 * (p[g] == p[b]))
            hits, total = hits + h, total + t
        out["final" if m == FINAL else f"step_{m}"] = {"agreement": hits / total if total else None, "pairs": total}
    return out


def pool_agreement(judge: MiniJudge, pool: dict) -> dict:
    """The judge's within-edit agreement with the parser, per preview step."""
    def score(pid, rows):
        return judge.success_probability(_pil(pool["source"][rows[0]]), [_pil(pool["candidate"][r]) for r in rows],
                                         pool["instructions"][rows[0]])
    return _within_edit_agreement(pool, score)


def oracle_agreement(pool: dict, seed: int, split: str) -> dict:
    """An upper-bound reference, never a judge: the same agreement for `judge.OracleJudge`, which
    knows the target (the parser's reading of the candidate, then its pixel distance to the
    target's render). How much an x0 preview after m steps tells about the finished edit, at best."""
    from .judge import OracleJudge

    oracles = {}

    def score(pid, rows):
        oracle = oracles.setdefault(pid, OracleJudge(pool_pair(seed, split, pid).target))
        return [oracle.quality(_pil(pool["candidate"][r])) for r in rows]
    return _within_edit_agreement(pool, score)


def synthetic_agreement(judge: MiniJudge, n: int = 200, seed: int = 777) -> float:
    """Held-out pairs: the correct edit against a random failure kind; share judged right."""
    rng = random.Random(seed)
    hits = 0
    for _ in range(n):
        pair = sw.random_pair(rng, split="eval")
        bad, label = synthetic_candidate(pair, rng.choice(CANDIDATE_KINDS[1:]), rng)
        if label:  # a blur or noise mild enough to still parse: not a failure
            bad, _ = synthetic_candidate(pair, "copy", rng)
        hits += judge.prefer(sw.render(pair.source), sw.render(pair.target), bad, pair.instruction) > 0.5
    return hits / n


def _config_of(args: dict) -> JudgeConfig:
    """The typed config a record's `args` came from (older records hold tuples or comma lists, and names
    since retired), so that the card quotes the run's command through `config.command_line`."""
    by_name = {f.name: f for f in fields(JudgeConfig)}
    kept = {}
    for name, value in args.items():
        if name not in by_name:
            continue
        kind = str(by_name[name].type)
        if kind.startswith("list") and isinstance(value, (str, tuple)):
            value = value.split(",") if isinstance(value, str) else list(value)
            value = [int(v) for v in value] if kind == "list[int]" else value
        kept[name] = value
    return JudgeConfig(**kept)


def write_card(out: Path, record: dict) -> Path:
    """The judge's model card (README.md), generated from its training record (`model_card.ModelCard`)."""
    from .model_card import ModelCard

    a = record["args"]
    ev = record["evaluation"]

    def rounded(value):
        return value if value is None else round(value, 3)
    bound = ev.get("oracle", {})
    rows = [[k, rounded(v["agreement"]), v["pairs"], rounded(bound[k]["agreement"]) if k in bound else "-"]
            for k, v in ev["pool"].items()]
    return ModelCard(
        "`mini-judge`: the miniature judge for early-filter scaling",
        about="A small vision-language model in `icedit_lib/mini_judge.py`: a scene reader (a CNN over each cell of "
              "a panel, pretrained to name what the cell holds) for source and candidate, the base's T5 encoder "
              "(frozen) for the instruction, and a transformer that joins them into one success logit. It stands "
              "in for Qwen2.5-VL at miniature scale. It is a learned model and errs; the ShapesWorld parser is the "
              "evaluator and only made its training labels.",
        facts=[f"command: `{command_line('icedit_lib.train_judge', _config_of(a))}` (resumable)",
               f"scene reader: {a['reader_steps']} steps on renders of random training scenes (some smeared, faded "
               f"or noisy), batch {a['batch_size']}; it names every cell of "
               f"{ev['reader']:.1%} of held-out scenes right" if "reader" in ev else
               "scene reader: none (a judge of the first design)",
               "candidates: synthetic (" + ", ".join(a["synthetic_kinds"]) + ")" +
               (f", {a['vae_roundtrip']:.0%} of them passed through the VAE" if a.get("vae_roundtrip") else "") +
               (f", and {a['pool_pairs']} training edit pairs x {a['pool_seeds']} seeds from `{a['base']}` + "
                f"`{a['adapter']}` (x0 previews after {', '.join(map(str, a['preview_at']))} of {a['edit_steps']} "
                f"steps and finished panels, labelled by the seed's finished success), "
                f"{1 - a['synthetic_fraction']:.0%} of each batch" if a.get("pool_pairs") else "") +
               (f"; {a['synthetic_ranking']} synthetic (correct, failed) candidates of one edit per step with a "
                "ranking loss" if a.get("synthetic_ranking") else "") +
               (f"; and {a['ranking_pairs']} (better, worse) seeds of one edit per step with a ranking loss"
                if a.get("ranking_pairs") else ""),
               f"training: {record['steps']} steps, batch {a['batch_size']}, AdamW {a['lr']}, "
               f"{record['wall_s'] / 60:.0f} min on {record['device']} with {record['threads']} thread(s)",
               f"held-out agreement with the parser (synthetic correct-vs-failure pairs): "
               f"{ev['synthetic_agreement']:.3f}"],
        sections=[ModelCard(
            "Agreement on the editor's own candidates",
            about="Held-out agreement on the editor's own candidates (pairs of seeds of one edit whose finished "
                  "results differ in success; 0.5 is chance). The last column is a reference, not a judge: the oracle "
                  "that knows the target (`judge.OracleJudge`), how much the candidates tell at best:",
            tables=[(["candidates", "agreement", "pairs", "oracle reference"], rows)])]).write(out)


def base_text_encoder(base: str):
    """The base's T5 encoder and tokenizer (`text_encoder_2`, `tokenizer_2`): the judge's language tower."""
    from transformers import T5EncoderModel, T5TokenizerFast

    from .registry import model_folder

    folder = model_folder(base)
    return (T5EncoderModel.from_pretrained(folder / "text_encoder_2", use_safetensors=True),
            T5TokenizerFast.from_pretrained(folder / "tokenizer_2"))


def train_reader(reader, config: JudgeConfig) -> None:
    """Phase 1: the scene reader on renders of random training scenes (`mini_judge.reader_example`); each
    step's batch is a function of (seed, step), so a resumed run sees the same data."""
    opt = torch.optim.AdamW(reader.parameters(), lr=2e-3, weight_decay=0.01)
    run = TrainingRun(Path(config.work_dir) / "reader", reader, opt, total=config.reader_steps, desc="reader",
                      checkpoint_minutes=config.checkpoint_minutes, log_every=25)
    reader.train()
    while run.step < run.total:
        rng, _ = step_rng(config.seed + 3, run.step)
        examples = [reader_example(rng) for _ in range(config.batch_size)]
        labels = {k: torch.tensor([e[1][k] for e in examples]) for k in examples[0][1]}
        device = next(reader.parameters()).device
        loss = reader_loss(reader, to_tensor([e[0] for e in examples]).to(device),
                           {k: v.to(device) for k, v in labels.items()})
        run.optimizer_step(loss, warmup_times_cosine(run.step, 2e-3, run.total), max_grad_norm=None)
    run.close()
    reader.eval()


def main(argv=None) -> dict:
    config = parse_args(argv)
    if config.threads:
        torch.set_num_threads(config.threads)
    device = ("cuda" if torch.cuda.is_available() else "cpu") if config.device == "auto" else config.device
    folder = build_pool(config, "train", config.pool_pairs)
    build_pool(config, "eval", config.eval_pairs)
    train_pool, eval_pool = load_pool(folder, "train", config.pool_pairs), load_pool(folder, "eval", config.eval_pairs)
    groups = ranking_groups(train_pool) if config.ranking_pairs and train_pool["instructions"] else []

    torch.manual_seed(config.seed)
    text_encoder, tokenizer = base_text_encoder(config.base)
    model = ShapesJudgeModel(text_encoder, reader_width=config.reader_width, width=config.width,
                             layers=config.layers).to(device)
    train_reader(model.reader, config)
    model.reader.requires_grad_(False)  # the vision tower stays as pretrained; the joining model learns to use it
    judge = MiniJudge(model, tokenizer, device)
    roundtrip = VAERoundTrip(config.base, device) if config.vae_roundtrip > 0 else None
    opt = torch.optim.AdamW([q for q in model.parameters() if q.requires_grad], lr=config.lr, weight_decay=0.01)
    run = TrainingRun(config.work_dir, model, opt, total=config.steps, desc="judge", trainable_only=True,
                      checkpoint_minutes=config.checkpoint_minutes, log_every=25)
    model.train()
    while run.step < run.total:
        step = run.step
        rankings = ranking_batch(train_pool, groups, config, step) + synthetic_ranking_batch(config, step, roundtrip)
        loss = judge_loss(model, judge, training_batch(train_pool, config, step, roundtrip), rankings)
        run.optimizer_step(loss, warmup_times_cosine(step, config.lr, run.total), max_grad_norm=None)
    run.close()
    model.eval()
    record = {"steps": run.step, "wall_s": round(run.elapsed, 1), "device": device,
              "threads": torch.get_num_threads(), "args": asdict(config),
              "evaluation": {"synthetic_agreement": synthetic_agreement(judge),
                             "reader": reader_accuracy(model.reader),
                             "pool": pool_agreement(judge, eval_pool),
                             "oracle": oracle_agreement(eval_pool, config.seed, "eval")}}
    out = Path(config.output_dir)
    judge.save(out)
    atomic_write_text(out / "training.json", json.dumps(record, indent=2))
    write_card(out, record)
    return record


if __name__ == "__main__":
    main()
