"""The leak test, with the real stages: a poisoned test split changes only test metrics.

The test split's labels are permuted and its landmarks moved. Every training artefact (the
morphs, the filter's scores and choices, each probe's chosen C and validation scores) must
stay the same; the test metrics must change. (Checked to fail when the probe's scaler was
fitted on the training and test features together.)
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import datasets
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from rdface_hf.bench.config import BenchmarkConfig
from rdface_hf.bench.run import run_benchmark
from rdface_hf.commands.benchmark import _stages


def _poison(build: Path) -> None:
    path = next((build / "data").glob("test-*.parquet"))
    table = pq.read_table(path)
    rng = np.random.default_rng(0)
    labels = np.asarray(table.column("condition").to_pylist())
    i = table.schema.get_field_index("condition")
    table = table.set_column(i, table.schema.field(i), pa.array(np.roll(labels, 1), type=table.schema.field(i).type))
    j = table.schema.get_field_index("landmarks")
    points = [None if p is None else (np.asarray(p) + rng.normal(0, 0.02, np.shape(p))).tolist()
              for p in table.column("landmarks").to_pylist()]  # fmt: skip
    table = table.set_column(j, table.schema.field(j), pa.array(points, type=table.schema.field(j).type))
    pq.write_table(table, path)


def _study(tmp: Path, build: Path) -> Path:
    study = {
        "dataset": str(build), "folds": [0],
        "models": [{"name": "lm", "kind": "probe", "model": "landmarks", "methods": "logistic,centroid"}],
        "generators": [{"name": "morph", "kind": "morph", "per_condition": 2, "workers": 1}],
        "filter": {"score": "landmarks", "workers": 1},
        "regimes": {"augmented": {"per_condition": [1]}, "synthetic_only": {"sizes": [10]}},
    }  # fmt: skip
    path = tmp / f"{build.name}.yaml"
    path.write_text(json.dumps(study))
    return path


def _artefacts(out: Path) -> dict:
    runs = out / "runs"
    found = {}
    for folder in sorted(runs.glob("generate/*/fold_*")) + sorted(runs.glob("filter/*/*/fold_*")):
        ds = datasets.load_dataset(str(folder), split="train")
        cols = [c for c in ("image_id", "score", "kept") if c in ds.column_names]
        found[str(folder.relative_to(runs))] = {c: ds[c] for c in cols}
    tests = {}
    for res in sorted(runs.glob("cells/**/fold_0/results.json")):
        data = json.loads(res.read_text())
        key = str(res.relative_to(runs))
        for name, method in data["methods"].items():
            found[f"{key}:{name}"] = {"validation": method["validation"], "C": method.get("C")}
            tests[f"{key}:{name}"] = method["test"]["top_1"], method["test_true_rank"]
    return {"train": found, "test": tests}


def test_poisoned_test_split_changes_only_test_metrics(tmp_path, sim_build):
    clean, poisoned = tmp_path / "clean", tmp_path / "poisoned"
    shutil.copytree(sim_build, clean)
    shutil.copytree(sim_build, poisoned)
    _poison(poisoned)
    got = {}
    for build in (clean, poisoned):
        out = tmp_path / f"O_{build.name}"
        config = BenchmarkConfig(study=str(_study(tmp_path, build)), output_dir=str(out), bootstrap=100)
        result = run_benchmark(config, _stages(), log=lambda m: None)
        assert not result.failed, result.failed
        got[build.name] = _artefacts(out)
    assert len(got["clean"]["train"]) >= 6
    assert got["clean"]["train"] == got["poisoned"]["train"]  # nothing trained or selected saw the test split
    assert got["clean"]["test"] != got["poisoned"]["test"]  # the poison did reach the test metrics
