"""Config values from outside: bounded YAML/JSON reading and a type check per field.

A config file is read with limits (size, nesting depth, YAML aliases), so that a
hostile or mistaken file ends in one line and exit 2, never in a traceback, a
hang or a memory blow-up. Every field value, from a file or from Python, is
checked against the field's annotation before the stage validates it.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import os
import types
import typing
from typing import Any

import yaml

MAX_BYTES = 1 << 20  # a config is a few hundred bytes; 1 MiB is generous
MAX_DEPTH = 32  # fields are scalars: a mapping of scalars is depth 1
MAX_ALIASES = 16  # YAML aliases (*name): enough for hand-written configs, no billion laughs
INT_LIMIT = 2**63 - 1  # seeds and counts beyond this overflow numpy and torch
# str fields that may be written as a plain number in YAML (`fold: 0`)
NUMBER_AS_TEXT = ("fold",)


class BadValue(ValueError):
    """A value of the wrong type or shape; its message completes "FIELD ..."."""


def _check_events(text: str, where: str) -> None:
    """Depth and alias limits on the YAML event stream (streamed: no recursion, nothing built)."""
    depth = aliases = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            if depth > MAX_DEPTH:
                raise BadValue(f"{where} is nested deeper than {MAX_DEPTH} levels")
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1
        elif isinstance(event, yaml.AliasEvent):
            aliases += 1
            if aliases > MAX_ALIASES:
                raise BadValue(f"{where} uses more than {MAX_ALIASES} YAML aliases")


def parse_text(text: str, *, as_json: bool, where: str) -> Any:
    """A config file's data, within the limits; :class:`BadValue` (one line) otherwise."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise BadValue(f"{where} is larger than {MAX_BYTES // 1024} KiB")
    kind = "JSON" if as_json else "YAML"
    try:
        if as_json:
            return json.loads(text, parse_constant=_no_constant)
        _check_events(text, where)
        return yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise BadValue(f"{where} is not valid {kind}: {first}") from None
    except RecursionError:
        raise BadValue(f"{where} is nested too deeply") from None
    except (ValueError, OverflowError) as exc:  # numbers JSON or YAML cannot hold
        raise BadValue(f"{where} is not valid {kind}: {exc}") from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number a config may hold")


@functools.cache
def field_types(config_class: type) -> dict[str, Any]:
    return typing.get_type_hints(config_class)


def _describe(value: Any) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text[:40] + '...' if len(text) > 40 else text}"


def _name(annotation: Any) -> str:
    if typing.get_origin(annotation) is typing.Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(annotation))
    return {bool: "true or false", int: "an integer", float: "a number", str: "text"}.get(
        annotation, getattr(annotation, "__name__", str(annotation))
    )


def _convert(value: Any, annotation: Any, name: str) -> Any:
    if annotation is bool:
        if isinstance(value, bool):
            return value
    elif annotation is int:
        if isinstance(value, int) and not isinstance(value, bool):
            if abs(value) > INT_LIMIT:
                raise BadValue(f"must be at most {INT_LIMIT} in size, got {value}")
            return value
    elif annotation is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if abs(value) > INT_LIMIT and not math.isinf(value):
                raise BadValue(f"must be a number of ordinary size, got {value!r}")
            return float(value)
    elif annotation is str:
        if isinstance(value, str):
            return value
        if isinstance(value, os.PathLike):
            return os.fspath(value)
        if name in NUMBER_AS_TEXT and isinstance(value, int) and not isinstance(value, bool):
            return str(value)
    elif typing.get_origin(annotation) is typing.Literal:
        choices = typing.get_args(annotation)
        if any(type(value) is type(c) and value == c for c in choices):
            return value
    else:  # a type this checker does not know: left to the stage's validate
        return value
    raise BadValue(f"must be {_name(annotation)}, got {_describe(value)}")


def check_value(value: Any, annotation: Any, name: str) -> Any:
    """``value`` as the field's type (``int`` -> ``float``, a path -> ``str``), or :class:`BadValue`."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(annotation) if a is not type(None)]
        if value is None and len(options) < len(typing.get_args(annotation)):
            return None
        errors = []
        for option in options:
            try:
                return _convert(value, option, name)
            except BadValue as exc:
                errors.append(exc)
        if len(options) == 1:
            raise errors[0]
        raise BadValue(f"must be {' or '.join(_name(o) for o in options)}, got {_describe(value)}")
    return _convert(value, annotation, name)


def checked_fields(config: Any) -> dict[str, Any]:
    """Each init field of dataclass ``config`` checked: ``{name: value}``; raises ``(name, BadValue)``."""
    hints = field_types(type(config))
    out = {}
    for field in dataclasses.fields(config):
        if not field.init:
            continue
        try:
            out[field.name] = check_value(getattr(config, field.name), hints.get(field.name, Any), field.name)
        except BadValue as exc:
            raise FieldError(field.name, str(exc)) from None
    return out


class FieldError(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(field, message)
        self.field, self.message = field, message
