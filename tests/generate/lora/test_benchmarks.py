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


def _load(name: str):
    path = Path(__file__).resolve().parents[3] / "benchmarks" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_speed_benchmark_splits_a_step_into_fixed_and_per_sample_time():
    speed = _load("lora_speed")
    fit = speed.fit_step_time({n: 40.0 + 50.0 * n for n in (1, 2, 4, 8)})
    assert fit["fixed_ms_per_step"] == 40.0 and fit["per_sample_ms"] == 50.0
    assert fit["per_sample_share_of_batch_8_step"] == round(400 / 440, 3)
    assert fit["limit_ratio_infinite_batch"] == 1.8 and fit["fixed_over_per_sample_needed_for_3x_at_8"] == 3.2
    # at fixed / per-sample = 3.2, batch 8 is exactly 3 times faster per sample than batch 1
    at_goal = speed.fit_step_time({1: 3.2 + 1.0, 8: 3.2 + 8.0})
    assert round(8 * at_goal["ms_per_step"]["1"] / at_goal["ms_per_step"]["8"], 6) == 3.0


def test_the_speed_benchmark_names_the_kinds_of_ops():
    speed = _load("lora_speed")
    assert speed._category("aten::_scaled_dot_product_flash_attention_for_cpu") == "attention"
    assert speed._category("aten::mkldnn_convolution") == "convolution"
    assert speed._category("aten::baddbmm") == "matmul (base linears, LoRA)"
    assert speed._category("lora.forward") == "python (outside aten ops)"
    assert speed._category("autograd::engine::evaluate_function: MmBackward0") == "autograd engine"
    assert speed._category("aten::add_") == "elementwise"
