"""What every benchmark writes: its numbers, the machine they were measured on, and the command."""
import json
import os
import platform
import statistics
import sys

import torch

from icedit_lib.checkpoints import atomic_write_text


def timing_summary(times: list[float]) -> dict:
    """Median (the number to quote on a noisy machine), min and max of repeated wall times."""
    return {"median_s": statistics.median(times), "min_s": min(times), "max_s": max(times)}


def write_record(out: str, script: str, argv, **fields) -> dict:
    """`fields` plus the machine and the command line, written atomically to `out` as JSON."""
    record = dict(fields,
                  machine={"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
                           "torch": torch.__version__},
                  command=" ".join(["python", f"benchmarks/{script}", *(sys.argv[1:] if argv is None else argv)]))
    atomic_write_text(out, json.dumps(record, indent=2))
    return record
