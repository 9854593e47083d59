"""The README quotes no result by hand: its results block is what the results files say now."""
from pathlib import Path

import pytest

from icedit_lib import report

README = Path(__file__).resolve().parent.parent / "README.md"


def test_the_readme_block_is_rendered_from_the_files():
    text = README.read_text()
    block = text[text.index(report.BEGIN):text.index(report.END) + len(report.END)]
    assert block == report.render(), "run `python -m icedit_lib.report --write README.md`"
    assert len(text.splitlines()) <= 130  # a README for learners, not a lab notebook


def test_every_number_names_its_file_and_the_block_is_replaced_in_place():
    for what, value, source in report.rows():
        assert (report.ROOT / source).is_file(), source
        assert any(c.isdigit() for c in value), what
    stale = f"intro\n{report.BEGIN}\n| old | 1% | x |\n{report.END}\noutro\n"
    assert report.replace_block(stale, report.render()) == f"intro\n{report.render()}\noutro\n"
    with pytest.raises(ValueError, match="no results block"):
        report.replace_block("no markers here", report.render())
