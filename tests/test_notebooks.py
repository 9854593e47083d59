"""The notebooks a learner browses: committed executed from the current code and models, quoting no result by hand."""
import re
from pathlib import Path

import nbformat
import pytest

from icedit_lib import notebook, report

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
# A result typed into prose: a percentage, a p-value, "N edits to M".
TYPED_RESULT = re.compile(r"\d+(?:\.\d+)?\s?%|\bp\s?=\s?0?\.\d+|\b\d+ (?:edits|pairs) (?:to|against) \d+")
# Numbers in prose that are settings or methods, not results.
NOT_RESULTS = {
    "03": ["first 10% of the steps"],  # an exercise's setting
    "04": ["a 95% bootstrap interval"],  # the method of `evaluation.paired_comparison`
    "05": ["dropped 10% of the time"],  # the paper's setting (its section 3.2)
}


def typed_results(text: str, allowed=()) -> list[str]:
    for phrase in allowed:
        text = text.replace(phrase, "")
    return [m.group(0) for m in TYPED_RESULT.finditer(text)]


def test_the_prose_check_finds_typed_results():
    assert typed_results("LoRA scores 23.4% (13 edits to 0, p = 0.0002)") == ["23.4%", "13 edits to 0", "p = 0.0002"]
    assert typed_results("dropped 10% of the time", ["dropped 10% of the time"]) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name[:2])
def test_notebook_prose_quotes_no_result_by_hand(path):
    nb = nbformat.read(str(path), as_version=4)
    prose = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert typed_results(prose, NOT_RESULTS.get(path.name[:2], ())) == [], \
        "render the numbers from the results files (`report.findings`) instead of typing them"


def test_the_readme_quotes_results_only_in_its_rendered_block():
    outside = (ROOT / "README.md").read_text()
    for begin, end, _ in report.BLOCKS.values():  # every block `report --write` renders from files
        outside = outside.split(begin)[0] + outside.split(end)[1]
    assert typed_results(outside) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name[:2])
def test_notebook_is_committed_executed_from_the_current_code_and_models(path):
    nb = nbformat.read(str(path), as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code), "run `make notebooks`: some cells were never executed"
    assert nb.metadata.get(notebook.STAMP_KEY) == notebook.inputs_digest(path), \
        "the committed outputs are older than the code, the models or the cells: run `make notebooks`"


def test_the_stamp_changes_with_the_cells(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(1)")])
    path = tmp_path / "a.ipynb"
    nbformat.write(nb, str(path))
    digest = notebook.stamp(path)
    assert nbformat.read(str(path), as_version=4).metadata[notebook.STAMP_KEY] == digest
    nb.cells[0].source = "print(2)"
    nbformat.write(nb, str(path))
    assert notebook.inputs_digest(path) != digest


def test_every_findings_paragraph_renders_from_the_committed_files():
    for name in report.FINDINGS:
        text = report.findings(name)
        assert any(c.isdigit() for c in text) and ("results/" in text or "lab/" in text), name  # numbers, and their file
    free = report._read("results/training_free/results.json")["summaries"]
    assert report._pct(free["inpaint + IC prompt"]["overall"]["success"]) in report.findings("training-free")
    with pytest.raises(KeyError, match="no findings named"):
        report.findings("nonsense")
