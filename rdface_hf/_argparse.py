"""Command-line parsers generated from stage configs, with ``--config FILE``.

Flags come from the config dataclass, in the manner of Hugging Face's
``HfArgumentParser`` but without importing transformers (the CLI must start
fast): ``test_fraction`` becomes ``--test-fraction`` (``--test_fraction`` works
too), a ``bool`` field is a plain switch (``--overwrite``) and one with a true
default also gets ``--no-<name>``, a ``Literal`` becomes a choice. Fields
declared ``positional`` become plain arguments (``rdface build RAW OUT``), and
every command takes ``--config FILE`` (YAML or JSON, for example a saved
``<stage>_config.json``) whose values the flags override. A command with many
flags shows them in groups (inputs, outputs, training, Hub, performance).
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import types
import typing
from collections.abc import Sequence
from typing import Any

from ._config import OWN_METADATA, ConfigError, StageConfig


class OneLineErrors:
    """argparse already exits 2 on a bad flag; keep its message to one line."""

    def error(self, message: str) -> typing.NoReturn:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


class TopParser(OneLineErrors, argparse.ArgumentParser):
    pass


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Help that shows ``--test-fraction`` (not also ``--test_fraction``) and no
    default on the ``--no-...`` switches."""

    def _format_action_invocation(self, action: argparse.Action) -> str:
        dashed = [o for o in action.option_strings if "_" not in o]
        if action.option_strings and dashed and len(dashed) < len(action.option_strings):
            action = copy.copy(action)
            action.option_strings = dashed
        return super()._format_action_invocation(action)

    def _get_help_string(self, action: argparse.Action) -> str:
        if isinstance(action, (argparse._StoreFalseAction, argparse._StoreTrueAction)) or action.default is None:
            return action.help or ""
        return super()._get_help_string(action)


def _dashes_first(parser: argparse.ArgumentParser) -> None:
    """Usage lines show an option's first spelling: make it ``--test-fraction``."""
    for action in parser._actions:
        action.option_strings[:] = sorted(action.option_strings, key=lambda o: "_" in o)  # stable


class ConfigParser(OneLineErrors, argparse.ArgumentParser):
    """The parser of one command: ``dataclass_types=[SomeStageConfig]`` adds its flags."""

    def __init__(self, *args: Any, dataclass_types: Sequence[type] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for config_class in dataclass_types:
            add_config_flags(self, config_class)


# Where a field's flag is shown in --help when a command has more than GROUP_OVER flags.
GROUP_OVER = 15
GROUPS = {
    "inputs": ("dataset", "dataset_revision", "fold", "raw", "synthetic", "model", "landmarker", "landmarker_model"),
    "outputs": ("output_dir", "out", "overwrite"),
    "Hub": ("token", "push_to_hub", "hub_private", "repo_id", "revision", "hub_revision"),
    "performance": ("workers", "batch_size", "mixed_precision", "progress", "num_workers", "device", "dtype"),
}


def _group_of(name: str) -> str:
    hub = name.startswith(("hub_", "push_"))
    return next((g for g, names in GROUPS.items() if name in names), "Hub" if hub else "training")


def _field_type(field: dataclasses.Field, hints: dict[str, Any]) -> tuple[Any, bool]:
    """``(the plain type, whether None is allowed)`` of a field: ``int | None`` -> ``(int, True)``."""
    annotation = hints.get(field.name, field.type)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return (args[0] if len(args) == 1 else str), len(args) < len(typing.get_args(annotation))
    return annotation, False


def _kwargs(field: dataclasses.Field, plain: Any) -> dict[str, Any]:
    kwargs: dict[str, Any] = {k: v for k, v in field.metadata.items() if k not in (*OWN_METADATA, "aliases")}
    if typing.get_origin(plain) is typing.Literal:
        choices = list(typing.get_args(plain))
        kwargs.update(choices=choices, type=type(choices[0]))
    elif plain in (int, float, str):
        kwargs["type"] = plain
    return kwargs


def _add_field(parser, field: dataclasses.Field, hints: dict[str, Any]) -> None:
    plain, _ = _field_type(field, hints)
    kwargs = _kwargs(field, plain)
    missing = field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING
    default = (
        None if missing else field.default if field.default is not dataclasses.MISSING else field.default_factory()
    )
    flag = field.metadata.get("flag")
    if field.metadata.get("positional"):
        kwargs.setdefault("metavar", field.name.upper())
        if not missing or flag:
            kwargs.update(nargs="?", default=default)
        parser.add_argument(field.name, **kwargs)
        if flag:  # the flag form of the positional: `--output-dir OUT`
            parser.add_argument(
                flag, dest=field.name + FLAG_FORM, metavar=kwargs["metavar"], help=f"same as {kwargs['metavar']}"
            )
        return
    dashed, under = "--" + field.name.replace("_", "-"), "--" + field.name
    names = [
        *([flag] if flag else []),
        dashed,
        *([under] if under != dashed else []),
        *field.metadata.get("aliases", ()),
    ]
    if plain is bool:  # a plain switch: --overwrite, or --progress / --no-progress when on by default
        kwargs.pop("type", None)
        if default is not True:
            parser.add_argument(*names, dest=field.name, action="store_true", default=default, **kwargs)
            return
        parser.add_argument(dashed, dest=field.name, action=argparse.BooleanOptionalAction, default=True, **kwargs)
        hidden = [*names[1:], "--no_" + field.name]
        hidden += ["--no-" + a[2:] for a in field.metadata.get("aliases", ())]
        for name in dict.fromkeys(hidden):
            on = not name.startswith("--no")
            parser.add_argument(name, dest=field.name, action="store_const", const=on, help=argparse.SUPPRESS)
        return
    parser.add_argument(*names, dest=field.name, default=default, required=missing, **kwargs)


def add_config_flags(parser: argparse.ArgumentParser, config_class: type) -> None:
    """One flag per init field of ``config_class`` (grouped in --help when there are many)."""
    hints = typing.get_type_hints(config_class)
    fields = [f for f in dataclasses.fields(config_class) if f.init]
    grouped = len(fields) > GROUP_OVER
    groups: dict[str, Any] = {}
    for field in fields:
        target = parser
        if grouped and not field.metadata.get("positional"):
            name = _group_of(field.name)
            target = groups.get(name) or groups.setdefault(name, parser.add_argument_group(name))
        _add_field(target, field, hints)


def add_command(subparsers, name: str, config_class: type[StageConfig], *, help: str, description: str | None = None):
    """Add ``name`` with the flags of ``config_class`` and ``--config FILE``."""
    parser = subparsers.add_parser(
        name,
        help=help,
        description=description or help,
        dataclass_types=[config_class],
        formatter_class=HelpFormatter,
    )
    _dashes_first(parser)
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="YAML or JSON file of settings (e.g. a saved <stage>_config.json); flags given here override it",
    )
    parser.set_defaults(config_class=config_class)
    return parser


def apply_config_file(parser: argparse.ArgumentParser, config_class: type[StageConfig], path: str) -> None:
    """Make the values in ``path`` the parser's defaults (so flags override them)."""
    values = config_class.read_file(path)
    for action in parser._actions:
        if action.dest in values:
            action.required = False
            if not action.option_strings and action.nargs is None:
                action.nargs = "?"
    parser.set_defaults(**{k: FromFile(v) for k, v in values.items()})


class FromFile(typing.NamedTuple):
    """A value from ``--config``, wrapped so that argparse passes it on as it is (it converts string
    defaults with the flag's type, which would turn a quoted ``'3'`` into 3): the config checks its type."""

    value: Any


FLAG_FORM = "__flag"  # the namespace name of a positional's flag form


def config_from_namespace(config_class: type[StageConfig], namespace: argparse.Namespace) -> StageConfig:
    values = {}
    for field in (f for f in dataclasses.fields(config_class) if f.init):
        value = getattr(namespace, field.name, dataclasses.MISSING)
        flagged = getattr(namespace, field.name + FLAG_FORM, None)
        if flagged is not None:  # OUT and --output-dir: one of them, or both the same
            if value not in (None, flagged) and not isinstance(value, FromFile):
                raise ConfigError(field.name, f"and {field.metadata['flag']} name different folders: give one")
            value = flagged
        if isinstance(value, FromFile):
            value = value.value
        if value is None and field.metadata.get("flag") and field.default is dataclasses.MISSING:
            raise ConfigError(
                field.name, f"is required (as {flag_of(config_class, field.name)} or {field.metadata['flag']})"
            )
        if value is not dataclasses.MISSING:
            values[field.name] = value
    return config_class(**values)


def flag_of(config_class: type[StageConfig], field: str) -> str:
    """How the command line spells a field: ``--test-fraction`` or ``RAW``."""
    for f in dataclasses.fields(config_class):
        if f.name == field:
            if f.metadata.get("positional"):
                return f.metadata.get("metavar") or field.upper()
            return f.metadata.get("flag") or "--" + field.replace("_", "-")
    return field


def flag_message(config_class: type[StageConfig], exc: ConfigError) -> str:
    return f"{flag_of(config_class, exc.field)} {exc.message}"


def command_of(argv: Sequence[str], commands: Sequence[str]) -> str | None:
    return next((a for a in argv if a in commands), None)


def config_path_of(argv: Sequence[str]) -> str | None:
    """The value of ``--config`` in ``argv`` (``--config F`` or ``--config=F``)."""
    pre = TopParser(prog="rdface", add_help=False)
    pre.add_argument("--config")
    known, _ = pre.parse_known_args(list(argv))
    return known.config
