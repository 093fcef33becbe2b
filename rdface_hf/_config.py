"""Typed stage configs: validated on construction, saved beside their outputs."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any, TypeVar

from ._errors import InputError
from ._io import atomic_write_json

T = TypeVar("T", bound="StageConfig")


@dataclasses.dataclass
class StageConfig:
    """Base class: subclasses validate in ``validate()`` (called on init)."""

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:  # pragma: no cover - overridden
        pass

    def to_dict(self) -> dict[str, Any]:
        out = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, os.PathLike):
                value = str(value)
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        return out

    def save(self, path: str | os.PathLike) -> Path:
        data = {"stage": type(self).__name__, **self.to_dict()}
        return atomic_write_json(path, data)

    @classmethod
    def load(cls: type[T], path: str | os.PathLike, **overrides: Any) -> T:
        """Read a saved config; ``overrides`` fill fields a saved file leaves out
        (local paths) or replace saved ones."""
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        data.pop("stage", None)
        data.pop("provenance", None)
        data.update(overrides)
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise InputError(f"{path}: unknown config keys {sorted(unknown)}")
        return cls(**data)


def require(condition: bool, message: str) -> None:
    """Raise :class:`InputError` with ``message`` unless ``condition``."""
    if not condition:
        raise InputError(message)
