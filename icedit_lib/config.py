"""Typed training configurations: each training script declares its options once, as a dataclass, and
`parse_config` builds the command line from it (transformers' `HfArgumentParser`, as the Hugging Face
examples do). Helpers then take the typed config, never the argparse namespace, and the run record stores
`dataclasses.asdict(config)`: the same names as the flags, with dashes for underscores on the command line."""
from __future__ import annotations

import dataclasses
from typing import TypeVar

T = TypeVar("T")


def option(default, help: str = "", **kwargs):
    """A dataclass field with its command-line help."""
    return dataclasses.field(default=default, metadata={"help": help, **kwargs})


def parse_config(cls: type[T], argv: list[str] | None = None, description: str | None = None) -> T:
    """`cls` filled from `argv` (sys.argv when None). A `ValueError` from the config's `__post_init__` (a bad
    combination of options) becomes a usage error, as argparse's own checks do."""
    from transformers import HfArgumentParser

    parser = HfArgumentParser(cls, description=description)
    for action in parser._actions:  # the dashed spelling first, so usage and help show it (both are accepted)
        action.option_strings.sort(key=lambda flag: "_" in flag)
    try:
        (config,) = parser.parse_args_into_dataclasses(argv, look_for_args_file=False)
    except ValueError as e:
        parser.error(str(e))
    return config


def command_line(module: str, config) -> str:
    """The command that makes `config` again: `python -m MODULE` and a flag for every option that differs from
    its default (what a run record quotes, whether the run came from a shell or from Python)."""
    import shlex

    words = ["python", "-m", module]
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        if not f.init or (default is not dataclasses.MISSING and value == default):
            continue
        flag = "--" + f.name.replace("_", "-")
        if isinstance(value, bool):
            words += [flag] if value else [flag, "false"]
        elif isinstance(value, (list, tuple)):  # nargs options take their items as separate words
            words += [flag, *map(str, value)]
        else:
            words += [flag, str(value)]
    return " ".join(shlex.quote(w) for w in words)
