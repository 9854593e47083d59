"""icedit_lib: ICEdit (In-Context Edit, arXiv 2504.20690) rebuilt step by step for a course.

Modules, in the order the notebooks meet them:
- shapesworld: the miniature world (scenes, edits, instructions, parser, scoring)
- language: the miniature's vocabulary and labelled text corpus
- miniature: FLUX in miniature, built from configs with the stock classes
- registry, devices: model names -> loaded pipelines and adapters; device, dtype, offload, quantization
- diptych: the in-context diptych, mask and IC prompt
- editor: ICEditor over FluxFillPipeline (batched seeds, previews, exact resume)
- images, checkpoints: safe input and atomic output
- pretrain_text, train_vae, pretrain_flux, pretrain: pretraining the miniature, stage by stage or in one command
- metrics, vie_score: the paper's automatic metrics
- cli: the `icedit` command
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
