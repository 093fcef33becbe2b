"""One result type: frozen dataclasses that write plain JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rdface_hf._results import StageResult


@dataclass(frozen=True)
class Example(StageResult):
    out: Path
    score: float
    counts: dict
    shape: tuple


def test_to_json_and_save_are_plain_json(tmp_path):
    result = Example(out=tmp_path / "o", score=np.float32(0.5), counts={"a": np.int64(3)}, shape=(1, 2))
    line = result.to_json(benchmark="x")
    assert "\n" not in line
    data = json.loads(line)
    assert data == {"benchmark": "x", "out": str(tmp_path / "o"), "score": 0.5, "counts": {"a": 3}, "shape": [1, 2]}
    saved = json.loads(result.save(tmp_path / "r.json").read_text())
    assert saved == {k: v for k, v in data.items() if k != "benchmark"}
