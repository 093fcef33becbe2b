"""The plan: every run of the study (generators, filters, cells) with its config and inputs.

A unit is one stage run into ``O/runs/<id>``; a *cell* is a unit that scores a model
(model x regime x setting x fold). Units come in dependency order.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._config import StageConfig, require
from ..dataset import RDFaceDataset
from ..dataset.synthetic import SyntheticSet
from .study import MODEL_KINDS, Spec, Study

# Seconds per unit on 2 CPU cores, default simulated release (benchmarks/bench_study.py); for --dry-run.
COST_S = {"generate": 25.0, "filter": 8.0, "probe": 3.0, "train-classifier": 600.0}


@dataclass(frozen=True)
class Stage:
    """A stage as the command hands it in: its config class and its entry function."""

    config: type[StageConfig]
    run: Callable[[Any], Any]


Stages = Mapping[str, Stage]


@dataclass
class Unit:
    id: str
    stage: str
    config: StageConfig
    fold: int
    deps: list[str] = field(default_factory=list)
    cell: dict[str, Any] | None = None  # model, kind, regime, setting, generator, value, seed

    @property
    def digest(self) -> str:
        identity = {k: v for k, v in self.config.identity().items() if k not in ("overwrite", "output_dir")}
        text = json.dumps({"stage": self.stage, **identity}, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    @property
    def inputs(self) -> list[str]:
        names = ("dataset", "synthetic", "extra_train", "model")
        return [f"{n}={getattr(self.config, n)}" for n in names if getattr(self.config, n, None)]


def _folds(study: Study, dataset: RDFaceDataset) -> list[int]:
    folds = study.folds if study.folds is not None else list(range(dataset.num_folds))
    bad = [f for f in folds if f >= dataset.num_folds]
    require(not bad, "folds", f"{bad} not in {study.dataset} (folds 0 to {dataset.num_folds - 1})")
    return folds


def _check_prebuilt(gen: Spec, folds: list[int]) -> None:
    for fold in folds:
        path = gen.prebuilt.get(fold)
        require(path is not None, f"generators.{gen.name}.prebuilt.fold_{fold}", "is missing (one set per fold)")
        trained = {str(t) for t in SyntheticSet(path).dataset["trained_on"]}
        require(
            trained <= {f"fold_{fold}"},
            f"generators.{gen.name}.prebuilt.fold_{fold}",
            f"was trained on {sorted(trained)}, not fold_{fold}'s training split",
        )


class Planner:
    def __init__(self, study: Study, stages: Stages, out: Path) -> None:
        self.study, self.stages, self.runs = study, stages, out / "runs"
        self.dataset = RDFaceDataset(study.dataset)
        self.folds = _folds(study, self.dataset)
        self.units: dict[str, Unit] = {}

    def add(self, uid: str, stage: str, k: int, deps: list[str], cell=None, **settings) -> str:
        if uid not in self.units:
            config = self.stages[stage].config(output_dir=str(self.runs / uid), **settings)
            self.units[uid] = Unit(uid, stage, config, k, [d for d in deps if d], cell)
        return uid

    def synthetic(self, gen: Spec, fold: int) -> tuple[str | None, str]:
        """The generator's set for ``fold``: (unit id or None for prebuilt, path)."""
        if gen.prebuilt is not None:
            return None, gen.prebuilt[fold]
        uid = f"generate/{gen.name}/fold_{fold}"
        self.add(uid, "generate", fold, [], generator=gen.kind, dataset=self.study.dataset, fold=str(fold),
                 **gen.settings)  # fmt: skip
        return uid, str(self.runs / uid)

    def filtered(self, gen: Spec, fold: int, mode: str, top_n: int) -> tuple[str, str]:
        dep, path = self.synthetic(gen, fold)
        tag = "cond" if mode == "top-n-per-condition" else "total"
        uid = f"filter/{gen.name}/{tag}_{top_n}/fold_{fold}"
        self.add(uid, "filter", fold, [dep], dataset=self.study.dataset, synthetic=path, fold=str(fold), mode=mode,
                 top_n=top_n, **self.study.filter)  # fmt: skip
        return uid, str(self.runs / uid)

    def cell(self, model: Spec, regime: str, setting: str, fold: int, seed: int, **about) -> None:
        filt = about.pop("filter", None)
        dep, extra = self.filtered(*filt) if filt else (None, None)
        shots = about.pop("shots", None)
        settings = dict(model.settings)
        if model.kind == "probe":
            settings["synthetic_only"] = regime == "synthetic_only"
            settings["progress"] = False
        tail = f"/seed_{seed}" if len(self.study.seeds) > 1 else ""
        uid = f"cells/{model.name}/{regime}/{setting}{tail}/fold_{fold}"
        cell = {"model": model.name, "kind": model.kind, "regime": regime, "setting": setting, "seed": seed, **about}
        self.add(uid, MODEL_KINDS[model.kind], fold, [dep], cell, dataset=self.study.dataset, fold=str(fold),
                 seed=seed, shots=shots, extra_train=extra, **settings)  # fmt: skip

    def model_cells(self, model: Spec, fold: int, seed: int) -> None:
        regimes = self.study.regimes
        self.cell(model, "real_only", "real", fold, seed, generator=None, value=None)
        for gen in self.study.generators:
            for n in regimes.get("augmented", {}).get("per_condition", []):
                self.cell(model, "augmented", f"{gen.name}_{n}", fold, seed, generator=gen.name, value=n,
                          filter=(gen, fold, "top-n-per-condition", n))  # fmt: skip
            for size in regimes.get("synthetic_only", {}).get("sizes", []):
                self.cell(model, "synthetic_only", f"{gen.name}_{size}", fold, seed, generator=gen.name, value=size,
                          filter=(gen, fold, "global-top-n", size))  # fmt: skip
        low = regimes.get("low_data")
        for shots in (low or {}).get("shots", []):
            self.cell(model, "low_data", f"shots_{shots}", fold, seed, generator=None, value=shots, shots=shots)
            for gen in self.study.generators:
                n = low["synthetic_per_condition"][0]
                self.cell(model, "low_data", f"shots_{shots}+{gen.name}_{n}", fold, seed, generator=gen.name,
                          value=shots, shots=shots, filter=(gen, fold, "top-n-per-condition", n))  # fmt: skip


def make_plan(study: Study, stages: Stages, out: Path) -> tuple[list[Unit], RDFaceDataset]:
    """Every unit of the study in dependency order (prebuilt sets checked against their folds)."""
    planner = Planner(study, stages, out)
    for gen in study.generators:
        if gen.prebuilt is not None:
            _check_prebuilt(gen, planner.folds)
    for fold in planner.folds:
        for seed in study.seeds:
            for model in study.models:
                planner.model_cells(model, fold, seed)
    return list(planner.units.values()), planner.dataset
