"""The `icedit` command line: render ShapesWorld scenes, edit one image, edit a suite.

    icedit render --scene SCENE.json --out OUT.png
    icedit edit --image IN.png --instruction "make the red circle blue" --out OUT.png
    icedit edit-batch --suite SUITE.jsonl --out-dir DIR

Bad input (a missing, corrupt or odd image, an empty instruction, negative steps, an
unknown or mismatched adapter, a model that is not on disk) ends with one line on
stderr and exit status 2; outputs are written atomically.
"""
from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

from tqdm.auto import tqdm

from .diptych import FILL_GUIDANCE, T2I_GUIDANCE
from .suites import SuiteError, load_suite, safe_id

EXIT_BAD_INPUT = 2


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


FRAMEWORK_GUIDANCE = {"inpaint": FILL_GUIDANCE, "inversion": T2I_GUIDANCE}


def _add_edit_options(p: argparse.ArgumentParser) -> None:
    from .devices import MEMORY_PRESETS, OFFLOAD_MODES, QUANTIZE_MODES
    from .registry import DEFAULT_ADAPTERS  # the help names the defaults the registry really uses

    p.add_argument("--framework", choices=tuple(FRAMEWORK_GUIDANCE), default="inpaint",
                   help="inpaint: Fill model, right half masked (paper's choice); inversion: T2I model, "
                        "source inverted and its attention K/V injected (paper 3.1)")
    p.add_argument("--base", default="mini", help="mini | a registry name | a local folder | a hub id "
                                                 "(inversion: mini means mini-t2i; use flux-dev at full scale)")
    p.add_argument("--adapter", default="default",
                   help=f"default (ICEdit's own LoRA on FLUX.1 Fill [dev]; on the miniature the better shipped "
                        f"adapter when present, otherwise none; "
                        f"{', '.join(f'{b}: {a}' for b, a in DEFAULT_ADAPTERS.items())}) | "
                        "none (training-free) | a registry name | a local folder or file")
    p.add_argument("--prompt", choices=("ic", "direct"), default="ic",
                   help="ic: the in-context diptych prompt (paper); direct: the bare instruction")
    p.add_argument("--steps", type=_positive_int, default=28)
    p.add_argument("--guidance", type=float, default=None, help="default: 50 (inpaint), 3.5 (inversion)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto", help="auto | cpu | cuda")
    p.add_argument("--dtype", default="auto", help="auto (bf16 on GPU, fp32 on CPU) | fp32 | bf16 | fp16")
    p.add_argument("--offload", choices=OFFLOAD_MODES, default=None,
                   help="GPU memory savers for the 12B model (default: none, or --memory's choice)")
    p.add_argument("--quantize", choices=QUANTIZE_MODES, default=None,
                   help="the transformer's weights: fp8 (float8 compute, Ada/Hopper GPUs), fp8-weight (float8 "
                        "weights, bf16 compute), nf4 (4-bit, bitsandbytes, CUDA); default: none, or --memory's")
    p.add_argument("--memory", type=int, choices=sorted(MEMORY_PRESETS), default=None,
                   help="GiB of GPU memory: a preset of --quantize, --offload and --compile for FLUX.1 Fill [dev] "
                        "(80: bf16, compiled; 24: fp8 + model offload; 16: nf4 + model offload); explicit "
                        "options win")
    p.add_argument("--compile", action="store_true",
                   help="torch.compile the transformer: a one-off compilation, then faster edits (batches, suites); "
                        "regional and dynamic-shape on a GPU")
    p.add_argument("--num-seeds", type=_positive_int, default=1, help="inference-time scaling: M seeds per edit")
    p.add_argument("--filter-steps", type=int, default=0,
                   help="early filter: judge previews after m steps (0: judge finished images, best-of-M)")
    p.add_argument("--judge", default="none", help="none | mini-judge | qwen2.5-vl-3b|7b|72b | a local folder")


def _add_generate_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--base", default="mini-t2i", help="mini-t2i | flux-dev | a local folder")
    p.add_argument("--steps", type=_positive_int, default=28)
    p.add_argument("--guidance", type=float, default=3.5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="icedit", description="In-Context Edit (ICEdit), rebuilt for a course.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("render", help="render a ShapesWorld scene JSON to a PNG (pixel-exact)")
    p.add_argument("--scene", required=True)
    p.add_argument("--out", required=True)
    p = sub.add_parser("generate", help="text-to-image: a panel from a scene's caption (miniature T2I)")
    p.add_argument("--scene", required=True)
    p.add_argument("--out", required=True)
    _add_generate_options(p)
    p = sub.add_parser("generate-batch", help="text-to-image for every scene of a JSON-lines file")
    p.add_argument("--scenes", required=True, help="JSON lines, each a scene or a row with a 'scene' and optionally an "
                                                    "'id' (written to DIR/<id>.png, else DIR/00000.png, 00001.png, ... in order)")
    p.add_argument("--out-dir", required=True)
    _add_generate_options(p)
    p = sub.add_parser("bench", help="edit a benchmark (emu-test, magicbrush-test or a suite) and score CLIP-I, "
                                     "CLIP-out, DINO and L1 as the paper's Tables 1-2")
    p.add_argument("--suite", required=True, help="emu-test | magicbrush-test | a suite.jsonl")
    p.add_argument("--out-dir", required=True)
    p.add_argument("--source", default=None, help="the benchmark's data: a hub id or a local folder / parquet")
    p.add_argument("--n", type=_positive_int, default=None, help="a deterministic subset of N edits")
    p.add_argument("--subset-seed", type=int, default=0)
    p.add_argument("--no-emu-filter", action="store_true",
                   help="emu-test: keep rows whose input caption equals the output caption (the authors drop them)")
    p.add_argument("--clip", default="vit-l-14", help="vit-l-14 (the authors' word) | vit-b-32 (UltraEdit's, "
                                                      "MagicBrush's) | a hub id | a folder")
    p.add_argument("--dino", default="facebook/dino-vits16", help="a hub id or a folder")
    p.add_argument("--paired-with", default=None, help="an earlier bench run of the same suite: per-edit differences")
    _add_edit_options(p)
    p = sub.add_parser("eval", help="edit and score a ShapesWorld suite (success, L1, L1 kept; per edit type)")
    p.add_argument("--suite", required=True)
    p.add_argument("--out-dir", required=True)
    p.add_argument("--paired-with", metavar="DIR",
                   help="an earlier eval's --out-dir on the same suite (another adapter, base or setting): compare "
                        "edit by edit (edits only one run gets right with an exact sign test; kept-pixel L1)")
    _add_edit_options(p)
    p = sub.add_parser("eval-pretrained", help="score the miniature's VAE / T2I / Fill on held-out scenes")
    p.add_argument("--part", choices=("vae", "t2i", "t2i-diptych", "fill"), required=True,
                   help="t2i-diptych: the T2I asked for one-change diptychs, the inversion framework's ceiling")
    p.add_argument("--out-dir", required=True)
    p.add_argument("--n", type=_positive_int, default=64)
    p.add_argument("--base", default="mini")
    p.add_argument("--device", default="auto")
    p.add_argument("--pooled-from-copy", action="store_true",
                   help="fill: a probe: the change caption's T5 tokens with the copy caption's pooled CLIP vector")
    p.add_argument("--steps", type=_positive_int, default=28, help="t2i, fill: sampling steps")
    p.add_argument("--paired-with", metavar="DIR",
                   help="fill: an earlier run's --out-dir on the same pairs (another checkpoint): compare pair by "
                        "pair (edits only one run gets right, exact sign test)")
    p.add_argument("--into-record", metavar="JSON",
                   help="t2i, fill: also make these metrics the evaluation of this training record (e.g. "
                        "data/models/mini/training_fill.json after the VAE's decoder changed); the old one is kept")
    p.add_argument("--reason", default="", help="with --into-record: why the unchanged weights are evaluated again")
    p = sub.add_parser("edit", help="edit one image with an instruction")
    p.add_argument("--image", required=True)
    p.add_argument("--instruction", required=True)
    p.add_argument("--out", required=True)
    _add_edit_options(p)
    p = sub.add_parser("edit-batch", help="edit every row of a suite (JSON lines: id, image, instruction)")
    p.add_argument("--suite", required=True)
    p.add_argument("--out-dir", required=True)
    _add_edit_options(p)
    return parser


# --------------------------------------------------------------------------- commands
def cmd_render(args) -> None:
    from .images import save_image
    from .shapesworld import Scene, SceneError, render

    path = Path(args.scene)
    if not path.is_file():
        raise SceneError(f"no such scene file: {path}")
    save_image(render(Scene.from_json(path.read_text())), args.out)


def _read_scenes(path: Path) -> list[tuple[str, object]]:
    """(name, scene) for every line: a scene, or a row with "scene" and optionally a file-safe "id"
    (as in suites); a row without one is named by its position (00000, 00001, ...)."""
    from .shapesworld import Scene, SceneError

    if not path.is_file():
        raise SceneError(f"no such scenes file: {path}")
    scenes, seen = [], set()
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if line.strip():
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                raise SceneError(f"{path}:{n}: not valid JSON ({e.msg})") from None
            has_id = isinstance(row, dict) and "id" in row
            name = safe_id(row["id"], f"{path}:{n}", seen, SceneError) if has_id else f"{len(scenes):05d}"
            scenes.append((name, Scene.from_dict(row.get("scene", row) if isinstance(row, dict) else row)))
    if not scenes:
        raise SceneError(f"{path} holds no scenes")
    return scenes


def _generate(args, scenes: list, outputs: list[Path]) -> None:
    """T2I from each scene's caption (the project's own caption function), atomically saved."""
    import torch
    from diffusers.utils import logging as diffusers_logging

    from .images import save_image
    from .registry import load_t2i_pipeline
    from .shapesworld import describe_scene

    diffusers_logging.disable_progress_bar()
    pipe, entry = load_t2i_pipeline(args.base, device=args.device)
    size = entry.panel_width
    for i, (scene, out) in enumerate(tqdm(list(zip(scenes, outputs)), desc="generating", unit="image",
                                          disable=len(scenes) == 1)):
        image = pipe(describe_scene(scene).capitalize() + ".", height=size, width=size,
                     num_inference_steps=args.steps, guidance_scale=args.guidance,
                     max_sequence_length=entry.max_sequence_length,
                     generator=torch.Generator("cpu").manual_seed(args.seed + i)).images[0]
        save_image(image, out)


def cmd_generate(args) -> None:
    from .images import check_output_path
    from .shapesworld import Scene, SceneError

    check_output_path(args.out)
    path = Path(args.scene)
    if not path.is_file():
        raise SceneError(f"no such scene file: {path}")
    _generate(args, [Scene.from_json(path.read_text())], [Path(args.out)])


def cmd_generate_batch(args) -> None:
    named = _read_scenes(Path(args.scenes))
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    _generate(args, [scene for _, scene in named], [out / f"{name}.png" for name, _ in named])


def _editor(args):
    from diffusers.utils import logging as diffusers_logging
    from transformers.utils import logging as transformers_logging

    from .editor import ICEditor
    from .inversion import InversionEditor
    from .adapters import AdapterError
    from .registry import default_adapter

    diffusers_logging.disable_progress_bar()  # one bar per batch is enough on a terminal
    transformers_logging.disable_progress_bar()
    if args.guidance is None:
        args.guidance = FRAMEWORK_GUIDANCE[args.framework]
    resolve_memory_options(args)
    dtype = None if args.dtype == "auto" else args.dtype
    if args.num_seeds > 1 and args.judge == "none":
        raise ValueError("--num-seeds > 1 needs a --judge to choose among the seeds")
    if args.num_seeds > 1:
        from .registry import resolve

        resolve(args.judge, kind="judge")  # an unknown judge fails before any model loads
    if args.adapter == "default":
        args.adapter = "none" if args.framework == "inversion" else default_adapter(args.base)
    if args.framework == "inversion":
        if args.num_seeds > 1:
            raise ValueError("early-filter scaling runs on the inpainting framework (--framework inpaint)")
        if args.adapter != "none":
            raise AdapterError("adapters belong to the Fill model: the inversion framework is training-free")
        if args.quantize != "none":
            raise ValueError("--quantize is for the inpainting framework's Fill transformer")
        if args.compile:
            raise ValueError("--compile is for the inpainting framework (the inversion framework swaps attention "
                             "processors between its passes)")
        base = "mini-t2i" if args.base == "mini" else args.base
        return InversionEditor.from_registry(base, device=args.device, dtype=dtype, offload=args.offload)
    # a one-shot command never switches the adapter off: fuse a plain LoRA into the weights (not under
    # offloading, whose hooks own the weights)
    editor = ICEditor.from_registry(args.base, adapter=args.adapter, device=args.device, dtype=dtype,
                                    offload=args.offload, compile=args.compile, quantize=args.quantize,
                                    fuse_adapter=args.offload == "none")
    if args.num_seeds == 1:
        return editor
    from .registry import load_judge
    from .scaling import ScalingEditor

    return ScalingEditor(editor, load_judge(args.judge, device=args.device), args.num_seeds, args.filter_steps)


def resolve_memory_options(args) -> None:
    """--memory's preset (for this device's GPU) fills in --quantize, --offload and --compile where they were not
    given."""
    from .devices import memory_preset, pick_device

    preset = memory_preset(args.memory, pick_device(args.device)) if args.memory is not None else None
    if args.quantize is None:
        args.quantize = preset.quantize if preset else "none"
    if args.offload is None:
        args.offload = preset.offload if preset else "none"
    args.compile = args.compile or bool(preset and preset.compile)


def cmd_edit(args) -> None:
    from .diptych import clean_instruction
    from .images import check_output_path, load_image, save_image

    image = load_image(args.image)  # validate everything before loading a model
    clean_instruction(args.instruction)
    check_output_path(args.out)
    result = _editor(args).edit(image, args.instruction, seed=args.seed, steps=args.steps,
                                guidance=args.guidance, prompt_mode=args.prompt)
    save_image(result.image, args.out)


def cmd_edit_batch(args) -> None:
    from .diptych import clean_instruction
    from .images import load_image, save_image

    rows = load_suite(args.suite)
    for row in rows:  # fail before any model loads or output is written
        load_image(row["image_path"])
        clean_instruction(row["instruction"])
    editor = _editor(args)
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for row in tqdm(rows, desc="editing", unit="image"):
        result = editor.edit(load_image(row["image_path"]), row["instruction"], seed=args.seed, steps=args.steps,
                             guidance=args.guidance, prompt_mode=args.prompt)
        save_image(result.image, out / f"{row['id']}.png")


def cmd_eval(args) -> None:
    from .checkpoints import atomic_write_text
    from .evaluation import evaluate_suite, paired_comparison, scoring_rows

    rows = scoring_rows(load_suite(args.suite))  # a suite that cannot be scored fails before the model loads
    earlier = None
    if args.paired_with is not None:  # read before the long evaluation, so a wrong folder fails at once
        earlier_path = Path(args.paired_with) / "results.json"
        if not earlier_path.is_file():
            raise SuiteError(f"--paired-with: no results.json in {args.paired_with}")
        earlier = json.loads(earlier_path.read_text())["rows"]
        if {r["id"] for r in earlier} != {r["id"] for r in rows}:
            raise SuiteError(f"--paired-with: {args.paired_with} scored other rows than {args.suite}")
    editor = _editor(args)
    result = evaluate_suite(editor, args.suite, args.out_dir, seed=args.seed, steps=args.steps,
                            guidance=args.guidance, prompt_mode=args.prompt,
                            options={"framework": args.framework, "base": args.base, "adapter": args.adapter})
    overall = result["summary"]["overall"]
    print(f"success {overall['success']:.1%}  L1 {overall['l1']:.4f}  L1 kept {overall['l1_kept']:.4f}  "
          f"({overall['n']} edits) -> {args.out_dir}")
    if earlier is not None:
        c = paired_comparison(result["rows"], earlier)
        atomic_write_text(Path(args.out_dir) / "paired.json",
                          json.dumps({"run": str(args.paired_with), **c}, indent=2))
        low, high = c["l1_kept_diff_ci95"]
        print(f"against {args.paired_with}: {c['success_a']:.1%} vs {c['success_b']:.1%}; only this run right "
              f"{c['only_a']}, only the other {c['only_b']} (exact sign test p = {c['p_success']:.2g}); "
              f"L1 kept this - other {c['l1_kept_diff']:+.4f} [95% CI {low:+.4f}, {high:+.4f}]")


def cmd_bench(args) -> None:
    from . import bench
    from .metrics import ClipScorer, DinoScorer

    out = Path(args.out_dir)
    suite = bench.prepare_suite(args.suite, out, args.source, args.n, args.subset_seed, not args.no_emu_filter)
    load_suite(suite)  # a malformed suite fails before any model loads
    clip = ClipScorer(bench.clip_model(args.clip), device=args.device)  # the scorers before the editor: a
    dino = DinoScorer(args.dino, device=args.device)  # missing one fails before any edit
    editor = _editor(args)
    record = bench.run(editor, suite, out, clip, dino, n=args.n if args.suite not in bench.BENCHMARKS else None,
                       subset_seed=args.subset_seed, seed=args.seed, steps=args.steps, guidance=args.guidance,
                       prompt_mode=args.prompt, paired_with=args.paired_with,
                       options={"base": args.base, "adapter": args.adapter, "framework": args.framework})
    print((out / "table.md").read_text())
    for metric, d in record.get("paired_with", {}).items():
        if isinstance(d, dict):
            print(f"{metric}: {d['mean_diff']:+.4f} (95% CI {d['ci95'][0]:+.4f} to {d['ci95'][1]:+.4f}) "
                  f"against {args.paired_with}")


def cmd_eval_pretrained(args) -> None:
    from .pretrain_eval import run

    metrics = run(args.part, args.out_dir, args.n, args.base, args.device, args.pooled_from_copy, args.steps,
                  args.paired_with, args.into_record, args.reason)
    print(json.dumps({k: v for k, v in metrics.items() if k != "pairs"}, indent=2))


COMMANDS = {"bench": cmd_bench, "eval": cmd_eval, "eval-pretrained": cmd_eval_pretrained, "render": cmd_render, "generate": cmd_generate, "generate-batch": cmd_generate_batch,
            "edit": cmd_edit, "edit-batch": cmd_edit_batch}


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    from .diptych import InstructionError
    from .images import ImageInputError
    from .evaluation import SuiteScoringError
    from .adapters import AdapterError
    from .registry import ModelNotAvailable
    from .shapesworld import SceneError

    from .bench import BenchDataNotAvailable
    from .language import UnknownWordsWarning
    from .metrics import MetricModelNotAvailable

    try:
        with warnings.catch_warnings():  # the editor's warnings as one line on stderr each, like the errors
            warnings.simplefilter("always", UnknownWordsWarning)
            warnings.showwarning = lambda message, *_: print(f"icedit: warning: {message}", file=sys.stderr)
            COMMANDS[args.command](args)
    except (ImageInputError, InstructionError, SceneError, SuiteError, SuiteScoringError, ModelNotAvailable,
            MetricModelNotAvailable, BenchDataNotAvailable,
            AdapterError, ValueError) as e:
        print(f"icedit: error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return 0


if __name__ == "__main__":
    sys.exit(main())
