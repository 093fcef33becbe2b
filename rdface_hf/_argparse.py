"""Command-line parsers generated from stage configs, with ``--config FILE``.

Flags come from the config dataclass through :class:`transformers.HfArgumentParser`
(as in Hugging Face's example scripts): ``test_fraction`` becomes
``--test-fraction`` (``--test_fraction`` works too), a ``bool`` field with a
true default gets ``--no-<name>``, a ``Literal`` becomes a choice. Two
additions: fields declared ``positional`` become plain arguments
(``rdface build RAW OUT``), and every command takes ``--config FILE`` (YAML or
JSON, for example a saved ``<stage>_config.json``) whose values the flags
override.

``transformers`` is imported here without torch (about 0.6 s); it is a core
dependency for this parser alone.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import types
import typing
from collections.abc import Sequence
from typing import Any

from transformers import HfArgumentParser

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
        if isinstance(action, argparse._StoreFalseAction) or action.default is None:
            return action.help or ""
        return super()._get_help_string(action)


def _dashes_first(parser: argparse.ArgumentParser) -> None:
    """Usage lines show an option's first spelling: make it ``--test-fraction``."""
    for action in parser._actions:
        action.option_strings[:] = sorted(action.option_strings, key=lambda o: "_" in o)  # stable


def _plain_type(annotation: Any) -> Any:
    """``str | None`` -> ``str``: the type argparse converts a value with."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return args[0] if len(args) == 1 else str
    return annotation


class ConfigParser(OneLineErrors, HfArgumentParser):
    """An :class:`~transformers.HfArgumentParser` for one :class:`StageConfig`."""

    @staticmethod
    def _parse_dataclass_field(parser: argparse.ArgumentParser, field: dataclasses.Field) -> None:
        passed = {k: v for k, v in field.metadata.items() if k not in OWN_METADATA}
        if field.metadata.get("positional"):
            kwargs: dict[str, Any] = {"type": _plain_type(field.type), **passed}
            kwargs.setdefault("metavar", field.name.upper())
            if field.default is not dataclasses.MISSING:
                kwargs.update(nargs="?", default=field.default)
            parser.add_argument(field.name, **kwargs)
            return
        plain = copy.copy(field)
        plain.metadata = types.MappingProxyType(passed)
        HfArgumentParser._parse_dataclass_field(parser, plain)


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
    parser.set_defaults(**values)


def config_from_namespace(config_class: type[StageConfig], namespace: argparse.Namespace) -> StageConfig:
    names = [f.name for f in dataclasses.fields(config_class) if f.init]
    return config_class(**{n: getattr(namespace, n) for n in names if hasattr(namespace, n)})


def flag_of(config_class: type[StageConfig], field: str) -> str:
    """How the command line spells a field: ``--test-fraction`` or ``RAW``."""
    for f in dataclasses.fields(config_class):
        if f.name == field:
            if f.metadata.get("positional"):
                return f.metadata.get("metavar") or field.upper()
            return "--" + field.replace("_", "-")
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
