"""The runner with stand-in stages: every regime planned, resume, two runners, a failed cell, bad studies."""

from __future__ import annotations

import json
import subprocess
import sys
import threading

import datasets
import pandas as pd
import pytest

from rdface_hf._config import ConfigError
from rdface_hf.bench.config import BenchmarkConfig
from rdface_hf.bench.run import run_benchmark


def _run(study, out, stages, **kw):
    return run_benchmark(
        BenchmarkConfig(study=str(study), output_dir=str(out), bootstrap=200, **kw), stages, log=lambda m: None
    )


def test_every_regime_resume_and_tables(tmp_path, write_study, stub_stages):
    stages, calls = stub_stages()
    out = tmp_path / "O"
    result = _run(write_study(), out, stages)
    regimes = {"real_only", "augmented", "low_data", "synthetic_only"}
    frame = pd.read_parquet(out / "results.parquet")
    assert set(frame["regime"]) == regimes and set(frame["fold"]) == {0, 1}
    assert set(frame["metric"]) == {"top_1", "top_5", "top_10", "top_30", "macro_f1", "balanced_accuracy"}
    assert not result.failed and result.ran == result.units == len(calls)
    # generators per fold from that fold only
    gens = [c for c in calls if "/generate/" in c]
    assert sorted(g.rsplit("/", 1)[1] for g in gens) == ["fold_0", "fold_1"]
    loaded = datasets.load_dataset(str(out), split="train")
    assert len(loaded) == len(frame)
    pairs = pd.read_csv(out / "paired.csv")
    aug = pairs[pairs["regime"] == "augmented"].iloc[0]
    assert aug["mean_difference"] == pytest.approx(0.1) and not aug["within_noise"]
    assert "within noise" in (out / "summary.md").read_text()
    page = (out / "report.html").read_text()
    assert "<table" in page and "data:image/png;base64" in page and "http" not in page.replace("http-equiv", "")
    # a rerun does nothing; a changed setting is refused; --overwrite reruns it
    calls.clear()
    again = _run(write_study(), out, stages)
    assert calls == [] and again.skipped == again.units
    changed = write_study(models=[{"name": "lm", "kind": "probe", "model": "landmarks", "methods": "centroid"}])
    with pytest.raises(ConfigError, match="overwrite"):
        _run(changed, out, stages)
    _run(changed, out, stages, overwrite=True)
    assert calls and all("/cells/" in c for c in calls)


def test_failed_cell_skips_dependants_only(tmp_path, write_study, stub_stages):
    stages, _calls = stub_stages(fail_when=lambda c: c.shots == 1 and c.extra_train is None)
    out = tmp_path / "O"
    result = _run(write_study(), out, stages)
    assert len(result.failed) == 2 and all("low_data/shots_1/" in k for k in result.failed)
    frame = pd.read_parquet(out / "results.parquet")
    failed = frame[frame["status"] == "failed"]
    assert set(failed["error"]) == {"RuntimeError: stub probe failed on purpose"}
    assert (frame["status"] == "done").sum() > 0
    assert "stub probe failed on purpose" in (out / "report.html").read_text()
    # a failed filter: its cells are skipped, the rest go on
    stages2, _ = stub_stages()
    stages2["filter"] = type(stages2["filter"])(stages2["filter"].config, lambda c: 1 / 0)
    result2 = _run(write_study(), tmp_path / "O2", stages2)
    skipped = [k for k, v in result2.failed.items() if v.startswith("skipped")]
    assert skipped and all("/cells/" not in k or "morph" in k for k in skipped)


def test_two_runners_share_one_output(tmp_path, write_study, stub_stages):
    stages, calls = stub_stages()
    out, study = tmp_path / "O", write_study()
    errors = []

    def go():
        try:
            _run(study, out, stages)
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=go) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(calls) == len(set(calls))  # every unit ran once, by one of the two
    assert len(pd.read_parquet(out / "results.parquet")) > 0


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"regimes": {"nonsense": {}}}, "regimes.nonsense"),
        ({"models": [{"name": "m", "kind": "finetune?", "model": "x"}]}, "models[0].kind"),
        ({"models": [{"name": "m", "kind": "probe", "model": "landmarks", "methods": "nope"}]}, "models[0].methods"),
        ({"generators": [{"name": "g", "kind": "morph", "per_condition": 1}]}, "generators[0].per_condition"),
        ({"filter": {"top_n": 3}}, "filter.top_n"),
        ({"folds": [0, 9]}, "folds"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_study_one_line_exit_2_nothing_written(tmp_path, write_study, change, key):
    out = tmp_path / "O"
    proc = subprocess.run([sys.executable, "-m", "rdface_hf.cli", "benchmark", "--config", str(write_study(**change)),
                           "--output-dir", str(out)], capture_output=True, text=True, timeout=120)  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and key in proc.stderr
    assert not out.exists()


def test_dry_run_writes_nothing(tmp_path, write_study, stub_stages, capsys):
    stages, calls = stub_stages()
    result = _run(write_study(), tmp_path / "O", stages, dry_run=True)
    assert "todo" in result.plan and "generate/morph/fold_1" in result.plan and not calls
    assert not (tmp_path / "O").exists()
    assert json.dumps(result.units)
