"""The library's shape: modules import one another without cycles."""
import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "icedit_lib"


def imports_within_package() -> dict[str, set[str]]:
    modules = {f.stem for f in PACKAGE.glob("*.py")}
    graph = {}
    for f in PACKAGE.glob("*.py"):
        deps = set()
        for node in ast.walk(ast.parse(f.read_text())):  # function-level imports count too
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                deps |= {node.module.split(".")[0]} if node.module else {a.name for a in node.names}
        graph[f.stem] = deps & modules
    return graph


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
