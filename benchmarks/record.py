"""What every benchmark writes: its numbers, the machine they were measured on, and the command."""
import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

from icedit_lib.checkpoints import atomic_write_text


def benchmark_parser(result: str, adapter: str, repeats: int) -> argparse.ArgumentParser:
    """The options every single-configuration benchmark takes; `result` names its JSON file."""
    p = argparse.ArgumentParser()
    p.add_argument("--base", default="mini")
    p.add_argument("--adapter", default=adapter)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=repeats)
    p.add_argument("--steps", type=int, default=28)
    p.add_argument("--out", default=str(Path(__file__).parent / "results" / f"{result}.json"))
    return p


def timing_summary(times: list[float]) -> dict:
    """Median (the number to quote on a noisy machine), min and max of repeated wall times."""
    return {"median_s": statistics.median(times), "min_s": min(times), "max_s": max(times)}


def reference_gflops(repeats: int = 200) -> float:
    """GFLOP/s of one thread on a matmul of the miniature's shape (208 tokens x 128 -> 512): the
    machines here vary by 2x or more between sessions, so absolute times are comparable across
    records only through this number, measured in the same run."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    a, b = torch.randn(208, 128), torch.randn(128, 512)
    for _ in range(20):
        a @ b
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - start)
    torch.set_num_threads(threads)
    return 2 * 208 * 128 * 512 / statistics.median(times) / 1e9


def cpu_model() -> str:
    """The processor's marketing name (Linux), else the architecture: records name the machine they ran on."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def package_versions(names=("diffusers", "transformers", "peft", "torchao", "bitsandbytes")) -> dict:
    """The versions of the libraries a recipe goes through, where installed (the device image has its own)."""
    from importlib import metadata

    versions = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return versions


def write_record(out: str, script: str, argv, **fields) -> dict:
    """`fields` plus the machine, the library versions and the command line, written atomically to `out` as JSON."""
    record = dict(fields,
                  machine={"cpu": cpu_model(), "cores": os.cpu_count(),
                           "torch": torch.__version__, **package_versions(),
                           "reference_gflops_1_thread": round(reference_gflops(), 2)},
                  command=" ".join(["python", f"benchmarks/{script}", *(sys.argv[1:] if argv is None else argv)]))
    atomic_write_text(out, json.dumps(record, indent=2))
    return record
