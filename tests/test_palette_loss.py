"""The Fill's colour term (`icedit_lib.palette_loss`): its labels, its ordering of colours, its use in pretraining."""
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from icedit_lib import palette_loss
from icedit_lib import shapesworld as sw
from icedit_lib.corpus import to_tensor

SHIPPED_VAE = Path(__file__).resolve().parents[1] / "data" / "models" / "mini" / "vae"


def scene(color: str, style: str = "filled") -> sw.Scene:
    return sw.Scene("gray", style, (sw.Obj("circle", color, "small", "top left"),
                                    sw.Obj("square", "blue", "large", "center")))


def test_labels_name_each_object_pixel_by_its_colour_and_ignore_the_background():
    image = sw.render(scene("orange"))
    labels = palette_loss.object_pixel_labels(to_tensor([image]))[0].numpy()
    rgb = np.asarray(image)
    for index, (name, value) in enumerate(sw.COLORS.items()):
        assert ((labels == index) == (rgb == value).all(-1)).all(), name
    assert ((labels == palette_loss.IGNORE) == (rgb == sw.BACKGROUNDS["gray"]).all(-1)).all()
    assert (labels == list(sw.COLORS).index("orange")).sum() > 0


@pytest.mark.skipif(not SHIPPED_VAE.exists(), reason="needs the shipped VAE")
@pytest.mark.parametrize("style", sw.STYLES)
def test_the_term_is_near_zero_for_the_target_and_grows_with_the_colour_error(style):
    from diffusers import AutoencoderKL

    vae = AutoencoderKL.from_pretrained(SHIPPED_VAE, use_safetensors=True).eval().requires_grad_(False)

    def latents(color):
        z = vae.encode(to_tensor([sw.render(scene(color, style))])).latent_dist.mean
        return (z - vae.config.shift_factor) * vae.config.scaling_factor

    target = to_tensor([sw.render(scene("orange", style))])
    with torch.no_grad():
        loss = {c: palette_loss.palette_cross_entropy(vae, latents(c), target).item()
                for c in ("orange", "yellow", "blue")}
    assert loss["orange"] < 0.05 and 20 * loss["orange"] < loss["yellow"] < loss["blue"]
    drawn = latents("yellow").requires_grad_(True)  # the neighbour: the term pushes the latents back
    palette_loss.palette_cross_entropy(vae, drawn, target).backward()
    assert drawn.grad.abs().sum() > 0


def test_a_target_without_objects_costs_nothing():
    from diffusers import AutoencoderKL

    vae = AutoencoderKL(in_channels=3, out_channels=3, latent_channels=4, block_out_channels=(8,),
                        norm_num_groups=4, down_block_types=("DownEncoderBlock2D",),
                        up_block_types=("UpDecoderBlock2D",))
    empty = torch.full((1, 3, 64, 64), sw.BACKGROUNDS["gray"][0] / 127.5 - 1.0)  # a bare gray panel
    x0_hat = torch.randn(1, 4, 64, 64, requires_grad=True)
    loss = palette_loss.palette_cross_entropy(vae, x0_hat, empty)
    assert loss.item() == 0.0
    loss.backward()  # a zero with a gradient path: the training step needs no special case


def test_pretraining_with_the_palette_loss_logs_it_and_exports_a_plain_transformer(mini_dir, tmp_path):
    from icedit_lib import pretrain_flux

    model_dir = tmp_path / "mini"
    shutil.copytree(mini_dir, model_dir)
    rec = pretrain_flux.main(["--stage", "fill", "--model-dir", str(model_dir), "--batch-size", "2",
                              "--eval-every", "1000", "--eval-n", "1", "--threads", "1", "--warmup", "2",
                              "--steps", "2", "--log-every", "1", "--fill-kinds", "right", "--palette-loss", "0.01",
                              "--work-dir", str(tmp_path / "w")])
    assert rec["step"] == 2 and rec["args"]["palette_loss"] == 0.01
    logged = [json.loads(line) for line in (tmp_path / "w" / "log.jsonl").read_text().splitlines()]
    rows = [row for row in logged if "loss" in row]
    assert rows and all(np.isfinite(row["palette"]) and row["palette"] >= 0 for row in rows)
    assert all(np.isfinite(row["loss"]) for row in rows)
