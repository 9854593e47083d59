"""The full-size benchmark's smoke run, and the paper's parameter counts from FLUX.1 Fill [dev]'s real shape."""
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import flux_full_scale  # noqa: E402


def test_full_scale_benchmark_runs_at_the_miniature_size():
    rec = flux_full_scale.main(["--size", "mini", "--device", "cpu", "--steps", "2", "--repeats", "1",
                                "--train-steps", "1", "--preview-batch", "2"])
    assert rec["edit"]["steps"] == 2 and rec["previews"]["batch"] == 2 and rec["preview_step_ratio"] > 0
    for adapter in ("lora", "moe"):
        assert rec["training"][adapter]["finite_loss"] and rec["training"][adapter]["trainable_params"] > 0
    assert rec["training"]["moe"]["trainable_params"] > rec["training"]["lora"]["trainable_params"]


@pytest.mark.parametrize("adapter, placement, millions", [
    ("lora", "paper", 116),     # paper 3.2: about 116M trainable parameters (LoRA)
    ("moe", "authors", 214),    # paper 3.2: 214M (MoE), the authors' placement (ff.net.2, single proj_out)
])
def test_the_authors_targets_give_the_papers_parameter_counts(adapter, placement, millions):
    from diffusers import FluxTransformer2DModel

    from icedit_lib import train

    with torch.device("meta"):  # the 12B shape without its memory
        model = FluxTransformer2DModel(**flux_full_scale.FLUX_FILL_DEV)
    assert round(sum(p.numel() for p in model.parameters()) / 1e9, 1) == 11.9  # FLUX.1 Fill [dev]: 11.9B
    train.add_adapter(model, train.parse_args(["--output-dir", "unused", "--adapter", adapter,
                                               "--moe-placement", placement]))
    assert round(sum(p.numel() for p in model.parameters() if p.requires_grad) / 1e6) == millions


def test_pretrain_throughput_benchmark_runs_and_records(tmp_path):
    import json

    import pretrain_throughput

    rec = pretrain_throughput.main(["--threads", "1", "--batch-size", "2", "--data-workers", "0", "1",
                                    "--seconds", "0.3", "--warmup-steps", "1", "--out", str(tmp_path / "t.json")])
    assert len(rec["runs"]) == 2 and all(r["examples_per_s"] > 0 and r["steps"] >= 1 for r in rec["runs"])
    assert all(r["scene_loss"] == 0.02 for r in rec["runs"])  # the Fill recipe's loop, read-out included
    assert json.loads((tmp_path / "t.json").read_text())["target_examples_per_s"] == 20000


def test_flux_recipes_benchmark_smoke(tmp_path):
    """The recipes side by side at the miniature's shape: float8 weights are timed and their error against
    bf16 eager measured; what needs a CUDA GPU (4-bit, the 16 GB preset) is recorded as skipped, with why."""
    import json
    import subprocess

    import flux_recipes

    rec = flux_recipes.main(["--size", "mini", "--device", "cpu", "--steps", "1", "--repeats", "1",
                             "--recipes", "bf16", "fp8-weight", "nf4", "--presets", "80", "16",
                             "--out", str(tmp_path / "r.json")])
    assert set(rec["recipes"]["bf16"]) == set(flux_recipes.grids("mini"))
    for row in rec["recipes"]["fp8-weight"].values():
        assert len(row["relative_error"]) == len(flux_recipes.TIMESTEPS)
        assert all(0 < e < 0.5 for e in row["relative_error"])
    assert "CUDA" in rec["recipes"]["nf4"]["skipped"] and "CUDA" in rec["presets"]["16"]["skipped"]
    # the 80 GB preset runs on a CPU too: the whole pipeline with a LoRA of the authors' shape fused in
    assert rec["presets"]["80"]["adapter"] == "LoRA rank 32" and rec["presets"]["80"]["edit_s"] > 0
    assert (tmp_path / "r.md").read_text().startswith("| recipe |")
    assert json.loads((tmp_path / "r.json").read_text())["presets"].keys() == {"80", "16"}
    script = Path(__file__).resolve().parent.parent / "lab" / "2026-12-04_gpu_flux_recipes" / "run.sh"
    assert subprocess.run(["bash", "-n", str(script)]).returncode == 0


def test_mini_recipes_benchmark_pairs_each_recipe_with_the_default(mini_env, tmp_path):
    """The miniature's edits under each recipe, paired edit by edit with the default; what needs a CUDA GPU is
    recorded as skipped, with why."""
    import json

    import mini_recipes

    from icedit_lib.suites import make_suite

    suite = make_suite(tmp_path / "suite", n=3, seed=5)
    rec = mini_recipes.main(["--suite", str(suite), "--device", "cpu", "--steps", "1", "--adapter", "none",
                             "--recipes", "fp8-weight", "nf4", "--out", str(tmp_path / "m.json")])
    assert list(rec["recipes"]) == ["default", "fp8-weight", "nf4"]  # the reference comes first
    default, fp8 = rec["recipes"]["default"], rec["recipes"]["fp8-weight"]
    assert default["n"] == fp8["n"] == 3 and default["dtype"] == "float32" and fp8["dtype"] == "bfloat16"
    assert "against_default" not in default and fp8["against_default"]["n"] == 3
    assert "CUDA" in rec["recipes"]["nf4"]["skipped"]
    written = json.loads((tmp_path / "m.json").read_text())
    assert written["recipes"].keys() == rec["recipes"].keys()
    assert written["machine"]["diffusers"] and written["machine"]["peft"]  # the versions the recipes went through
    assert (tmp_path / "m.md").read_text().startswith("| recipe (cpu) |")
