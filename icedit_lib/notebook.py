"""What every notebook's first cell does once the course can be imported: one call, the same everywhere.

    from icedit_lib.notebook import setup
    SMOKE, DEVICE = setup()
"""
from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path

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


# --------------------------------------------------------------------------- committed outputs
# The notebooks are committed executed (`make notebooks`), so their figures show on the repository's page. Each
# carries a digest of what its outputs depend on; `tests/test_notebooks.py` recomputes it, so outputs left from
# older code, models or cells fail CI instead of misleading a reader.
STAMP_KEY = "icedit_inputs"


def _library_digest(h) -> None:
    """The library's code as Python sees it: comments, docstrings and layout changes leave it unchanged."""
    import ast

    package = Path(__file__).resolve().parent
    for path in sorted(package.glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            body = getattr(node, "body", None)
            if (isinstance(body, list) and body and isinstance(body[0], ast.Expr)
                    and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str)):
                node.body = body[1:] or [ast.Pass()]
        h.update(path.name.encode() + ast.dump(tree).encode())


@functools.lru_cache(maxsize=1)
def _shared_digest() -> bytes:
    """The library's code and every shipped model file (`data/models`): what all notebooks depend on."""
    h = hashlib.sha256()
    _library_digest(h)
    models = Path(__file__).resolve().parent.parent / "data" / "models"
    for path in sorted(p for p in models.rglob("*") if p.is_file()):
        h.update(str(path.relative_to(models)).encode() + hashlib.sha256(path.read_bytes()).digest())
    return h.digest()


def inputs_digest(notebook: str | Path) -> str:
    """sha256 over the notebook's code cells, the library's code and the shipped models."""
    import nbformat

    nb = nbformat.read(str(notebook), as_version=4)
    h = hashlib.sha256(_shared_digest())
    for cell in nb.cells:
        if cell.cell_type == "code":
            h.update(cell.source.encode() + b"\0")
    return h.hexdigest()


def stamp(notebook: str | Path) -> str:
    """Record in the notebook's metadata the digest of the inputs its outputs were just made from."""
    import nbformat

    from .checkpoints import atomic_write_text

    digest = inputs_digest(notebook)
    nb = nbformat.read(str(notebook), as_version=4)
    nb.metadata[STAMP_KEY] = digest
    atomic_write_text(Path(notebook), nbformat.writes(nb) + "\n")
    return digest


def main(argv=None) -> None:
    import argparse

    p = argparse.ArgumentParser(description="stamp executed notebooks with the digest of their inputs")
    p.add_argument("notebooks", nargs="+")
    args = p.parse_args(argv)
    for path in args.notebooks:
        print(path, stamp(path)[:12])


if __name__ == "__main__":
    main()
