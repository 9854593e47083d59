"""icedit_lib: ICEdit (In-Context Edit, arXiv 2504.20690) rebuilt step by step for a course.

Modules, in the order the notebooks meet them:
- shapesworld, suites, language: the miniature world (scenes, edits, instructions, parser, scoring), held-out
  suites, the miniature's vocabulary and labelled text corpus
- miniature: FLUX in miniature, built from configs with the stock classes
- pretrain_text, train_vae, pretrain_flux, pretrain, learning_curve: pretraining the miniature, stage by stage or
  in one command, pretrain_eval their evaluations; corpus, schedule, checkpoints (TrainingRun, the one training
  skeleton) and config (each training script's typed options) serve them
- registry, adapters, devices: model names -> pipelines; adapters found, checked and loaded; device, dtype,
  offload, quantization, compilation
- diptych, editor, inversion: the in-context diptych, mask and IC prompt; ICEditor over FluxFillPipeline (batched
  seeds, previews, exact resume); the T2I-inversion diptych with K/V injection
- train, edit_pairs, lora_moe: LoRA and LoRA-MoE fine-tuning
- judge, mini_judge, train_judge, scaling: judges and early-filter inference-time scaling
- evaluation, experiments (one module per table), report: scoring suites, the course's tables, the numbers the
  README and notebooks quote
- metrics, vie_score, mini_clip, metric_agreement, bench: the paper's automatic metrics and benchmarks
- images, figures, widgets, notebook, model_card, cli, demo: input, figures, the interactive editor, notebook
  set-up and stamps, model cards, the `icedit` command, the demo
"""
import logging
import os

# transformers warns at import that torchvision is absent (only its image processors
# would use it); the course needs none of them.
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
# diffusers imports torchao (the float8 recipes, `devices.transformer_quantization`) whenever it is installed;
# with a CPU build of torch its CUDA kernels cannot load, and it says so at every import, as does torch about
# torchao's enums. Errors still show.
for _name in ("torchao", "torch.utils._pytree", "diffusers.quantizers.torchao.torchao_quantizer"):
    logging.getLogger(_name).setLevel(logging.ERROR)

__version__ = "0.1.0"
