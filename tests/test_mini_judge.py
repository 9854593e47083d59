"""The miniature judge: forward shapes, labels from the parser, a few steps of learning, save / load."""
import random
from dataclasses import asdict

import torch

from icedit_lib import shapesworld as sw
from icedit_lib.mini_judge import CANDIDATE_KINDS, MiniJudge, judge_loss, synthetic_candidate


def fit(loss_fn, parameters, steps: int, lr: float = 3e-3) -> list[float]:
    """AdamW on the trainable `parameters` for `steps` steps of `loss_fn()`; the losses."""
    opt = torch.optim.AdamW([q for q in parameters if q.requires_grad], lr=lr)
    losses = []
    for _ in range(steps):
        loss = loss_fn()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def test_candidates_are_labelled_by_the_parser():
    rng = random.Random(0)
    pair = sw.random_pair(rng, kind="recolor", split="train")
    labels = {kind: synthetic_candidate(pair, kind, rng)[1] for kind in CANDIDATE_KINDS}
    assert labels["correct"] == 1.0 and labels["copy"] == 0.0 and labels["wrong_edit"] == 0.0


def test_judge_learns_copy_versus_correct_and_roundtrips(tmp_path, judge_model):
    torch.manual_seed(0)
    model, tokenizer = judge_model(width=32)
    judge = MiniJudge(model, tokenizer)
    before = {k: v.clone() for k, v in model.text_encoder.state_dict().items()}
    rng = random.Random(1)
    pairs = [sw.random_pair(rng, split="train") for _ in range(8)]
    batch = []
    for p in pairs:
        for kind in ("correct", "copy"):
            img, label = synthetic_candidate(p, kind, rng)
            batch.append((sw.render(p.source), img, p.instruction, label))
    losses = fit(lambda: judge_loss(model, judge, batch), model.parameters(), steps=60)
    assert losses[-1] < 0.5 * losses[0]
    model.eval()
    p = pairs[0]
    assert judge.prefer(sw.render(p.source), sw.render(p.target), sw.render(p.source), p.instruction) > 0.5
    judge.save(tmp_path / "judge")
    again = MiniJudge.load(tmp_path / "judge")
    a = judge.success_probability(sw.render(p.source), [sw.render(p.target)], p.instruction)
    b = again.success_probability(sw.render(p.source), [sw.render(p.target)], p.instruction)
    assert abs(a[0] - b[0]) < 1e-6
    assert all(torch.equal(v, before[k]) for k, v in model.text_encoder.state_dict().items())  # the T5 stays frozen


def test_scene_reader_learns_to_name_cells_and_a_first_design_judge_is_refused(tmp_path):
    import json

    import pytest

    from icedit_lib.corpus import to_tensor
    from icedit_lib.mini_judge import SceneReader, cell_windows, reader_example, reader_labels, reader_loss

    assert cell_windows(torch.zeros(2, 3, 64, 64)).shape == (2, 9, 3, 22, 22)
    rng = random.Random(0)
    scene = sw.random_scene(rng, n_objects=2, split="train")
    labels = reader_labels(scene)
    assert sum(s > 0 for s in labels["shape"]) == 2 and labels["color"].count(-100) == 7
    torch.manual_seed(0)
    reader = SceneReader(width=32)
    examples = [reader_example(rng) for _ in range(16)]
    images = to_tensor([e[0] for e in examples])
    batch = {k: torch.tensor([e[1][k] for e in examples]) for k in examples[0][1]}
    losses = fit(lambda: reader_loss(reader, images, batch), reader.parameters(), steps=40, lr=2e-3)
    assert losses[-1] < 0.5 * losses[0]
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "mini_judge.json").write_text(json.dumps({"vocab_size": 8, "width": 16}))
    (tmp_path / "old" / "model.safetensors").write_bytes(b"")
    with pytest.raises(ValueError, match="first design"):
        MiniJudge.load(tmp_path / "old")


def test_train_judge_script_smoke_and_registry(mini_env, tmp_path, monkeypatch):
    """The real script for a few steps on the tiny miniature: pool chunks, a saved judge, a card; a rerun resumes."""
    from icedit_lib import registry, train_judge
    from icedit_lib.mini_judge import MiniJudge

    out, work = tmp_path / "judge", tmp_path / "work"
    argv = ["--output-dir", str(out), "--work-dir", str(work), "--pool-pairs", "2", "--eval-pairs", "2",
            "--pool-seeds", "2", "--chunk", "1", "--edit-steps", "3", "--preview-at", "1", "2", "--steps", "3",
            "--batch-size", "4", "--width", "16", "--layers", "1", "--device", "cpu", "--ranking-pairs", "2",
            "--reader-steps", "2", "--reader-width", "16",
            "--synthetic-kinds", "correct", "copy", "partial", "local_smear", "--vae-roundtrip", "0.5",
            "--synthetic-ranking", "2"]
    record = train_judge.main(argv)
    assert sorted(p.name for p in (work / "pool").iterdir()) == [
        "eval_00000.safetensors", "eval_00001.safetensors", "train_00000.safetensors", "train_00001.safetensors"]
    pool = train_judge.load_pool(work / "pool", "train")
    assert len(pool["instructions"]) == 2 * 2 * 3  # pairs x seeds x (final + 2 previews)
    assert sorted(set(pool["preview_step"].tolist())) == [0, 1, 2]
    assert len(train_judge.load_pool(work / "pool", "train", n_pairs=1)["instructions"]) == 2 * 3  # first pair only
    assert 0.0 <= record["evaluation"]["synthetic_agreement"] <= 1.0
    assert (out / "README.md").exists() and (out / "model.safetensors").exists()
    card = (out / "README.md").read_text()
    assert "--synthetic-kinds correct copy partial local_smear --vae-roundtrip 0.5" in card
    assert "50% of them passed through the VAE" in card and "2 synthetic (correct, failed)" in card
    assert 0.0 <= record["evaluation"]["reader"] <= 1.0 and "scene reader: 2 steps" in card
    again = train_judge.main(argv + ["--steps", "4"])  # resumes at step 3, reuses the pool
    assert again["steps"] == 4
    monkeypatch.setenv("ICEDIT_MODEL_MINI_JUDGE", str(out))
    assert isinstance(registry.load_judge("mini-judge", device="cpu"), MiniJudge)
    assert isinstance(registry.load_judge(str(out), device="cpu"), MiniJudge)


def test_ranking_pairs_pair_seeds_of_one_edit_and_preview_step():
    """A better and a worse seed of the same edit at the same preview step; never across edits or steps."""
    from icedit_lib import train_judge

    rows = [(0, 1, 1), (0, 1, 0), (0, 0, 1), (1, 1, 0), (1, 1, 0), (2, 4, 1), (2, 4, 0), (2, 4, 0)]  # pair, step, label
    pool = {"pair": torch.tensor([r[0] for r in rows]), "preview_step": torch.tensor([r[1] for r in rows]),
            "label": torch.tensor([r[2] for r in rows]),
            "source": torch.zeros(len(rows), 64, 64, 3, dtype=torch.uint8),
            "candidate": torch.stack([torch.full((64, 64, 3), i, dtype=torch.uint8) for i in range(len(rows))]),
            "instructions": [f"edit {r[0]}" for r in rows]}
    groups = train_judge.ranking_groups(pool)
    assert sorted(groups) == [([0], [1]), ([5], [6, 7])]
    args = train_judge.parse_args(["--ranking-pairs", "6"])
    batch = train_judge.ranking_batch(pool, groups, args, step=3)
    assert batch == train_judge.ranking_batch(pool, groups, args, step=3) and len(batch) == 6  # exact resume
    for _, better, worse, instruction in batch:
        g, b = better.getpixel((0, 0))[0], worse.getpixel((0, 0))[0]
        assert rows[g][2] == 1 and rows[b][2] == 0 and rows[g][:2] == rows[b][:2]
        assert instruction == f"edit {rows[g][0]}"


def test_ranking_loss_rewards_the_better_candidate_and_the_card_names_the_option(tmp_path, judge_model):
    import math

    from PIL import Image

    from icedit_lib import train_judge
    from icedit_lib.mini_judge import MiniJudge, ranking_loss

    def brightness(source, candidate, ids, mask):  # a stand-in model: the brighter candidate scores higher
        return 10 * candidate.mean(dim=(1, 2, 3))

    judge = MiniJudge(*judge_model())
    dark, light = Image.new("RGB", (64, 64), (0, 0, 0)), Image.new("RGB", (64, 64), (255, 255, 255))
    right = ranking_loss(brightness, judge, [(dark, light, dark, "make it white")]).item()
    wrong = ranking_loss(brightness, judge, [(dark, dark, light, "make it white")]).item()
    assert right < math.log(2) < wrong and math.isclose(right + 20, wrong, rel_tol=1e-4)  # softplus(-20), softplus(20)
    record = {"args": asdict(train_judge.parse_args(["--ranking-pairs", "8", "--steps", "100"])), "steps": 100,
              "wall_s": 60, "device": "cpu", "threads": 1,
              "evaluation": {"synthetic_agreement": 0.5, "pool": {}}}
    train_judge.write_card(tmp_path, record)
    card = (tmp_path / "README.md").read_text()
    assert "--steps 100 --ranking-pairs 8`" in card and "8 (better, worse) seeds of one edit" in card


def test_local_failures_change_only_the_edited_region():
    """'partial' and 'local_smear' degrade the target where it differs from the source and nowhere else."""
    import numpy as np

    from icedit_lib.mini_judge import LOCAL_KINDS

    rng = random.Random(3)
    for _ in range(10):
        pair = sw.random_pair(rng, kind="recolor", split="train")
        source, target = (np.asarray(sw.render(s), np.int16) for s in (pair.source, pair.target))
        far = np.ones(source.shape[:2], bool)  # pixels more than 2 away from any change
        changed = np.argwhere(np.any(source != target, axis=-1))
        for y, x in changed:
            far[max(0, y - 2): y + 3, max(0, x - 2): x + 3] = False
        for kind in LOCAL_KINDS:
            image, label = synthetic_candidate(pair, kind, rng)
            out = np.asarray(image, np.int16)
            assert (out[far] == target[far]).all()
            assert np.abs(out - target).sum() > 0 and label == float(sw.read_scene(image).exact == pair.target)


def test_synthetic_ranking_pairs_a_correct_and_a_failed_candidate_of_one_edit():
    from icedit_lib import train_judge

    args = train_judge.parse_args(["--synthetic-ranking", "8", "--synthetic-kinds", "correct", "copy", "partial"])
    batch = train_judge.synthetic_ranking_batch(args, step=5)
    assert batch and batch == train_judge.synthetic_ranking_batch(args, step=5)  # exact resume
    for source, better, worse, instruction in batch:
        assert sw.read_scene(better).exact is not None and sw.read_scene(worse).exact != sw.read_scene(better).exact
        assert sw.read_scene(source).exact != sw.read_scene(better).exact and instruction


def test_synthetic_kinds_are_checked():
    import pytest

    from icedit_lib import train_judge

    with pytest.raises(SystemExit):
        train_judge.parse_args(["--synthetic-kinds", "correct", "melted"])
    with pytest.raises(SystemExit):
        train_judge.parse_args(["--vae-roundtrip", "1.5"])


def test_oracle_reference_ranks_candidates_by_the_target():
    """Rows of pool edit 0: the target's render (succeeded) against the source (failed), and the reverse labels."""
    import numpy as np

    from icedit_lib import train_judge

    pair = train_judge.pool_pair(0, "eval", 0)
    target, source = (torch.from_numpy(np.array(sw.render(s), np.uint8)) for s in (pair.target, pair.source))
    pool = {"pair": torch.tensor([0, 0, 0, 0]), "preview_step": torch.tensor([0, 0, 4, 4]),
            "label": torch.tensor([1.0, 0.0, 0.0, 1.0]), "source": torch.stack([source] * 4),
            "candidate": torch.stack([target, source, target, source]), "instructions": [pair.instruction] * 4}
    out = train_judge.oracle_agreement(pool, 0, "eval")
    assert out == {"final": {"agreement": 1.0, "pairs": 1}, "step_4": {"agreement": 0.0, "pairs": 1}}
