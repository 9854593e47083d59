"""icedit_lib: ICEdit (In-Context Edit, arXiv 2504.20690) rebuilt step by step for a course.

Modules, in the order the notebooks meet them:
- shapesworld: the miniature world (scenes, edits, instructions, parser, scoring)
- miniature: FLUX in miniature, built from configs with the stock classes
- registry: model names (toy, flux-fill-dev, ...) -> loaded pipelines and adapters
- diptych: the in-context diptych, mask and IC prompt
- editor: ICEditor over FluxFillPipeline (batched seeds, previews, exact resume)
- images, checkpoints: safe input and atomic output
- corpus, train_vae: pretraining the miniature
- cli: the `icedit` command
"""
import os

# transformers warns at import that torchvision is absent (only its image processors
# would use it); the course needs none of them.
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

__version__ = "0.1.0"
