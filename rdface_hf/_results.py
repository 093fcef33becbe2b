"""One result type for every stage: a frozen dataclass that writes JSON."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from ._io import atomic_write_json


def plain(value: Any) -> Any:
    """``value`` as JSON-ready Python: paths as strings, numpy as numbers and lists."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, os.PathLike):
        return str(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


@dataclasses.dataclass(frozen=True)
class StageResult:
    """Base of the results stages return (``BuildResult``, ``SimResult``, ...)."""

    def to_dict(self) -> dict[str, Any]:
        return plain(self)

    def to_json(self, **extra: Any) -> str:
        """One line of JSON (what benchmark scripts print); ``extra`` keys come first."""
        return json.dumps({**plain(extra), **self.to_dict()}, sort_keys=False)

    def save(self, path: str | os.PathLike, **extra: Any) -> Path:
        return atomic_write_json(path, {**plain(extra), **self.to_dict()})
