"""``benchmarks/gpu_reports.py --smoke``: the GPU script runs at tiny sizes on the CPU."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "gpu_reports.py"


def test_gpu_reports_smoke(capsys):
    spec = importlib.util.spec_from_file_location("gpu_reports", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--smoke", "--batches", "1", "--new-tokens", "3"]) == 0
    line = capsys.readouterr().out.strip().splitlines()[-1]
    result = json.loads(line)
    assert result["benchmark"] == "gpu_reports" and result["smoke"] is True
    batch = result["batch"]["2"]
    assert batch["reports"] == 2 and batch["images_per_s"] > 0
    # the 7B shape is what the GPU run builds
    assert module.QWEN25_VL_7B_TEXT["hidden_size"] == 3584 and module.QWEN25_VL_7B_VISION["depth"] == 32
