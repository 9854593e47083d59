"""The auxiliary scene read-out (`icedit_lib.scene_loss`): its token labels, its head and its use in pretraining."""
import json
import random
import shutil

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from icedit_lib import scene_loss
from icedit_lib import shapesworld as sw


def attrs(labels_row):
    return {name: scene_loss.ATTRIBUTES[name][i] for name, i in zip(scene_loss.ATTRIBUTES, labels_row)}


def test_a_token_is_labelled_with_the_object_of_its_cell():
    obj = sw.Obj("triangle", "blue", "large", "top left")
    scene = sw.Scene("gray", "outline", (obj, sw.Obj("circle", "red", "small", "bottom right")))
    labels = scene_loss.panel_token_labels(scene)
    assert labels.shape == (64, 5)
    grid = labels.reshape(8, 8, 5)
    assert attrs(grid[0, 0]) == {"color": "blue", "shape": "triangle", "size": "large", "background": "gray",
                                 "style": "outline"}
    assert attrs(grid[7, 7])["shape"] == "circle" and attrs(grid[7, 7])["size"] == "small"
    assert attrs(grid[4, 4])["shape"] == "none" and attrs(grid[4, 4])["background"] == "gray"
    # the 3 x 3 grid over 8 token columns: 3, 2 and 3 tokens
    assert [attrs(grid[0, c])["shape"] for c in range(8)] == ["triangle"] * 3 + ["none"] * 5


def test_each_object_labels_the_tokens_of_its_cell():
    """The 8 token columns split 3, 2, 3 over the grid's columns (and rows likewise): a corner object labels
    9 tokens, an edge object 6, the centre one 4, its centre pixel's token among them."""
    rng = random.Random(0)
    for _ in range(30):
        scene = sw.random_scene(rng)
        grid = scene_loss.panel_token_labels(scene).reshape(8, 8, 5)
        for obj in scene.objects:
            mine = [(r, c) for r in range(8) for c in range(8)
                    if (attrs(grid[r, c])["shape"], attrs(grid[r, c])["color"], attrs(grid[r, c])["size"])
                    == (obj.shape, obj.color, obj.size)]
            cx, cy = sw.CELLS[obj.cell]
            assert (cy // scene_loss.TOKEN, cx // scene_loss.TOKEN) in mine
            corner, centre = obj.cell.count(" ") == 1, obj.cell == "center"
            assert len(mine) >= (9 if corner else 4 if centre else 6)  # more only if a twin sits elsewhere
        assert sum(attrs(g)["shape"] != "none" for g in grid.reshape(-1, 5)) == sum(
            9 if o.cell.count(" ") == 1 else 4 if o.cell == "center" else 6 for o in scene.objects)


def test_diptych_labels_follow_the_packed_token_order():
    left = sw.Scene("white", "filled", (sw.Obj("square", "green", "large", "top left"),))
    right = sw.Scene("black", "filled", (sw.Obj("circle", "red", "small", "bottom right"),))
    labels = scene_loss.image_token_labels((left, right))
    assert labels.shape == (128, 5)
    rows = labels.reshape(8, 16, 5)  # packed latents of a 128 x 64 image: 8 rows of 16 tokens
    assert attrs(rows[0, 0])["shape"] == "square" and attrs(rows[0, 8])["shape"] == "none"
    assert {attrs(r)["background"] for r in rows[:, :8].reshape(-1, 5)} == {"white"}
    assert {attrs(r)["background"] for r in rows[:, 8:].reshape(-1, 5)} == {"black"}


def test_the_head_learns_labels_it_can_read():
    torch.manual_seed(0)
    labels = torch.as_tensor(np.stack([scene_loss.panel_token_labels(sw.random_scene(random.Random(i)))
                                       for i in range(8)]))
    hidden = torch.nn.functional.one_hot(labels, 8).flatten(-2).float()  # the labels, linearly readable
    head = scene_loss.SceneHead(hidden.shape[-1])
    opt = torch.optim.Adam(head.parameters(), lr=0.05)
    first = head(hidden, labels).item()
    for _ in range(200):
        opt.zero_grad()
        head(hidden, labels).backward()
        opt.step()
    assert head(hidden, labels).item() < 0.05 * first
    assert min(head.accuracy(hidden, labels).values()) == 1.0


def test_pretraining_with_the_scene_loss_trains_the_head_and_exports_a_plain_transformer(mini_dir, tmp_path):
    from diffusers import FluxTransformer2DModel

    from icedit_lib import pretrain_flux

    model_dir = tmp_path / "mini"
    shutil.copytree(mini_dir, model_dir)
    args = ["--stage", "fill", "--model-dir", str(model_dir), "--batch-size", "2", "--eval-every", "1000",
            "--eval-n", "1", "--threads", "1", "--warmup", "2", "--steps", "2", "--log-every", "1",
            "--fill-kinds", "right", "--scene-loss", "0.5", "--work-dir", str(tmp_path / "w")]
    rec = pretrain_flux.main(args)
    assert rec["step"] == 2 and rec["args"]["scene_loss"] == 0.5
    state = load_file(str(tmp_path / "w" / "state.safetensors"))
    assert "model.scene_head.proj.weight" in state
    logged = [json.loads(line) for line in (tmp_path / "w" / "log.jsonl").read_text().splitlines()]
    assert all(np.isfinite(row["scene"]) and row["scene"] > 0 for row in logged if "loss" in row)
    exported = FluxTransformer2DModel.from_pretrained(model_dir, subfolder="transformer")
    assert not any("scene" in k for k in exported.state_dict())
    with pytest.raises(RuntimeError, match="scene_head"):  # its state cannot be resumed without the head
        pretrain_flux.main([a for a in args if a not in ("--scene-loss", "0.5")] + ["--steps", "3"])


def test_the_scene_loss_reaches_the_first_block(mini_dir):
    """The read-out taps the last double-stream block: its gradient must flow back through the blocks before."""
    from icedit_lib import pretrain_flux, registry

    pipe, _ = registry.load_fill_pipeline(str(mini_dir), device="cpu")
    config = pretrain_flux.parse_args(["--stage", "fill", "--batch-size", "2", "--fill-kinds", "right",
                                       "--scene-loss", "1"])
    head = scene_loss.SceneHead(pipe.transformer.inner_dim)
    tap = scene_loss.BlockTap(pipe.transformer.transformer_blocks[-1])
    parts = pretrain_flux.training_losses(pipe, config, 0, "cpu", scene=(tap, head))
    assert set(parts) == {"flow", "scene"} and tap.hidden.shape[:2] == (2, 128)
    parts["scene"].backward()
    assert pipe.transformer.transformer_blocks[0].attn.to_q.weight.grad.abs().sum() > 0
    tap.handle.remove()
