"""``benchmarks/gpu_fastgan.py`` runs at tiny sizes on the CPU (``--smoke``) and reports finite losses."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[3] / "benchmarks" / "gpu_fastgan.py"


@pytest.fixture
def script():
    spec = importlib.util.spec_from_file_location("gpu_fastgan", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    yield module
    from accelerate.state import AcceleratorState

    AcceleratorState._reset_state(reset_partial_state=True)  # the script's Accelerator(cpu=True)


def test_smoke_run_in_process(script):
    result = script.one(64, "no", smoke=True)
    assert result["resolution"] == 64 and result["finite"]
    assert result["it_per_s"] > 0 and result["sample_img_per_s"] > 0


def test_smoke_command_prints_one_json_line(script, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["gpu_fastgan.py", "--smoke", "--one", "64", "no"])
    script.main()
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["resolution"] == 64
