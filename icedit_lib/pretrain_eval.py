"""Evaluating the miniature FLUX's pretraining with the ShapesWorld parser.

    icedit eval-pretrained --part vae|t2i|fill --out-dir outputs/eval_vae [--n 64]

All scenes come from the held-out split, so none was seen in training. Each run writes
`metrics.json` and the images it scored (`images/`, file names ending `_ok` or `_fail`).
- vae: share of panels (alone, and as halves of diptychs) whose reconstruction parses
  back to the scene; PSNR.
- t2i: share of generations that parse exactly to the scene of their caption, and
  accuracy per attribute (background, style, occupied cells, and shape / color / size
  of the objects in the right cells).
- fill: given a diptych whose left half is a scene, right half masked, and a caption,
  share whose right half parses to what the caption describes: the copy ("exactly the
  same") and the one-change variant (declarative caption of the change).
"""
from __future__ import annotations

import json
import math
import random
from contextlib import contextmanager, nullcontext
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from . import miniature as mini
from . import shapesworld as sw
from .checkpoints import atomic_write_text
from .corpus import to_pil, to_tensor

PARTS = ("vae", "t2i", "t2i-diptych", "fill")


def _save(image, image_dir: Path | None, name: str, ok: bool) -> None:
    if image_dir is not None:
        image_dir.mkdir(parents=True, exist_ok=True)
        image.save(image_dir / f"{name}_{'ok' if ok else 'fail'}.png")


@torch.no_grad()
def evaluate_vae(vae, n_panels: int = 400, seed: int = 12345, device="cpu", image_dir: Path | None = None) -> dict:
    """Reconstructions (posterior mean) parsed back: held-out single panels, and both halves of
    held-out edit diptychs (source | target), the images the pipelines encode; PSNR in dB."""
    was_training = vae.training
    vae.eval()
    rng = random.Random(seed)
    hits = {"panel": 0, "diptych": 0}
    sq_err, count = 0.0, 0
    failures = []
    for start in range(0, n_panels, 16):
        n = min(16, n_panels - start)
        scenes = [sw.random_scene(rng, split="eval") for _ in range(n)]
        pairs = [sw.random_pair(rng, split="eval") for _ in range(n)]
        panels = to_tensor([sw.render(s) for s in scenes]).to(device)
        diptychs = to_tensor([sw.render_diptych(p.source, p.target) for p in pairs]).to(device)
        rec_p, rec_d = [vae.decode(vae.encode(x).latent_dist.mode()).sample for x in (panels, diptychs)]
        for k, (img, scene) in enumerate(zip(to_pil(rec_p), scenes)):
            ok = sw.read_scene(img).exact == scene
            hits["panel"] += ok
            _save(img, image_dir, f"panel_{start + k:04d}", ok)
            if not ok and len(failures) < 8:
                failures.append(sw.scene_key(scene))
        for k, (img, p) in enumerate(zip(to_pil(rec_d), pairs)):
            ok = [sw.read_scene(img.crop((0, 0, 64, 64))).exact == p.source,
                  sw.read_scene(img.crop((64, 0, 128, 64))).exact == p.target]
            hits["diptych"] += sum(ok)
            _save(img, image_dir, f"diptych_{start + k:04d}", all(ok))
        for rec, ref in ((rec_p, panels), (rec_d, diptychs)):
            sq_err += F.mse_loss((rec.clamp(-1, 1) + 1) / 2, (ref + 1) / 2, reduction="sum").item()
            count += ref.numel()
    vae.train(was_training)
    return {"exact_panels": hits["panel"] / n_panels, "exact_diptych_halves": hits["diptych"] / (2 * n_panels),
            "exact_all": (hits["panel"] + hits["diptych"]) / (3 * n_panels),
            "psnr_db": 10 * math.log10(1.0 / (sq_err / count)), "n_panels": n_panels, "seed": seed,
            "failed_scenes": failures}


@torch.no_grad()
def evaluate_t2i(pipe, n: int = 64, seed: int = 2024, steps: int = 28, image_dir: Path | None = None) -> dict:
    """Generate a panel from each held-out scene's caption (the project's caption function) and parse it."""
    rng = random.Random(seed)
    scenes = [sw.random_scene(rng, split="eval") for _ in range(n)]
    hits = {k: 0 for k in ("exact", "background", "style", "cells", "shape", "color", "size")}
    by_count = {k: [0, 0] for k in range(1, sw.MAX_OBJECTS + 1)}  # objects in the scene -> [exact, scenes]
    n_obj = 0
    for i, scene in enumerate(scenes):
        img = pipe(sw.describe_scene(scene).capitalize() + ".", height=64, width=64, num_inference_steps=steps,
                   guidance_scale=3.5, max_sequence_length=mini.T5_MAX_LENGTH,
                   generator=torch.Generator("cpu").manual_seed(i)).images[0]
        reading = sw.read_scene(img)
        ok = reading.exact == scene
        hits["exact"] += ok
        by_count[len(scene.objects)][0] += ok
        by_count[len(scene.objects)][1] += 1
        _save(img, image_dir, f"{i:04d}", ok)
        n_obj += len(scene.objects)
        got = reading.scene
        if got is None:
            continue
        hits["background"] += got.background == scene.background
        hits["style"] += got.style == scene.style
        hits["cells"] += {o.cell for o in got.objects} == {o.cell for o in scene.objects}
        for o in scene.objects:
            g = got.object_at(o.cell)
            if g is not None:
                hits["shape"] += g.shape == o.shape
                hits["color"] += g.color == o.color
                hits["size"] += g.size == o.size
    out = {f"t2i_{k}": hits[k] / n for k in ("exact", "background", "style", "cells")}
    out.update({f"t2i_{k}": hits[k] / max(1, n_obj) for k in ("shape", "color", "size")})
    out["t2i_exact_by_objects"] = {str(k): round(e / c, 4) if c else None for k, (e, c) in by_count.items()}
    return out | {"n": n, "seed": seed, "steps": steps}


def evaluate_t2i_diptychs(pipe, n: int = 64, seed: int = 2026, steps: int = 28, max_objects: int = 2,
                          image_dir: Path | None = None) -> dict:
    """Ask the T2I for held-out one-change diptychs by their descriptive caption, the left scene described, and parse
    both halves. The inversion framework (notebook 03) asks the same model for the right half of such a diptych
    with the left imposed, so this is its ceiling. Scenes of at most `max_objects` objects: the T2I saw the left
    described only for those (`pretrain_flux.describe_left`), and longer captions outgrow the 80 T5 tokens."""
    rng = random.Random(seed)
    pairs = []
    while len(pairs) < n:
        pair = sw.random_pair(rng, split="eval")
        if len(pair.source.objects) <= max_objects:
            pairs.append(pair)
    hits = {k: 0 for k in ("left", "right", "both")}
    per_type = {}
    for i, pair in enumerate(pairs):
        img = pipe(sw.diptych_caption(pair.source, pair.edit, describe_left=True), height=64, width=128,
                   num_inference_steps=steps, guidance_scale=3.5, max_sequence_length=mini.T5_MAX_LENGTH,
                   generator=torch.Generator("cpu").manual_seed(i)).images[0]
        left = sw.read_scene(img.crop((0, 0, 64, 64))).exact == pair.source
        right = sw.read_scene(img.crop((64, 0, 128, 64))).exact == pair.target
        hits["left"] += left
        hits["right"] += right
        hits["both"] += left and right
        per_type.setdefault(pair.edit.kind, []).append(left and right)
        _save(img, image_dir, f"{i:04d}_{pair.edit.kind}", left and right)
    out = {f"t2i_diptych_{k}": v / n for k, v in hits.items()}
    out["t2i_diptych_both_per_type"] = {k: round(sum(v) / len(v), 4) for k, v in sorted(per_type.items())}
    return out | {"n": n, "seed": seed, "steps": steps, "max_objects": max_objects}


@contextmanager
def pooled_vector_of(pipe, caption: str):
    """Within the block, every prompt `pipe` encodes keeps its own T5 tokens but gets the pooled
    CLIP vector of `caption`: a probe of which text path carries what (see `evaluate_fill`)."""
    encode = pipe.encode_prompt

    def encode_with_other_pooled(prompt, prompt_2=None, **kw):
        tokens, pooled, text_ids = encode(prompt, prompt_2, **kw)
        other = encode(caption, None, **kw)[1]
        return tokens, other.expand_as(pooled), text_ids

    pipe.encode_prompt = encode_with_other_pooled
    try:
        yield pipe
    finally:
        del pipe.encode_prompt  # the instance attribute goes; the class method is back


@torch.no_grad()
def evaluate_fill(pipe, n: int = 64, seed: int = 2025, steps: int = 28, image_dir: Path | None = None,
                  pooled_from_copy: bool = False) -> dict:
    """Held-out diptychs, right half masked: the copy and the one-change caption, parsed.

    `pooled_from_copy=True` is a probe: the one-change caption's T5 tokens go in as usual, but the
    pooled CLIP vector is the copy caption's. A model that reads the change from the T5 tokens still
    edits; one that reads it from the pooled vector copies (`fill_unchanged` counts those).

    `fill_kept_objects`: of the source objects a change leaves alone, the share the right half
    reproduces exactly, whatever happened to the changed one: the copy skill where it matters."""
    from .editor import ICEditor

    editor = ICEditor(pipe, panel_width=sw.PANEL, max_sequence_length=mini.T5_MAX_LENGTH)
    rng = random.Random(seed)
    copy_ok = change_ok = unchanged = kept = to_keep = 0
    per_type: dict[str, list[int]] = {}
    verdicts = []  # one per pair, for an edit-by-edit comparison of two runs (`paired_fill`)
    for i in range(n):
        pair = sw.random_pair(rng, split="eval")
        source = sw.render(pair.source)
        copy_caption = sw.diptych_caption(pair.source, None)
        for caption, target, name in ((copy_caption, pair.source, "copy"),
                                      (sw.diptych_caption(pair.source, pair.edit), pair.target, pair.edit.kind)):
            if name == "copy" and pooled_from_copy:
                continue
            # the caption is the whole prompt: "direct" mode, no IC template around it
            with pooled_vector_of(pipe, copy_caption) if pooled_from_copy else nullcontext():
                result = editor.edit(source, caption, seed=i, steps=steps, guidance=30.0, prompt_mode="direct")
            parsed = sw.read_scene(result.image)
            reading = parsed.exact
            ok = reading == target
            _save(result.diptych, image_dir, f"{i:04d}_{name}", ok)
            if name == "copy":
                copy_ok += ok
            else:
                change_ok += ok
                unchanged += reading == pair.source
                per_type.setdefault(name, []).append(int(ok))
                verdicts.append({"id": i, "kind": name, "success": ok, "unchanged": reading == pair.source})
                left_alone = [o for o in pair.source.objects if o in pair.target.objects]
                to_keep += len(left_alone)
                kept += sum(o in parsed.scene.objects for o in left_alone) if parsed.scene else 0
    out = {"fill_one_change": change_ok / n, "fill_unchanged": unchanged / n,
           "fill_kept_objects": kept / max(1, to_keep),
           "fill_one_change_per_type": {k: float(np.mean(v)) for k, v in sorted(per_type.items())},
           "n": n, "seed": seed, "steps": steps, "pairs": verdicts}
    return out | ({"pooled_from_copy": True} if pooled_from_copy else {"fill_copy": copy_ok / n})


def paired_fill(metrics_a: dict, metrics_b: dict) -> dict:
    """Two Fill evaluations of the same held-out pairs, pair by pair: the one-change edits only A, or
    only B, gets right and the exact sign-test p-value on them. Between two checkpoints a few points
    apart at 64 pairs, this says whether the difference is more than the pairs' luck."""
    from .evaluation import discordant_sign_test

    same = ("n", "seed", "steps")
    if any("pairs" not in m for m in (metrics_a, metrics_b)):
        raise ValueError("paired_fill: both runs need per-pair verdicts ('pairs'): rerun the older one")
    if any(metrics_a[k] != metrics_b[k] for k in same):
        raise ValueError("paired_fill: the runs scored different pairs: " + ", ".join(
            f"{k} {metrics_a[k]} vs {metrics_b[k]}" for k in same if metrics_a[k] != metrics_b[k]))
    only_a, only_b, p = discordant_sign_test([(a["success"], b["success"])
                                              for a, b in zip(metrics_a["pairs"], metrics_b["pairs"])])
    return {"n": len(metrics_a["pairs"]), "success_a": metrics_a["fill_one_change"],
            "success_b": metrics_b["fill_one_change"], "only_a": only_a, "only_b": only_b, "p_success": p}


def check_record(record: str | Path, part: str, n: int, steps: int) -> None:
    """The training record `run(..., into_record=...)` will rewrite: it must exist, be the same part's,
    and have been evaluated on the same number of held-out items and steps, so the numbers compare."""
    path = Path(record)
    if not path.is_file():
        raise ValueError(f"--into-record: {record} does not exist")
    rec = json.loads(path.read_text())
    if rec.get("stage") != part:
        raise ValueError(f"--into-record: {record} records the {rec.get('stage')!r} stage, not {part!r}")
    old = rec.get("evaluation") or {}
    if (old.get("n"), old.get("steps")) != (n, steps):
        raise ValueError(f"--into-record: {record} was evaluated with n={old.get('n')}, steps={old.get('steps')}; "
                         f"rerun with those (asked: n={n}, steps={steps})")


def write_into_record(record: str | Path, metrics: dict, reason: str) -> None:
    """Replace a training record's evaluation, keeping the one it replaces (`reevaluations`): the
    weights did not change, a shared part did (the VAE's decoder decodes every sample). The record is
    read here, after the evaluation, so nothing written to it meanwhile is lost."""
    rec = json.loads(Path(record).read_text())
    rec.setdefault("reevaluations", []).append({"reason": reason, "evaluation_before": rec.get("evaluation")})
    rec["evaluation"] = metrics
    atomic_write_text(Path(record), json.dumps(rec, indent=2))


def run(part: str, out_dir: str | Path, n: int = 64, base: str = "mini", device: str = "auto",
        pooled_from_copy: bool = False, steps: int = 28, paired_with: str | Path | None = None,
        into_record: str | Path | None = None, reason: str = "") -> dict:
    """Evaluate one part of a shipped miniature; write metrics.json and the scored images.
    `steps` (sampling steps of the T2I and Fill parts) tells a model that needs a finer ODE
    solve from one whose prediction itself is wrong: only the first improves with more steps.
    `paired_with` (fill): the folder of an earlier run on the same pairs (another checkpoint), compared
    with this one pair by pair (`paired_fill`, this run as A) under the key "paired_with".
    `into_record` (t2i, fill): a training record (`training_fill.json`) whose evaluation these
    metrics replace, `reason` saying why (`write_into_record`)."""
    from . import registry

    if into_record is not None:  # checked before the long evaluation, so a wrong file fails at once
        if part == "vae" or pooled_from_copy:
            raise ValueError("--into-record takes the plain t2i or fill evaluation")
        if not reason:
            raise ValueError("--into-record needs --reason (why the unchanged weights are evaluated again)")
        check_record(into_record, part, n, steps)
    earlier = None
    if paired_with is not None:  # read before the long evaluation, so a wrong folder fails at once
        if part != "fill":
            raise ValueError("--paired-with compares Fill runs only")
        earlier_path = Path(paired_with) / "metrics.json"
        if not earlier_path.is_file():
            raise ValueError(f"--paired-with: no metrics.json in {paired_with}")
        earlier = json.loads(earlier_path.read_text())
    out = Path(out_dir)
    images = out / "images"
    for verdict in ("ok", "fail"):  # a rerun's verdicts replace the last run's (glob of a missing dir is empty)
        for stale in images.glob(f"*_{verdict}.png"):
            stale.unlink()
    if part == "vae":
        pipe, _ = registry.load_fill_pipeline(base, device=device)
        metrics = evaluate_vae(pipe.vae, n_panels=n, device=pipe.device, image_dir=images)
    elif part == "t2i":
        pipe, _ = registry.load_t2i_pipeline(base if base != "mini" else "mini-t2i", device=device)
        metrics = evaluate_t2i(pipe, n=n, steps=steps, image_dir=images)
    elif part == "t2i-diptych":
        pipe, _ = registry.load_t2i_pipeline(base if base != "mini" else "mini-t2i", device=device)
        metrics = evaluate_t2i_diptychs(pipe, n=n, steps=steps, image_dir=images)
    elif part == "fill":
        pipe, _ = registry.load_fill_pipeline(base, device=device)
        metrics = evaluate_fill(pipe, n=n, steps=steps, image_dir=images, pooled_from_copy=pooled_from_copy)
    else:
        raise ValueError(f"part must be one of {PARTS}, got {part!r}")
    if earlier is not None:
        metrics["paired_with"] = {"run": str(paired_with), **paired_fill(metrics, earlier)}
    atomic_write_text(out / "metrics.json", json.dumps({"part": part, "base": base, **metrics}, indent=2))
    if into_record is not None:
        write_into_record(into_record, metrics, reason)
    return metrics
