"""Training scripts run for a few steps on the real code path; resume after a kill is exact."""
import json
import random
import shutil

import numpy as np
import pytest
from PIL import Image

import torch
from safetensors import safe_open
from safetensors.torch import load_file

from icedit_lib import lora_moe, train_vae
from icedit_lib.checkpoints import load_training_state, save_training_state

from .test_editor import final_latents


def test_training_state_roundtrip_without_pickle(tmp_path):
    model = torch.nn.Linear(3, 2)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    model(torch.randn(4, 3)).sum().backward()
    opt.step()
    save_training_state(tmp_path / "s.safetensors", model, opt, step=7, extra={"note": "x"})
    m2 = torch.nn.Linear(3, 2)
    o2 = torch.optim.AdamW(m2.parameters(), lr=1e-2)
    meta = load_training_state(tmp_path / "s.safetensors", m2, o2)
    assert meta["step"] == 7 and meta["extra"]["note"] == "x"
    assert torch.equal(m2.weight, model.weight)
    s1, s2 = opt.state_dict()["state"][0], o2.state_dict()["state"][0]
    assert torch.equal(s1["exp_avg"], s2["exp_avg"]) and float(s1["step"]) == float(s2["step"])


def vae_args(tmp_path, steps, work="work"):
    return ["--steps", str(steps), "--batch-size", "2", "--warmup", "10", "--eval-every", "1000",
            "--eval-panels", "4", "--work-dir", str(tmp_path / work), "--output-dir", str(tmp_path / f"out_{work}"),
            "--threads", "1"]


def test_train_vae_smoke_and_exact_resume(tmp_path):
    record = train_vae.main(vae_args(tmp_path, 2))
    out = tmp_path / "out_work"
    assert (out / "config.json").exists() and (out / "diffusion_pytorch_model.safetensors").exists()
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["latent_channels"] == 16 and cfg["scaling_factor"] > 0
    assert 0 <= record["evaluation"]["exact_all"] <= 1 and record["evaluation"]["psnr_db"] > 0
    from diffusers import AutoencoderKL  # the saved posterior is deterministic: a sample is the mean
    post = AutoencoderKL.from_pretrained(out).encode(torch.rand(1, 3, 64, 128) * 2 - 1).latent_dist
    assert torch.allclose(post.sample(torch.Generator().manual_seed(0)), post.mode(), atol=1e-5)
    # "kill" after 2 steps, resume to 4; compare with 4 uninterrupted steps
    train_vae.main(vae_args(tmp_path, 4))
    train_vae.main(vae_args(tmp_path, 4, work="straight"))
    resumed = load_file(str(tmp_path / "work" / "state.safetensors"))
    straight = load_file(str(tmp_path / "straight" / "state.safetensors"))
    assert resumed.keys() == straight.keys()
    for k in resumed:
        assert torch.equal(resumed[k], straight[k]), k
    assert all(torch.isfinite(v).all() for v in resumed.values() if v.is_floating_point())


def test_decoder_finetuning_keeps_the_encoder_and_its_latent_statistics(tmp_path):
    """--decoder-from: the decoder learns, the encoder (and so every latent a transformer saw) does not."""
    from diffusers import AutoencoderKL

    train_vae.main(vae_args(tmp_path, 2))
    base = tmp_path / "out_work"
    record = train_vae.main(vae_args(tmp_path, 3, work="dec") + ["--decoder-from", str(base), "--lr", "1e-2"])
    old, new = AutoencoderKL.from_pretrained(base), AutoencoderKL.from_pretrained(tmp_path / "out_dec")
    assert (new.config.shift_factor, new.config.scaling_factor) == (old.config.shift_factor, old.config.scaling_factor)
    old_w, new_w = old.state_dict(), new.state_dict()
    changed = {k for k in old_w if not torch.equal(old_w[k], new_w[k])}
    assert changed and all(k.startswith(("decoder.", "post_quant_conv.")) for k in changed)
    assert record["args"]["decoder_from"] == str(base)
    assert record["decoder_from"]["steps"] == 2  # the encoder's own history travels with the record
    assert json.loads((tmp_path / "out_dec" / "training.json").read_text())["decoder_from"]["steps"] == 2
    # fine-tuned in place (--output-dir = --decoder-from), as the shipped VAE: one swap of the whole folder
    in_place = ["--steps", "1", "--batch-size", "2", "--eval-panels", "4", "--work-dir", str(tmp_path / "inplace"),
                "--output-dir", str(base), "--threads", "1", "--decoder-from", str(base)]
    record = train_vae.main(in_place)
    assert record["decoder_from"]["steps"] == 2 and record["steps"] == 1
    assert json.loads((base / "training.json").read_text())["decoder_from"]["steps"] == 2
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("out_work")) == ["out_work"]
    noisy = train_vae.main(vae_args(tmp_path, 2, work="noisy") + ["--decoder-from", str(base), "--prior-channel-noise"])
    assert noisy["args"]["prior_channel_noise"] and torch.isfinite(torch.tensor(noisy["evaluation"]["psnr_db"]))
    with pytest.raises(SystemExit):  # noise in the prior channels is a decoder fine-tuning option
        train_vae.parse_args(["--prior-channel-noise"])
    with pytest.raises(SystemExit, match="holds no AutoencoderKL"):
        train_vae.main(vae_args(tmp_path, 1, work="bad") + ["--decoder-from", str(tmp_path / "missing")])


def test_pretrain_flux_t2i_then_fill_smoke(mini_dir, tmp_path):
    """Both pretraining stages run for a few steps on the real script and export in the layout."""
    import shutil

    from diffusers import FluxTransformer2DModel

    from icedit_lib import pretrain_flux

    model_dir = tmp_path / "mini"
    shutil.copytree(mini_dir, model_dir)
    common = ["--model-dir", str(model_dir), "--batch-size", "2", "--eval-every", "1000", "--eval-n", "1",
              "--threads", "1", "--warmup", "2"]
    rec = pretrain_flux.main(["--stage", "t2i", "--steps", "5", "--stop-at", "1", "--work-dir", str(tmp_path / "t2i")]
                             + common)
    assert rec["step"] == 1  # stopped early, on the schedule of 5 steps
    rec = pretrain_flux.main(["--stage", "t2i", "--steps", "2", "--work-dir", str(tmp_path / "t2i")] + common)
    assert rec["step"] == 2 and 0 <= rec["evaluation"]["t2i_exact"] <= 1
    encoder_file = model_dir / "text_encoder_2" / "model.safetensors"
    encoder_bytes = encoder_file.read_bytes()
    rec = pretrain_flux.main(["--stage", "fill", "--steps", "2", "--p-identical", "0.2", "--changed-weight", "10",
                              "--work-dir", str(tmp_path / "fill")] + common)
    pretrain_flux.main(["--stage", "t2i", "--steps", "2", "--work-dir", str(tmp_path / "t2i_frozen"),
                        "--freeze-text-encoders"] + common)
    assert encoder_file.read_bytes() == encoder_bytes  # frozen encoders are neither trained nor rewritten
    assert rec["step"] == 2 and set(rec["evaluation"]) >= {"fill_copy", "fill_one_change"}
    fill = FluxTransformer2DModel.from_pretrained(model_dir, subfolder="transformer")
    t2i = FluxTransformer2DModel.from_pretrained(model_dir, subfolder="transformer_t2i")
    assert fill.config.in_channels == 192 and t2i.config.in_channels == 64
    state = load_file(str(tmp_path / "fill" / "state.safetensors"))
    assert any(k.startswith("ema.") for k in state) and all(torch.isfinite(v).all() for v in state.values()
                                                           if v.is_floating_point())


def test_widened_fill_starts_as_the_t2i_model():
    from icedit_lib.miniature import build_transformer
    from icedit_lib.pretrain_flux import widen_to_fill

    t2i = build_transformer(fill=False)
    fill = widen_to_fill(t2i)
    assert torch.equal(fill.x_embedder.weight[:, :64], t2i.x_embedder.weight)
    assert fill.x_embedder.weight[:, 64:].abs().sum() == 0
    x = torch.randn(1, 128, 64)
    extra = torch.randn(1, 128, 128)
    assert torch.allclose(fill.x_embedder(torch.cat([x, extra], -1)), t2i.x_embedder(x), atol=1e-6)


def test_pretrain_continues_from_an_export(mini_dir, tmp_path, monkeypatch):
    """A new session's checkout has the exported weights but no optimizer state: training continues from them.
    Periodic exports (--export-every) skip the last step, whose export follows the loop."""
    import shutil

    from diffusers import FluxTransformer2DModel

    from icedit_lib import pretrain_flux

    model_dir = tmp_path / "mini"
    shutil.copytree(mini_dir, model_dir)
    common = ["--stage", "t2i", "--model-dir", str(model_dir), "--batch-size", "2", "--eval-every", "1000",
              "--eval-n", "1", "--threads", "1", "--warmup", "2"]
    exports = []
    export = pretrain_flux.export
    monkeypatch.setattr(pretrain_flux, "export", lambda *a: exports.append(a[-1]["step"]) or export(*a))
    pretrain_flux.main(common + ["--steps", "2", "--work-dir", str(tmp_path / "a"), "--export-every", "1"])
    assert exports == [1, 2]
    exported = FluxTransformer2DModel.from_pretrained(model_dir, subfolder="transformer_t2i").state_dict()
    rec = pretrain_flux.main(common + ["--steps", "3", "--work-dir", str(tmp_path / "b"), "--continue-from-export",
                                       "--compile"])  # compiled training saves the same keys
    assert rec["step"] == 3
    state = load_file(str(tmp_path / "b" / "state.safetensors"))
    diffs = [(state[f"model.transformer.{k}"] - v).abs().max().item() for k, v in exported.items()]
    assert 0 < max(diffs) < 0.01  # one small optimizer step away from the exported weights, not a fresh init


def test_a_fill_continues_from_an_export_with_its_own_architecture(mini_dir, tmp_path):
    """An exported Fill with more blocks than the T2I model widened (grown, say) continues as it was saved."""
    import json
    import shutil

    from diffusers import FluxTransformer2DModel

    from icedit_lib import pretrain_flux

    model_dir = tmp_path / "mini"
    shutil.copytree(mini_dir, model_dir)
    config = dict(FluxTransformer2DModel.load_config(model_dir / "transformer"))
    config["num_single_layers"] += 1
    FluxTransformer2DModel.from_config(config).save_pretrained(model_dir / "transformer")
    (model_dir / "training_fill.json").write_text(json.dumps({"step": 5, "wall_s": 1.0}))
    rec = pretrain_flux.main(["--stage", "fill", "--model-dir", str(model_dir), "--work-dir", str(tmp_path / "w"),
                              "--continue-from-export", "--steps", "6", "--batch-size", "2", "--eval-every", "1000",
                              "--eval-n", "1", "--threads", "1", "--warmup", "1"])
    assert rec["step"] == 6
    state = load_file(str(tmp_path / "w" / "state.safetensors"))
    last = config["num_single_layers"] - 1
    assert f"model.transformer.single_transformer_blocks.{last}.proj_out.weight" in state
    assert "_name_or_path" not in json.loads((model_dir / "transformer" / "config.json").read_text())


def test_fresh_schedule_restarts_the_learning_rate_at_the_export():
    """A late continuation with --fresh-schedule warms up to --lr and decays to a tenth at --steps;
    without it, it takes the tail of the schedule from step 0 (far below --lr)."""
    from icedit_lib.pretrain_flux import learning_rate, parse_args

    fresh = dict(peak=1e-3, warmup=100, total=1500, rewarm_from=1000, fresh_schedule=True)
    assert learning_rate(1000, **fresh) == pytest.approx(1e-5)
    assert learning_rate(1099, **fresh) == pytest.approx(1e-3)
    assert learning_rate(1500, **fresh) == pytest.approx(1e-4)
    tail = learning_rate(1099, 1e-3, 100, 1500)
    assert tail < 0.3e-3  # the old tail: 70% of the way along one cosine from step 0
    assert learning_rate(1049, 1e-3, 100, 1500, rewarm_from=1000) == pytest.approx(
        learning_rate(1049, 1e-3, 100, 1500) / 2)  # that tail, re-warmed over 100 steps after a fresh optimizer
    with pytest.raises(SystemExit):
        parse_args(["--stage", "fill", "--fresh-schedule"])


def test_pretrain_stops_cleanly_after_max_minutes(mini_dir, tmp_path):
    """A time-boxed run (a lent GPU, the end of a session) stops early with its state, export and evaluation."""
    import shutil

    from icedit_lib import pretrain_flux

    model_dir = tmp_path / "mini"
    shutil.copytree(mini_dir, model_dir)
    rec = pretrain_flux.main(["--stage", "t2i", "--model-dir", str(model_dir), "--work-dir", str(tmp_path / "w"),
                              "--batch-size", "2", "--steps", "1000", "--eval-n", "1", "--threads", "1",
                              "--max-minutes", "1e-6"])
    assert rec["step"] == 1 and rec["evaluation"]["n"] == 1
    with safe_open(str(tmp_path / "w" / "state.safetensors"), "pt") as f:
        assert json.loads(f.metadata()["icedit"])["step"] == 1
    assert json.loads((model_dir / "training_t2i.json").read_text())["step"] == 1


def test_eval_pretrained_writes_metrics_and_images(mini_env, tmp_path, capsys):
    from icedit_lib.cli import EXIT_BAD_INPUT, main

    from icedit_lib.pretrain_eval import PARTS

    for part in PARTS:
        assert main(["eval-pretrained", "--part", part, "--out-dir", str(tmp_path / part), "--n", "2"]) == 0
        metrics = json.loads((tmp_path / part / "metrics.json").read_text())
        assert metrics["part"] == part
        assert list((tmp_path / part / "images").glob("*.png"))
    diptychs = json.loads((tmp_path / "t2i-diptych" / "metrics.json").read_text())
    assert diptychs["n"] == 2 and 0 <= diptychs["t2i_diptych_both"] <= diptychs["t2i_diptych_left"] <= 1
    assert main(["eval-pretrained", "--part", "fill", "--out-dir", str(tmp_path / "probe"), "--n", "2",
                 "--pooled-from-copy"]) == 0
    metrics = json.loads((tmp_path / "probe" / "metrics.json").read_text())
    assert metrics["pooled_from_copy"] and 0 <= metrics["fill_unchanged"] <= 1 and "fill_copy" not in metrics
    assert len(list((tmp_path / "probe" / "images").glob("*.png"))) == 2  # the change captions only
    (tmp_path / "probe" / "images" / "0009_move_ok.png").write_bytes(b"a verdict of an earlier, larger run")
    (tmp_path / "probe" / "images" / "notes.txt").write_text("not an evaluation image")
    assert main(["eval-pretrained", "--part", "fill", "--out-dir", str(tmp_path / "probe"), "--n", "2",
                 "--pooled-from-copy"]) == 0  # a rerun leaves only its own verdicts
    assert len(list((tmp_path / "probe" / "images").glob("*.png"))) == 2
    assert (tmp_path / "probe" / "images" / "notes.txt").exists()
    assert main(["eval-pretrained", "--part", "fill", "--out-dir", str(tmp_path / "again"), "--n", "2",
                 "--paired-with", str(tmp_path / "fill")]) == 0  # the same pairs, pair by pair
    paired = json.loads((tmp_path / "again" / "metrics.json").read_text())["paired_with"]
    assert paired["n"] == 2 and paired["only_a"] == paired["only_b"] == 0 and paired["p_success"] == 1.0
    assert main(["eval-pretrained", "--part", "fill", "--out-dir", str(tmp_path / "again"), "--n", "2",
                 "--paired-with", str(tmp_path / "nowhere")]) == EXIT_BAD_INPUT
    assert "no metrics.json" in capsys.readouterr().err
    assert main(["eval-pretrained", "--part", "t2i", "--out-dir", str(tmp_path / "steps"), "--n", "1",
                 "--steps", "3"]) == 0
    assert json.loads((tmp_path / "steps" / "metrics.json").read_text())["steps"] == 3


@pytest.mark.parametrize("behaviour", ["copies", "erases"])
def test_fill_evaluation_counts_the_objects_a_change_leaves_alone(monkeypatch, behaviour):
    """An editor that copies the source keeps every object a change leaves alone (and edits nothing);
    one that erases everything keeps none."""
    from PIL import Image

    from icedit_lib.editor import EditResult, ICEditor
    from icedit_lib.pretrain_eval import evaluate_fill

    def fake_edit(self, image, instruction, seed=0, **kw):
        out = image if behaviour == "copies" else Image.new("RGB", image.size, (245, 245, 245))
        return EditResult(image=out, diptych=out, seed=seed, prompt=instruction)

    monkeypatch.setattr(ICEditor, "edit", fake_edit)
    monkeypatch.setattr(ICEditor, "__init__", lambda self, pipe, **kw: None)
    m = evaluate_fill(pipe=None, n=12)
    if behaviour == "copies":
        assert m["fill_kept_objects"] == 1.0 and m["fill_copy"] == 1.0
        assert m["fill_one_change"] == 0.0 and m["fill_unchanged"] == 1.0
    else:
        assert m["fill_kept_objects"] == 0.0 and m["fill_copy"] == 0.0
    assert [v["id"] for v in m["pairs"]] == list(range(12))
    assert all(v["unchanged"] == (behaviour == "copies") and not v["success"] for v in m["pairs"])


def test_paired_fill_counts_the_pairs_only_one_run_edits(monkeypatch, tmp_path):
    """Run A succeeds exactly where its editor returns the target; B never does: the comparison counts
    A's successes as discordant, and refuses runs of different pairs or without verdicts."""
    from icedit_lib import pretrain_eval
    from icedit_lib import shapesworld as sw
    from icedit_lib.editor import EditResult, ICEditor

    rng = random.Random(2025)  # evaluate_fill's pairs: its default seed, pair i edited with seed i
    pairs = [sw.random_pair(rng, split="eval") for _ in range(10)]

    def target_on_even_pairs(self, image, instruction, seed=0, **kw):
        pair = pairs[seed]
        change = instruction != sw.diptych_caption(pair.source, None)
        out = sw.render(pair.target) if change and seed % 2 == 0 else image
        return EditResult(image=out, diptych=out, seed=seed, prompt=instruction)

    monkeypatch.setattr(ICEditor, "__init__", lambda self, pipe, **kw: None)
    monkeypatch.setattr(ICEditor, "edit", target_on_even_pairs)
    a = pretrain_eval.evaluate_fill(pipe=None, n=10)
    monkeypatch.setattr(ICEditor, "edit", lambda self, image, instruction, seed=0, **kw:
                        EditResult(image=image, diptych=image, seed=seed, prompt=instruction))
    b = pretrain_eval.evaluate_fill(pipe=None, n=10)
    assert a["fill_one_change"] == 0.5 and b["fill_one_change"] == 0.0
    paired = pretrain_eval.paired_fill(a, b)
    assert (paired["only_a"], paired["only_b"], paired["n"]) == (5, 0, 10)
    assert paired["p_success"] == pytest.approx(2 / 2 ** 5)
    with pytest.raises(ValueError, match="different pairs"):
        pretrain_eval.paired_fill(a, b | {"n": 12})
    with pytest.raises(ValueError, match="per-pair verdicts"):
        pretrain_eval.paired_fill(a, {k: v for k, v in b.items() if k != "pairs"})


def test_pooled_probe_swaps_only_the_pooled_vector_and_restores_the_encoder(mini_dir):
    from icedit_lib import registry
    from icedit_lib.miniature import T5_MAX_LENGTH
    from icedit_lib.pretrain_eval import pooled_vector_of

    pipe, _ = registry.load_fill_pipeline(str(mini_dir), device="cpu")
    kw = dict(device="cpu", max_sequence_length=T5_MAX_LENGTH)
    own = pipe.encode_prompt(["A red circle.", "A blue square."], None, **kw)
    other = pipe.encode_prompt("Exactly the same.", None, **kw)
    with pooled_vector_of(pipe, "Exactly the same."):
        probed = pipe.encode_prompt(["A red circle.", "A blue square."], None, **kw)
    assert torch.equal(probed[0], own[0])
    assert all(torch.equal(row, other[1][0]) for row in probed[1]) and not torch.equal(probed[1], own[1])
    assert torch.equal(pipe.encode_prompt(["A red circle.", "A blue square."], None, **kw)[1], own[1])


def test_instruction_routed_moe_trains_and_loads(mini_env, tmp_path):
    from icedit_lib import train
    from icedit_lib.editor import ICEditor

    rec = train.main(["--adapter", "moe", "--router-input", "instruction", "--rank", "4", "--alpha", "4",
                      "--num-experts", "2", "--validate-every", "0", "--threads", "1", "--optimizer", "adamw",
                      "--lr", "1e-3", "--output-dir", str(tmp_path / "a"), "--max-steps", "2"])
    assert rec["steps"] == 2 and "pooled instruction" in (tmp_path / "a" / "README.md").read_text()
    editor = ICEditor.from_registry("mini", adapter=str(tmp_path / "a"), device="cpu")
    routers = {m.router_input for m in lora_moe.moe_modules(editor.pipe.transformer).values()}
    assert routers == {"instruction"}
    assert editor.edit(Image.new("RGB", (64, 64), "white"), "make it red", steps=1).image.size == (64, 64)


@pytest.mark.parametrize("adapter", ["lora", "moe"])
def test_finetune_smoke_resume_and_load(mini_env, tmp_path, adapter):
    """The real script for a few steps; the adapter loads through the registry; resume is exact."""
    from icedit_lib import train
    from icedit_lib.editor import ICEditor

    common = ["--adapter", adapter, "--rank", "4", "--alpha", "4", "--num-experts", "2", "--validate-every", "0",
              "--threads", "1", "--optimizer", "adamw", "--lr", "1e-3"]
    rec = train.main(common + ["--output-dir", str(tmp_path / "a"), "--max-steps", "2"])
    assert rec["steps"] == 2 and rec["trainable_parameters"] > 0
    losses = [json.loads(line)["loss"] for line in (tmp_path / "a" / "loss.jsonl").read_text().splitlines()]
    assert len(losses) == 2 and all(np.isfinite(losses))
    weights = "pytorch_lora_weights.safetensors" if adapter == "lora" else "lora_moe.safetensors"
    assert (tmp_path / "a" / weights).exists()
    editor = ICEditor.from_registry("mini", adapter=str(tmp_path / "a"), device="cpu")
    assert editor.edit(Image.new("RGB", (64, 64), "white"), "make it red", steps=1).image.size == (64, 64)
    # fused (as the CLI loads it): a plain LoRA is merged away, a LoRA-MoE keeps its router; same edits
    fused = ICEditor.from_registry("mini", adapter=str(tmp_path / "a"), device="cpu", fuse_adapter=True)
    lora_layers = [n for n, _ in fused.pipe.transformer.named_modules() if n.endswith("lora_A")]
    assert (not lora_layers) if adapter == "lora" else lora_layers
    source = Image.new("RGB", (64, 64), "white")
    for e in (editor, fused):
        e.pipe.set_progress_bar_config(disable=True)
    a, b = (final_latents(e, source, [3], steps=2) for e in (editor, fused))
    torch.testing.assert_close(b, a, rtol=1e-4, atol=1e-4)
    bare = final_latents(ICEditor.from_registry("mini", adapter="none", device="cpu"), source, [3], steps=2)
    assert not torch.allclose(bare, a, rtol=1e-4, atol=1e-4)  # so the comparison above can fail
    # kill after 2 steps, resume to 4 == 4 uninterrupted steps
    train.main(common + ["--output-dir", str(tmp_path / "a"), "--max-steps", "4"])
    train.main(common + ["--output-dir", str(tmp_path / "b"), "--max-steps", "4"])
    sa = load_file(str(tmp_path / "a" / "checkpoint" / "state.safetensors"))
    sb = load_file(str(tmp_path / "b" / "checkpoint" / "state.safetensors"))
    assert sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)
    assert not any("base" in k and "lora" not in k for k in sa)  # only adapter weights are checkpointed
    log = [json.loads(line) for line in (tmp_path / "a" / "loss.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [1, 2, 3, 4]
    assert [r["loss"] for r in log] == [json.loads(line)["loss"]
                                        for line in (tmp_path / "b" / "loss.jsonl").read_text().splitlines()]
    shutil.rmtree(tmp_path / "b" / "checkpoint")  # a fresh run into the same folder starts a fresh log
    train.main(common + ["--output-dir", str(tmp_path / "b"), "--max-steps", "1"])
    assert len((tmp_path / "b" / "loss.jsonl").read_text().splitlines()) == 1


@pytest.mark.parametrize("adapter", ["lora", "moe"])
def test_finetune_with_text_encoder_adapters(mini_env, tmp_path, adapter):
    """--text-encoder-rank: CLIP and T5 learn too; the saved adapter (a LoRA's CLIP part in the
    stock Flux LoRA file, the rest in transformers' adapter folders) reproduces the trained
    encodings, fused or not; resume is exact."""
    from icedit_lib import train
    from icedit_lib.editor import ICEditor
    from icedit_lib.miniature import T5_MAX_LENGTH

    common = ["--adapter", adapter, "--num-experts", "2", "--rank", "4", "--alpha", "4", "--text-encoder-rank", "4", "--validate-every", "0", "--threads", "1",
              "--optimizer", "adamw", "--lr", "1e-2", "--prompt-dropout", "0"]
    rec = train.main(common + ["--output-dir", str(tmp_path / "a"), "--max-steps", "2"])
    state = load_file(str(tmp_path / "a" / "checkpoint" / "state.safetensors"))
    assert any(k.startswith("model.text_encoder.") for k in state)
    assert any(k.startswith("model.text_encoder_2.") for k in state)
    assert rec["trainable_parameters"] == sum(v.numel() for k, v in state.items() if k.startswith("model."))
    assert (tmp_path / "a" / "text_encoder_2" / "adapter_model.safetensors").exists()
    assert (tmp_path / "a" / "text_encoder").is_dir() == (adapter == "moe")  # a LoRA keeps CLIP's in its file
    prompt = ["A diptych ... but make the red circle blue"]
    kw = dict(device="cpu", max_sequence_length=T5_MAX_LENGTH)
    loaded = ICEditor.from_registry("mini", adapter=str(tmp_path / "a"), device="cpu").pipe
    fused = ICEditor.from_registry("mini", adapter=str(tmp_path / "a"), device="cpu", fuse_adapter=True).pipe
    bare = ICEditor.from_registry("mini", adapter="none", device="cpu").pipe
    encoded = loaded.encode_prompt(prompt, None, **kw)[:2]
    for adapted, merged, base in zip(encoded, fused.encode_prompt(prompt, None, **kw)[:2],
                                     bare.encode_prompt(prompt, None, **kw)[:2]):
        assert not torch.allclose(adapted, base, atol=1e-6)  # both encoders' adapters are applied...
        torch.testing.assert_close(merged, adapted, rtol=1e-4, atol=1e-5)  # ...and survive fusing
    if adapter == "lora":  # scale 0 switches the adapter off in all three models, scale 1 back on
        from icedit_lib.adapters import set_adapter_scale

        name = loaded.get_active_adapters()[0]
        set_adapter_scale(loaded, name, 0.0)
        for off, base in zip(loaded.encode_prompt(prompt, None, **kw)[:2], bare.encode_prompt(prompt, None, **kw)[:2]):
            torch.testing.assert_close(off, base)
        set_adapter_scale(loaded, name, 1.0)
        for on, adapted in zip(loaded.encode_prompt(prompt, None, **kw)[:2], encoded):
            torch.testing.assert_close(on, adapted)
    # the loaded T5 adapter is the trained one, tensor for tensor
    trained = {k.removeprefix("model.text_encoder_2."): v for k, v in state.items()
               if k.startswith("model.text_encoder_2.")}
    from peft.utils import get_peft_model_state_dict

    t5 = get_peft_model_state_dict(loaded.text_encoder_2, adapter_name=next(iter(loaded.text_encoder_2.peft_config)))
    assert len(t5) == len(trained) and all(
        torch.equal(v, trained[k.replace(".weight", ".default.weight")]) for k, v in t5.items())
    # kill after 2 steps, resume to 3 == 3 uninterrupted steps
    train.main(common + ["--output-dir", str(tmp_path / "a"), "--max-steps", "3"])
    train.main(common + ["--output-dir", str(tmp_path / "b"), "--max-steps", "3"])
    sa = load_file(str(tmp_path / "a" / "checkpoint" / "state.safetensors"))
    sb = load_file(str(tmp_path / "b" / "checkpoint" / "state.safetensors"))
    assert sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_finetune_prodigy_two_steps(mini_env, tmp_path):
    from icedit_lib import train

    rec = train.main(["--output-dir", str(tmp_path / "p"), "--max-steps", "2", "--rank", "4", "--alpha", "4",
                      "--validate-every", "0", "--threads", "1", "--loss-region", "right", "--eval-n", "2",
                      "--changed-weight", "10", "--caption-distill", "0.5"])
    assert rec["args"]["optimizer"] == "prodigy" and rec["steps"] == 2
    assert rec["evaluation"]["overall"]["n"] == 2 and (tmp_path / "p" / "evaluation" / "results.json").exists()
    card = (tmp_path / "p" / "README.md").read_text()
    assert "--eval-n 2" in card and "held-out evaluation (2 edits" in card
    assert "changed tokens weighted 10.0" in card
    assert "descriptive caption, weight 0.5" in card


def test_finetune_stops_on_a_non_finite_loss(mini_env, tmp_path, monkeypatch):
    """A diverged run raises before its optimizer step, and writes no adapter with NaN weights."""
    from icedit_lib import train

    real = train.micro_batch_loss
    monkeypatch.setattr(train, "micro_batch_loss", lambda *a, **k: real(*a, **k) * float("nan"))
    with pytest.raises(FloatingPointError, match="diverged.*step 1"):
        train.main(["--output-dir", str(tmp_path / "n"), "--max-steps", "2", "--rank", "4", "--alpha", "4",
                    "--threads", "1", "--eval-n", "0"])
    assert not (tmp_path / "n" / "pytorch_lora_weights.safetensors").exists()
    assert not (tmp_path / "n" / "checkpoint").exists()


def test_two_process_cpu_run(mini_env, tmp_path):
    """accelerate launch on two CPU processes (DDP over gloo): each process trains on its own pairs."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    accelerate = Path(sys.executable).parent / "accelerate"
    env = dict(os.environ, ACCELERATE_USE_CPU="1")
    cmd = [str(accelerate), "launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
           "--mixed_precision", "no", "--dynamo_backend", "no", "-m", "icedit_lib.train",
           "--output-dir", str(tmp_path / "ddp"), "--max-steps", "2", "--rank", "4", "--alpha", "4",
           "--adapter", "moe", "--num-experts", "2", "--validate-every", "0", "--threads", "1"]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    record = json.loads((tmp_path / "ddp" / "training.json").read_text())
    assert record["processes"] == 2 and record["steps"] == 2
    assert (tmp_path / "ddp" / "lora_moe.safetensors").exists()


def test_fine_tuning_experiment_trains_missing_adapters_and_tables_everything(mini_env, tmp_path, monkeypatch):
    from icedit_lib import experiments

    monkeypatch.setenv("ICEDIT_MODEL_MINI_MOE", str(tmp_path / "not_shipped"))
    configs = {"training-free": (None, "ic"), "LoRA-MoE (stand-in)": ("mini-moe", "ic"),
               "LoRA r2, bare": ({"adapter": "lora", "rank": 2, "alpha": 2.0, "prompt": "direct"}, "direct")}
    out = tmp_path / "ft"
    record = experiments.fine_tuning(out, n=2, steps=2, device="cpu", train_steps=2, configurations=configs)
    assert set(record["summaries"]) == set(configs)
    assert (out / "adapters" / "lora_moe__stand_in" / "lora_moe.safetensors").exists()
    assert record["parameters"]["LoRA r2, bare"]["steps"] == 2
    table = (out / "table.md").read_text()
    assert "LoRA r2, bare" in table and "trainable parameters" in table
    mtime = (out / "adapters" / "lora_r2__bare" / "training.json").stat().st_mtime
    experiments.fine_tuning(out, n=2, steps=2, device="cpu", train_steps=2, configurations=configs)
    assert (out / "adapters" / "lora_r2__bare" / "training.json").stat().st_mtime == mtime  # reused, not retrained


def test_fill_mix_of_identical_and_one_change_diptychs():
    import random

    from icedit_lib.pretrain_flux import fill_example

    def changed(p):
        return [" but " in fill_example(random.Random(i), "right", p)[2] for i in range(40)]

    assert not any(changed(1.0)) and all(changed(0.0))
    assert 0 < sum(changed(0.5)) < 40


def test_fill_kinds_choose_the_examples_each_step_makes(mini_dir, monkeypatch):
    from icedit_lib import pretrain_flux, registry

    pipe, _ = registry.load_fill_pipeline(str(mini_dir), device="cpu")
    made = []
    real = pretrain_flux.fill_example
    monkeypatch.setattr(pretrain_flux, "fill_example", lambda rng, kind, p: made.append(kind) or real(rng, kind, p))

    def kinds(*flags):
        made.clear()
        args = pretrain_flux.parse_args(["--stage", "fill", "--batch-size", "2", *flags])
        for step in range(4):
            assert torch.isfinite(pretrain_flux.training_loss(pipe, args, step, "cpu"))
        return made[::2]  # one kind per step, for each of its 2 examples

    assert kinds() == ["right"] * 4
    assert kinds("--fill-kinds", "right,right,rect_diptych,rect_panel") == ["right", "right", "rect_diptych", "rect_panel"]
    assert kinds("--fill-kinds", "right,rect_panel") == ["right", "rect_panel"] * 2
    with pytest.raises(SystemExit):
        pretrain_flux.parse_args(["--stage", "fill", "--fill-kinds", "right,everything"])


def test_t2i_kinds_choose_panels_or_diptychs_and_p_identical_their_changes():
    from icedit_lib import pretrain_flux

    def captions(*flags, step):
        return pretrain_flux.step_examples(pretrain_flux.parse_args(["--stage", "t2i", "--batch-size", "8", *flags]),
                                           step)["captions"]

    def is_diptych(caption):
        return caption.startswith(pretrain_flux.sw.DIPTYCH_PREFIX)

    assert not any(map(is_diptych, captions(step=0))) and all(map(is_diptych, captions(step=1)))  # the default cycle
    changed = captions("--t2i-kinds", "diptych", "--p-identical", "0", step=0)
    assert all(map(is_diptych, changed)) and all(" but " in c for c in changed)
    assert not any(" but " in c for c in captions("--t2i-kinds", "diptych", "--p-identical", "1", step=2))
    with pytest.raises(SystemExit):
        pretrain_flux.parse_args(["--stage", "t2i", "--t2i-kinds", "panel,collage"])


def test_changed_tokens_mark_only_the_change_on_the_right():
    import random

    import torch

    from icedit_lib import shapesworld as sw
    from icedit_lib.corpus import to_tensor
    from icedit_lib.diptych import changed_tokens

    pair = sw.random_pair(random.Random(3))
    same = to_tensor([sw.render_diptych(pair.source, pair.source)])
    edited = to_tensor([sw.render_diptych(pair.source, pair.target)])
    assert changed_tokens(same, 128).sum() == 0
    grid = changed_tokens(edited, 128).view(8, 16)  # packed order: 8 token rows of 16 (left 8 | right 8)
    assert grid[:, :8].sum() == 0 and 0 < grid[:, 8:].sum() < 64
    right = (edited[0, :, :, 64:] - edited[0, :, :, :64]).abs().amax(0) > 0.1
    rows, cols = torch.nonzero(right, as_tuple=True)
    assert grid[rows // 8, 8 + cols // 8].all()  # every differing pixel lies in a marked token
    wide = edited[..., :32, :]  # panels of another aspect (64 x 32): the token grid is 4 rows of 16
    assert torch.equal(changed_tokens(wide, 64).view(4, 16), grid[:4])


def test_atomic_writes_leave_readable_results_and_keep_the_old_on_failure(tmp_path):
    """Model folders and records written atomically read like ordinary saved files (mkdtemp and
    mkstemp make them private), and a failed write leaves what was there."""
    import os

    from icedit_lib.checkpoints import atomic_dir, atomic_write_text

    old_mask = os.umask(0o022)
    try:
        with atomic_dir(tmp_path / "model") as tmp:
            (tmp / "weights.txt").write_text("new")
        atomic_write_text(tmp_path / "record.json", "{}")
    finally:
        os.umask(old_mask)
    assert (tmp_path / "model").stat().st_mode & 0o777 == 0o755
    assert (tmp_path / "record.json").stat().st_mode & 0o777 == 0o644
    with pytest.raises(RuntimeError):
        with atomic_dir(tmp_path / "model") as tmp:
            (tmp / "weights.txt").write_text("half")
            raise RuntimeError("killed")
    assert (tmp_path / "model" / "weights.txt").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model", "record.json"]


def test_edge_weighted_reconstruction_loss():
    """Weight 0 is the plain MSE + L1; a weight moves the loss towards the errors at color edges."""
    import torch.nn.functional as F

    image = -torch.ones(1, 3, 6, 6)
    image[..., 2:4, 2:4] = 1.0  # a 2 x 2 square: its 4 pixels and their 8 outer neighbours are edges
    assert int(train_vae.edge_mask(image).sum()) == 12
    rec = image.clone()
    rec[..., 0, 0] += 0.5  # an error far from the edge
    plain = train_vae.reconstruction_loss(rec, image)
    assert torch.isclose(plain, F.mse_loss(rec, image) + F.l1_loss(rec, image))
    assert train_vae.reconstruction_loss(rec, image, edge_weight=10.0) < plain
    rec = image.clone()
    rec[..., 2, 2] -= 0.5  # the same error on an edge
    assert train_vae.reconstruction_loss(rec, image, edge_weight=10.0) > plain


def test_vae_kind_weights_make_the_cycle_of_batch_kinds():
    assert train_vae.parse_args([]).kind_cycle == ["panel", "diptych", "masked"]  # the shipped VAE's cycle
    assert train_vae.parse_args(["--kind-weights", "1,2,1"]).kind_cycle == ["panel", "diptych", "diptych", "masked"]
    for bad in ("1,2", "0,0,0", "a,b,c", "1,-1,1"):
        with pytest.raises(SystemExit):
            train_vae.parse_args(["--kind-weights", bad])


def test_eval_pretrained_into_record_replaces_the_evaluation_and_keeps_the_old_one(mini_env, tmp_path, capsys):
    """After a decoder change the transformers' records are evaluated again, on the same items."""
    from icedit_lib.cli import EXIT_BAD_INPUT, main

    record = tmp_path / "training_fill.json"
    old = {"fill_one_change": 0.5, "n": 2, "steps": 2}
    record.write_text(json.dumps({"stage": "fill", "step": 7, "evaluation": old, "args": {"steps": 7}}))
    base = ["eval-pretrained", "--part", "fill", "--out-dir", str(tmp_path / "fill"), "--steps", "2"]
    assert main(base + ["--n", "2", "--into-record", str(record)]) == EXIT_BAD_INPUT
    assert "needs --reason" in capsys.readouterr().err
    assert main(base + ["--n", "3", "--into-record", str(record), "--reason", "new decoder"]) == EXIT_BAD_INPUT
    assert "evaluated with n=2, steps=2" in capsys.readouterr().err
    assert main(["eval-pretrained", "--part", "t2i", "--out-dir", str(tmp_path / "t2i"), "--n", "2", "--steps", "2",
                 "--into-record", str(record), "--reason", "new decoder"]) == EXIT_BAD_INPUT
    assert "records the 'fill' stage" in capsys.readouterr().err
    assert json.loads(record.read_text())["evaluation"] == old  # nothing written on bad input
    assert main(base + ["--n", "2", "--into-record", str(record), "--reason", "new decoder"]) == 0
    rec = json.loads(record.read_text())
    assert rec["step"] == 7
    metrics = json.loads((tmp_path / "fill" / "metrics.json").read_text())
    assert rec["evaluation"]["fill_one_change"] == metrics["fill_one_change"] and rec["evaluation"]["n"] == 2
    assert rec["reevaluations"] == [{"reason": "new decoder", "evaluation_before": old}]


def test_prior_channels_are_the_ones_the_encoder_keeps_constant():
    """A stand-in encoder: channel 0 follows the image, channel 1 is constant, channel 2 nearly so."""
    from types import SimpleNamespace

    class Encoder:
        def encode(self, images):
            mean = images.mean(1, keepdim=True)[..., ::4, ::4]
            mode = torch.cat([mean, torch.zeros_like(mean), 0.01 * mean], dim=1)
            return SimpleNamespace(latent_dist=SimpleNamespace(mode=lambda: mode))

    assert train_vae.prior_channels(Encoder(), n_batches=2).tolist() == [False, True, True]


def test_trim_step_log_keeps_the_steps_a_run_starts_from(tmp_path):
    from icedit_lib.checkpoints import trim_step_log

    log = tmp_path / "loss.jsonl"
    log.write_text("".join(json.dumps({"step": s, "loss": 0.1}) + "\n" for s in (1, 2, 3, 4)))
    trim_step_log(log, 2)  # resumed from a state saved at step 2: steps 3 and 4 will be redone
    assert [json.loads(line)["step"] for line in log.read_text().splitlines()] == [1, 2]
    trim_step_log(log, 0)  # a fresh start
    assert log.read_text() == ""
    trim_step_log(tmp_path / "missing.jsonl", 0)  # nothing to trim


@pytest.mark.parametrize("adapter", ["lora", "moe"])
def test_adapters_off_gives_the_base_model_and_restores_the_adapters(mini_env, adapter):
    """The caption teacher of `--caption-distill` is the base as pretrained: with every adapter of the
    transformer and both encoders off the outputs are the bare model's, and after it the adapted ones."""
    from icedit_lib import registry, train

    args = train.parse_args(["--output-dir", "unused", "--adapter", adapter, "--num-experts", "2", "--rank", "4",
                             "--alpha", "4", "--text-encoder-rank", "4"])
    pipe, entry = registry.load_fill_pipeline("mini", device="cpu")
    torch.manual_seed(0)

    def run():
        embeds, pooled, ids = pipe.encode_prompt(["a red circle"], None, device="cpu",
                                                 max_sequence_length=entry.max_sequence_length)
        x = torch.randn(1, 8, pipe.transformer.config.in_channels, generator=torch.Generator().manual_seed(1))
        img_ids = torch.zeros(8, 3)
        img_ids[:, 2] = torch.arange(8)
        return pipe.transformer(hidden_states=x, timestep=torch.tensor([0.5]), guidance=torch.tensor([1.0]),
                                pooled_projections=pooled, encoder_hidden_states=embeds, txt_ids=ids,
                                img_ids=img_ids, return_dict=False)[0]

    with torch.no_grad():
        bare = run()
        train.add_adapter(pipe.transformer, args)
        train.add_text_encoder_lora(pipe, args.text_encoder_rank)
        for name, p in [*pipe.transformer.named_parameters(), *pipe.text_encoder.named_parameters(),
                        *pipe.text_encoder_2.named_parameters()]:
            if "lora_B" in name:  # trained adapters: B is no longer zero
                p.normal_(std=0.5)
        adapted = run()
        with train.adapters_off(pipe, pipe.transformer):
            torch.testing.assert_close(run(), bare)
        torch.testing.assert_close(run(), adapted)
    assert not torch.allclose(adapted, bare, atol=1e-4)


def test_caption_distill_with_the_caption_as_prompt_and_an_untrained_adapter_has_zero_loss(mini_env):
    """Full distillation (weight 1) asks the adapted model for the base's velocity from the caption.
    An adapter at its start (B = 0) is the base, so prompted with the caption itself it has nothing to
    learn: the loss is exactly zero. With the instruction as its prompt it has."""
    from icedit_lib import registry, train
    from icedit_lib.edit_pairs import shapesworld_pair

    pipe, entry = registry.load_fill_pipeline("mini", device="cpu")
    pair = shapesworld_pair(0)
    common = ["--output-dir", "unused", "--rank", "4", "--alpha", "4", "--text-encoder-rank", "4",
              "--prompt-dropout", "0", "--caption-distill", "1"]
    args = train.parse_args(common + ["--prompt", "direct"])
    train.add_adapter(pipe.transformer, args)
    train.add_text_encoder_lora(pipe, args.text_encoder_rank)

    def loss(a, p):
        return train.micro_batch_loss(pipe, pipe.transformer, a, [p], torch.Generator().manual_seed(0),
                                      random.Random(0), entry.panel_width, entry.max_sequence_length,
                                      torch.device("cpu")).item()

    assert loss(args, {**pair, "instruction": pair["caption"]}) == 0.0
    assert loss(args, pair) > 0.0
    with pytest.raises(SystemExit):
        train.parse_args(common[:-1] + ["1.5"])
    with pytest.raises(SystemExit):
        train.parse_args(common + ["--data", "magicbrush:x.parquet"])
