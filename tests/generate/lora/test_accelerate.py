"""``accelerate launch -m rdface_hf.cli train-lora`` on the CPU, in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from safetensors.torch import load_file

from rdface_hf.generate.lora.config import WEIGHT_NAME


def test_accelerate_launch_trains_the_final_adapters(tiny_sd, lora_build, tmp_path):
    out = tmp_path / "final"
    accelerate = Path(sys.executable).with_name("accelerate")
    command = [
        str(accelerate), "launch", "--cpu", "--num_processes", "1", "--num_machines", "1",
        "--mixed_precision", "no", "--dynamo_backend", "no", "-m", "rdface_hf.cli", "train-lora",
        "--dataset", str(lora_build), "--base-model", str(tiny_sd), "--vae", "base", "--fold", "test",
        "--conditions", "AAS,CCS", "--max-train-steps", "2", "--output-dir", str(out), "--no-progress",
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run(command, capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "trained 2 adapters" in proc.stdout
    index = json.loads((out / "adapters.json").read_text())
    assert sorted(index["adapters"]) == ["AAS", "CCS"] and index["trained_on"] == "test"
    for abbr, record in index["adapters"].items():
        # --fold test: every non-test image (always-train and the cross-validation part), never a test image
        expected = [f"rdf-{abbr}-train-always-{i}" for i in range(3)] + [f"rdf-{abbr}-cv-0-0"]
        assert sorted(record["image_ids"]) == sorted(expected)
        assert any(k.startswith("unet.") for k in load_file(str(out / abbr / WEIGHT_NAME)))


def test_two_processes_share_the_conditions(trained, train_args, tmp_path):
    """torchrun + accelerate on the CPU (gloo): the groups are shared out, the main process
    writes the index, and the adapters are those of a single process."""
    out = tmp_path / "two"
    torchrun = Path(sys.executable).with_name("torchrun")
    # --standalone: torchrun picks a free port (never the default 29500 that a parallel test may hold)
    command = [str(torchrun), "--standalone", "--nproc_per_node", "2", "-m", "rdface_hf.cli"]
    command += train_args(output_dir=out, conditions_per_batch=1)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "ACCELERATE_USE_CPU": "1"}
    proc = subprocess.run(command, capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.count("trained ") == 1, "only the main process reports"
    index = json.loads((out / "adapters.json").read_text())
    assert sorted(index["adapters"]) == ["AAS", "BBS", "CCS"]
    for abbr in index["adapters"]:
        ours, theirs = load_file(str(out / abbr / WEIGHT_NAME)), load_file(str(trained / abbr / WEIGHT_NAME))
        diff = sum(float((ours[k] - theirs[k]).pow(2).sum()) for k in theirs) ** 0.5
        assert diff / sum(float(theirs[k].pow(2).sum()) for k in theirs) ** 0.5 < 1e-3
