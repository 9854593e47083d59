"""The library's shape: modules import one another without cycles."""
import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "icedit_lib"


def module_name(path: Path) -> str:
    """icedit_lib/editor.py -> "editor"; icedit_lib/experiments/common.py -> "experiments.common"."""
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_within_package() -> dict[str, set[str]]:
    files = {module_name(f): f for f in PACKAGE.rglob("*.py") if module_name(f)}
    graph = {}
    for name, f in files.items():
        here = name.split(".") if f.name == "__init__.py" else name.split(".")[:-1]
        deps = set()
        for node in ast.walk(ast.parse(f.read_text())):  # function-level imports count too
            if isinstance(node, ast.ImportFrom) and node.level >= 1:
                base = here[:len(here) - (node.level - 1)]
                targets = [node.module] if node.module else [a.name for a in node.names]
                for target in targets:
                    parts = base + target.split(".")
                    # the deepest prefix that is a module of the package: `from .x import y` may name a function
                    deps |= {".".join(parts[:k]) for k in range(len(parts), 0, -1) if ".".join(parts[:k]) in files}
        graph[name] = {d for d in deps if d != name and not name.startswith(d + ".")}
    return graph


def test_the_graph_sees_subpackages():
    graph = imports_within_package()
    assert "experiments.common" in graph["experiments.training_free"]
    assert "scaling" in graph["experiments.early_filter"]


def test_no_import_cycles():
    graph = imports_within_package()
    state: dict[str, str] = {}

    def visit(module, path):
        state[module] = "open"
        for dep in sorted(graph[module]):
            assert state.get(dep) != "open", " -> ".join(path + [dep])
            if dep not in state:
                visit(dep, path + [dep])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])


def test_the_tracked_tree_fits_a_device_call():
    """A device call carries the whole tracked tree and refuses more than 64 MiB; the packages it needs beside it
    (`lab/2026-12-07_device_site/pack.sh`) take about 6.2 MiB. Lab weights and per-edit images stay out
    (.gitignore); the shipped models stay well under 60 MiB."""
    import shutil
    import subprocess

    import pytest

    root = PACKAGE.parent
    if shutil.which("git") is None or not (root / ".git").exists():
        pytest.skip("not a git checkout")
    files = subprocess.run(["git", "ls-files", "-z"], cwd=root, capture_output=True, check=True).stdout.split(b"\0")
    sizes = {name.decode(): (root / name.decode()).stat().st_size for name in files
             if name and (root / name.decode()).is_file()}
    mib = 2 ** 20
    assert sum(sizes.values()) < 57 * mib, "the tree would not travel to a device with its packages"
    assert sum(s for name, s in sizes.items() if name.startswith("data/models/")) < 50 * mib
