"""The GPU benchmark script runs at tiny sizes on the CPU (``--smoke``)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path


def test_gpu_benchmark_script_smoke(capsys):
    path = Path(__file__).resolve().parents[3] / "benchmarks" / "gpu_lora.py"
    spec = importlib.util.spec_from_file_location("gpu_lora", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--smoke", "--no-compile"]) == 0
    figures = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert figures["smoke"] is True and set(figures["training"]) == {"1", "2"}
    assert all(v["samples_per_s"] > 0 for v in figures["training"].values())
    assert figures["projection_103x800"]["minutes"] > 0 and figures["projection_103x800"]["largest_group"] == 2
    assert {"eager_lora", "fused_lora"} <= set(figures["generation"])
    assert all(v["images_per_s"] > 0 for v in figures["generation"].values())
