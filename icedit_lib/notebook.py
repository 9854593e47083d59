"""What every notebook's first cell does once the course can be imported: one call, the same everywhere.

    from icedit_lib.notebook import setup
    SMOKE, DEVICE = setup()
"""
from __future__ import annotations

import os

from .devices import pick_device


def setup(cpu_threads: int = 1) -> tuple[bool, str]:
    """(smoke, device): `ICEDIT_SMOKE=1` (CI) shrinks the work, the same code; the GPU when there is one.
    On a CPU one thread: the miniature's matrices are tiny, and a kernel's extra threads only thrash."""
    import torch

    import icedit_lib

    smoke = os.environ.get("ICEDIT_SMOKE") == "1"
    device = pick_device("auto")
    if device == "cpu":
        torch.set_num_threads(cpu_threads)
    print(f"icedit_lib {icedit_lib.__version__} | torch {torch.__version__} | device {device} | smoke {smoke}")
    return smoke, device
