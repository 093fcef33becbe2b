"""Ctrl-C in the middle of a cell resumes on the rerun; --push-to-hub makes a private, gated repo first."""

from __future__ import annotations

import pandas as pd
import pytest

from rdface_hf.bench.config import BenchmarkConfig
from rdface_hf.bench.hub import push_study
from rdface_hf.bench.run import run_benchmark


def test_interrupted_cell_is_not_counted_and_resumes(tmp_path, write_study, stub_stages):
    stages, _ = stub_stages()
    real_probe = stages["probe"].run
    seen = []

    def interrupt_third(config):
        seen.append(config.output_dir)
        if len(seen) == 3:
            raise KeyboardInterrupt
        return real_probe(config)

    stages["probe"] = type(stages["probe"])(stages["probe"].config, interrupt_third)
    out = tmp_path / "O"
    config = BenchmarkConfig(study=str(write_study()), output_dir=str(out), bootstrap=100)
    with pytest.raises(KeyboardInterrupt):
        run_benchmark(config, stages, log=lambda m: None)
    assert not (out / "results.parquet").exists()
    states = list((out / "state").glob("*.json"))
    assert not any(seen[2].split("/runs/")[1].replace("/", "__") in s.name for s in states)
    result = run_benchmark(config, stages, log=lambda m: None)
    assert not result.failed and result.ran >= 1 and result.skipped >= 2
    frame = pd.read_parquet(out / "results.parquet")
    assert (frame["status"] == "done").all()
    unit_dir = seen[2].split("/runs/")[1]
    assert unit_dir in set(frame["run_dir"])


def test_push_to_hub_private_and_gated_before_upload(tmp_path, write_study, stub_stages, fake_hub):
    stages, _ = stub_stages()
    out = tmp_path / "O"
    config = BenchmarkConfig(study=str(write_study()), output_dir=str(out), bootstrap=100)
    run_benchmark(config, stages, log=lambda m: None)
    hub = fake_hub(tmp_path / "hub")
    push_study(out, "org/study", api=hub)
    names = [c[0] for c in hub.calls]
    assert names == ["create_repo", "update_repo_settings", "upload_folder"]
    assert hub.calls[0][2]["private"] is True and hub.calls[1][2]["gated"] == "manual"
    uploaded = sorted(p.name for p in hub.repo("org/study").rglob("*") if p.is_file())
    expected = ["README.md", "results.parquet", "summary.md", "summary.csv", "paired.csv", "report.html"]
    assert uploaded == sorted(expected)
