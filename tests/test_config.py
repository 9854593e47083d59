"""Typed configs: the command a record quotes makes the same config again."""
import shlex

import pytest


@pytest.mark.parametrize("module, argv", [
    ("icedit_lib.train_judge", ["--preview-at", "1", "3", "--synthetic-kinds", "copy", "smear", "--steps", "7"]),
    ("icedit_lib.train", ["--output-dir", "out", "--adapter", "moe", "--num-experts", "2", "--gradient-checkpointing"]),
    ("icedit_lib.pretrain_flux", ["--stage", "fill", "--fill-kinds", "right", "--continue-from-export", "--fresh-schedule"]),
])
def test_command_line_parses_back_to_the_same_config(module, argv):
    import importlib

    from icedit_lib.config import command_line

    script = importlib.import_module(module)
    config = script.parse_args(argv)
    command = command_line(module, config)
    words = shlex.split(command)
    assert words[:3] == ["python", "-m", module]
    assert script.parse_args(words[3:]) == config


def test_command_line_leaves_defaults_unsaid_lists_included():
    from icedit_lib import train_judge
    from icedit_lib.config import command_line

    assert command_line("icedit_lib.train_judge", train_judge.parse_args([])) == "python -m icedit_lib.train_judge"
