"""A FIFO (or any special file) as a shard is refused unopened by filter, merge and report (issue 17 §5)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest


def _cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-m", "rdface_hf.cli", *args], capture_output=True, text=True,
                           timeout=120, env=env)  # fmt: skip


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_shard_is_refused_unopened(filter_inputs, tmp_path):
    dataset, synthetic, _ = filter_inputs
    bad_set = tmp_path / "fifo-set"
    shutil.copytree(synthetic, bad_set)
    os.mkfifo(bad_set / "data" / "train-99999-fifo.parquet")
    bad_build = tmp_path / "fifo-build"
    shutil.copytree(dataset, bad_build)
    os.mkfifo(bad_build / "data" / "zz-fifo.parquet")
    runs = {
        "filter": ["filter", "--dataset", str(dataset), "--synthetic", str(bad_set)],
        "merge": ["merge", "--dataset", str(dataset), "--synthetic", str(bad_set), "--unfiltered"],
        "report": ["report", "--dataset", str(dataset), "--synthetic", str(bad_set)],
        "filter (build)": ["filter", "--dataset", str(bad_build), "--synthetic", str(synthetic)],
        "report (build)": ["report", "--dataset", str(bad_build)],
    }
    for name, args in runs.items():
        out = tmp_path / name.replace(" ", "_")
        done = _cli(*args, "--output-dir", str(out))  # a hang fails here (timeout), never blocks the suite
        err = done.stderr.strip().splitlines()
        assert done.returncode == 2 and len(err) == 1, (name, done.stderr[-2000:])
        assert "FIFO" in err[0] and "refused unopened" in err[0], (name, err)
        assert not out.exists()
