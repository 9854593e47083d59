"""Grow a trained Fill transformer by single-stream blocks that start as the identity, to test whether depth is
what the hard edit types (move, recolor, replace) lack, as a continuation paired with the plain one.

Each new block is a copy of the block before its place (`--at`), with its output projection zeroed: the
residual stream passes through unchanged at first (the zero-initialised-output trick of ControlNet and LoRA), and
the copy's attention and MLP weights start from trained features rather than noise. The grown model samples the
same images as the original until training moves it (checked here on one batch of random inputs).

    python lab/2026-12-05_fill_depth/grow_fill.py --model-dir checkpoints/fill_v8 --out checkpoints/fill_deep --add 1 --at 2
"""
import argparse
import copy
import shutil
from pathlib import Path

import torch
from diffusers import FluxTransformer2DModel


def grow(transformer: FluxTransformer2DModel, add: int, at: int) -> FluxTransformer2DModel:
    config = dict(transformer.config)
    config["num_single_layers"] = transformer.config.num_single_layers + add
    grown = FluxTransformer2DModel.from_config(config)
    blocks = list(transformer.single_transformer_blocks)
    for _ in range(add):
        new = copy.deepcopy(blocks[at - 1])
        torch.nn.init.zeros_(new.proj_out.weight)
        torch.nn.init.zeros_(new.proj_out.bias)
        blocks.insert(at, new)
    state = {k: v for k, v in transformer.state_dict().items() if not k.startswith("single_transformer_blocks.")}
    for i, block in enumerate(blocks):
        state |= {f"single_transformer_blocks.{i}.{k}": v for k, v in block.state_dict().items()}
    grown.load_state_dict(state, strict=True)
    return grown


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model-dir", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--add", type=int, default=1)
    ap.add_argument("--at", type=int, default=2, help="index of the first new single-stream block")
    args = ap.parse_args(argv)
    src, out = Path(args.model_dir), Path(args.out)
    if out.exists():
        raise SystemExit(f"{out} exists")
    transformer = FluxTransformer2DModel.from_pretrained(src, subfolder="transformer").eval()
    grown = grow(transformer, args.add, args.at).eval()
    c = transformer.config
    torch.manual_seed(0)
    n_img, n_txt = 128, 16
    inputs = dict(hidden_states=torch.randn(1, n_img, c.in_channels),
                  encoder_hidden_states=torch.randn(1, n_txt, c.joint_attention_dim),
                  pooled_projections=torch.randn(1, c.pooled_projection_dim), timestep=torch.tensor([0.5]),
                  img_ids=torch.randn(n_img, 3), txt_ids=torch.zeros(n_txt, 3), guidance=torch.tensor([30.0]))
    with torch.no_grad():
        gap = (transformer(**inputs).sample - grown(**inputs).sample).abs().max().item()
    assert gap < 1e-5, gap
    shutil.copytree(src, out)
    shutil.rmtree(out / "transformer")
    grown.save_pretrained(out / "transformer")
    print(f"{c.num_single_layers} -> {grown.config.num_single_layers} single-stream blocks "
          f"({sum(p.numel() for p in grown.parameters())} parameters); same output as before: max gap {gap:.1e}")


if __name__ == "__main__":
    main()
