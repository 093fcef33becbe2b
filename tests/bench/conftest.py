"""Stand-in stages for the runner's tests: they write what the real ones write, in milliseconds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rdface_hf._io import atomic_write_json
from rdface_hf.bench.plan import Stage
from rdface_hf.classify.config import ProbeConfig, TrainClassifierConfig
from rdface_hf.filter.config import FilterConfig, MergeConfig
from rdface_hf.generate.config import GenerateConfig

METRICS = ("top_1", "top_5", "top_10", "top_30", "macro_f1", "balanced_accuracy")


def _stub_probe(calls, fail_when):
    def run(config):
        calls.append(config.output_dir)
        if fail_when(config):
            raise RuntimeError("stub probe failed on purpose")
        out = Path(config.output_dir) / f"fold_{config.fold}"
        out.mkdir(parents=True, exist_ok=True)
        bonus = 0.1 if config.extra_train else 0.0
        ranks = [0, 1, 0, 3, 0, 0, 2, 0] if not config.extra_train else [0, 0, 0, 3, 0, 0, 2, 0]
        test = dict.fromkeys(METRICS, 0.5 + bonus)
        atomic_write_json(out / "results.json", {"methods": {"logistic": {"test": test, "test_true_rank": ranks}}})
        return None

    return run


def _stub_set(calls):
    def run(config):
        calls.append(config.output_dir)
        Path(config.output_dir).mkdir(parents=True, exist_ok=True)
        (Path(config.output_dir) / "done.txt").write_text("ok")

    return run


@pytest.fixture
def stub_stages():
    """``make(fail_when=lambda config: ...)`` -> (stages, calls)."""

    def make(fail_when=lambda config: False):
        calls: list[str] = []
        stages = {
            "probe": Stage(ProbeConfig, _stub_probe(calls, fail_when)),
            "train-classifier": Stage(TrainClassifierConfig, _stub_probe(calls, fail_when)),
            "generate": Stage(GenerateConfig, _stub_set(calls)),
            "filter": Stage(FilterConfig, _stub_set(calls)),
            "merge": Stage(MergeConfig, _stub_set(calls)),
        }
        return stages, calls

    return make


@pytest.fixture
def write_study(tmp_path, sim_build):
    def write(**overrides):
        study = {
            "dataset": str(sim_build),
            "folds": [0, 1],
            "models": [{"name": "lm", "kind": "probe", "model": "landmarks", "methods": "logistic"}],
            "generators": [{"name": "morph", "kind": "morph", "per_condition": 4}],
            "filter": {"score": "landmarks"},
            "regimes": {"augmented": {"per_condition": [2]}, "low_data": {"shots": [1]},
                        "synthetic_only": {"sizes": [10]}},
        }  # fmt: skip
        study.update(overrides)
        path = tmp_path / "study.yaml"
        path.write_text(json.dumps(study))  # JSON is YAML
        return path

    return write
