"""``accelerate launch`` with two CPU processes (DDP over gloo), in a subprocess.

accelerate 1.15 runs ``--cpu --num_processes 2`` as a single process unless it is given an
MPI host file; two CPU processes come from its torchrun launcher (``--multi_gpu``) with
``ACCELERATE_USE_CPU=1`` (train-classifier also falls back to the CPU by itself there).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.slow
def test_accelerate_launch_two_cpu_processes(colour_dataset, tiny_vit, tmp_path):
    accelerate = Path(sys.executable).with_name("accelerate")
    out = tmp_path / "ddp"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "ACCELERATE_USE_CPU": "1"}
    command = [
        str(accelerate),
        "launch",
        "--multi_gpu",
        "--num_processes",
        "2",
        "--num_machines",
        "1",
        "--mixed_precision",
        "no",
        "--dynamo_backend",
        "no",
        "--main_process_port",
        "0",
        "-m",
        "rdface_hf.cli",
        "train-classifier",
        "--dataset",
        str(colour_dataset),
        "--model",
        str(tiny_vit),
        "--fold",
        "0",
        "--epochs",
        "2",
        "--batch-size",
        "4",
        "--gradient-accumulation-steps",
        "2",
        "--output-dir",
        str(out),
        "--no-progress",
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("trained ") == 1, "only the main process reports"
    results = json.loads((out / "fold_0" / "results.json").read_text())
    assert results["run"]["processes"] == 2
    assert results["train_images"] == 16 and results["test"]["images"] == 8
    log = [json.loads(line) for line in (out / "fold_0" / "epochs.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in log] == [1, 2]
    assert all(r["train_images_per_s"] > 0 for r in log)
    assert (out / "fold_0" / "model.safetensors").is_file() and (out / "summary.json").is_file()
