"""The study file: parsed and checked before any work starts (one line naming the key)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .._config import ConfigError, require
from .._errors import InputError
from .config import REGIMES, BenchmarkConfig, csv_list

TOP_KEYS = ("dataset", "folds", "seeds", "models", "generators", "filter", "regimes")
MODEL_KINDS = {"probe": "probe", "finetune": "train-classifier"}
GENERATOR_KINDS = ("morph", "lora", "fastgan")
REGIME_KEYS = {
    "real_only": {},
    "augmented": {"per_condition": [10]},
    "low_data": {"shots": [1, 2, 3], "synthetic_per_condition": 2},
    "synthetic_only": {"sizes": [100]},
    "episodic": {"ways": [5], "shots": [1], "episodes": 600},
}
# Fields the runner sets itself in each stage's config (a study may not set them).
RUNNER_FIELDS = ("dataset", "fold", "output_dir", "overwrite", "extra_train", "synthetic_only", "shots", "seed")


@dataclass
class Spec:
    """One model or generator of the study: its name, kind and the stage's own settings."""

    name: str
    kind: str
    settings: dict[str, Any]
    prebuilt: dict[int, str] | None = None


@dataclass
class Study:
    dataset: str
    folds: list[int] | None
    seeds: list[int]
    models: list[Spec]
    generators: list[Spec]
    filter: dict[str, Any]
    regimes: dict[str, dict[str, Any]]
    source: dict[str, Any] = field(default_factory=dict)


def _ints(value: Any, key: str, *, least: int = 0) -> list[int]:
    values = value if isinstance(value, list) else [value]
    ok = bool(values) and all(isinstance(v, int) and not isinstance(v, bool) and v >= least for v in values)
    require(ok, key, f"must be a whole number >= {least} or a list of them, got {value!r}")
    return list(dict.fromkeys(values))


def _mapping(value: Any, key: str) -> dict:
    require(isinstance(value, dict), key, f"must be a mapping, got {type(value).__name__}")
    return dict(value)


def _check_settings(stages, stage: str, settings: dict, key: str, **fixed: Any) -> None:
    """Build the stage's own config from ``settings`` (placeholders for what the runner sets)."""
    taken = sorted(set(settings) & set(RUNNER_FIELDS))
    require(not taken, f"{key}.{taken[0] if taken else ''}", "is set by the runner per cell; leave it out")
    names = set(stages[stage].config.__dataclass_fields__)
    unknown = sorted(set(settings) - names)
    require(not unknown, f"{key}.{unknown[0] if unknown else ''}", f"is not a setting of '{stage}'")
    try:
        stages[stage].config(**{**fixed, **settings})
    except ConfigError as exc:
        raise ConfigError(f"{key}.{exc.field}", exc.message) from None
    except (TypeError, ValueError) as exc:
        raise ConfigError(key, f"has a bad value ({exc})") from None


def _specs(raw: Any, key: str, kinds) -> list[Spec]:
    require(isinstance(raw, list), key, "must be a list of {name, kind, ...} mappings")
    out: list[Spec] = []
    for i, item in enumerate(raw):
        item = _mapping(item, f"{key}[{i}]")
        name, kind = item.pop("name", None), item.pop("kind", None)
        require(
            isinstance(name, str) and name.isidentifier(), f"{key}[{i}].name", f"must be a plain name, got {name!r}"
        )
        require(name not in {s.name for s in out}, f"{key}[{i}].name", f"repeats {name!r}")
        require(kind in kinds, f"{key}[{i}].kind", f"must be one of {', '.join(kinds)}, got {kind!r}")
        prebuilt = item.pop("prebuilt", None)
        if prebuilt is not None:
            prebuilt = _mapping(prebuilt, f"{key}[{i}].prebuilt")
            bad = [k for k in prebuilt if not (str(k).startswith("fold_") and str(k)[5:].isdigit())]
            require(not bad, f"{key}[{i}].prebuilt", f"keys must be fold_K, got {bad}")
            prebuilt = {int(str(k)[5:]): str(v) for k, v in prebuilt.items()}
        out.append(Spec(name, kind, item, prebuilt))
    return out


def _regimes(raw: Any) -> dict[str, dict[str, Any]]:
    raw = {"real_only": {}} if raw is None else raw
    if isinstance(raw, list):
        raw = {name: {} for name in raw}
    raw = _mapping(raw, "regimes")
    out = {}
    for name, settings in raw.items():
        require(name in REGIMES, f"regimes.{name}", f"is not a regime; known: {', '.join(REGIMES)}")
        settings = _mapping(settings or {}, f"regimes.{name}")
        unknown = sorted(set(settings) - set(REGIME_KEYS[name]))
        require(not unknown, f"regimes.{name}.{unknown[0] if unknown else ''}", "is not a setting of this regime")
        merged = {**REGIME_KEYS[name], **settings}
        for key, value in merged.items():
            merged[key] = _ints(value, f"regimes.{name}.{key}", least=1)
        out[name] = merged
    require("episodic" not in out, "regimes.episodic", "is not implemented by this version of the runner")
    return out


def read_study(path: str) -> dict[str, Any]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read study {path}: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InputError(f"study {path} is not valid YAML: {str(exc).splitlines()[0]}") from None
    require(isinstance(data, dict), "study", f"{path} must hold a mapping (dataset, models, regimes, ...)")
    unknown = sorted(set(data) - set(TOP_KEYS))
    require(not unknown, unknown[0] if unknown else "", f"is not a study key; known: {', '.join(TOP_KEYS)}")
    return data


def _select(specs: list[Spec], names: list[str] | None, key: str) -> list[Spec]:
    if names is None:
        return specs
    missing = [n for n in names if n not in {s.name for s in specs}]
    require(not missing, key, f"names {missing}, not in the study ({', '.join(s.name for s in specs)})")
    return [s for s in specs if s.name in names]


def _check_generators(stages, generators: list[Spec]) -> None:
    for i, gen in enumerate(generators):
        key = f"generators[{i}]"
        if gen.prebuilt is not None:
            require(not gen.settings, f"{key}.{next(iter(gen.settings), '')}", "does not go with prebuilt")
            continue
        require(
            gen.kind == "morph",
            f"{key}.kind",
            f"{gen.kind}: per-fold training is not wired into the runner yet; give prebuilt: {{fold_0: PATH, ...}}",
        )
        _check_settings(stages, "generate", gen.settings, key, generator="morph", dataset="D", output_dir="G")


def _check_regimes(study: Study, key_models: str = "models") -> None:
    needs = [r for r in ("augmented", "low_data", "synthetic_only") if r in study.regimes]
    require(not needs or bool(study.generators), f"regimes.{needs[0] if needs else ''}", "needs a generator")
    if "synthetic_only" in study.regimes:
        fine = [m.name for m in study.models if m.kind == "finetune"]
        require(not fine, "regimes.synthetic_only", f"runs probes only for now, not the finetune model(s) {fine}")
    wanted = max(study.regimes.get("augmented", {}).get("per_condition", [0]))
    wanted = max([wanted, *study.regimes.get("low_data", {}).get("synthetic_per_condition", [0])])
    for i, gen in enumerate(study.generators):
        made = gen.settings.get("per_condition", 10)
        require(
            gen.prebuilt is not None or made >= wanted,
            f"generators[{i}].per_condition",
            f"makes {made} images per condition, fewer than the regimes keep ({wanted})",
        )


def load_study(config: BenchmarkConfig, stages) -> Study:
    """The study of ``config.study`` with the flags' overrides applied, every setting checked."""
    data = read_study(str(config.study))
    dataset = config.dataset or data.get("dataset")
    require(isinstance(dataset, str) and bool(dataset.strip()), "dataset", "must name a build folder or Hub id")
    folds = csv_list(config.folds)
    folds = [int(f) for f in folds] if folds else (_ints(data["folds"], "folds") if "folds" in data else None)
    seeds = _ints(data.get("seeds", [0]), "seeds")
    models = _select(_specs(data.get("models"), "models", MODEL_KINDS), csv_list(config.models), "models")
    require(bool(models), "models", "must name at least one model")
    for i, model in enumerate(models):
        require("model" in model.settings, f"models[{i}].model", "is required (an id, a folder or 'landmarks')")
        _check_settings(stages, MODEL_KINDS[model.kind], model.settings, f"models[{i}]", dataset="D", output_dir="O")
    generators = _specs(data.get("generators") or [], "generators", GENERATOR_KINDS)
    generators = _select(generators, csv_list(config.generators), "generators")
    _check_generators(stages, generators)
    filt = _mapping(data.get("filter") or {}, "filter")
    for taken in ("mode", "top_n", "synthetic"):
        require(taken not in filt, f"filter.{taken}", "is set by the regimes (per_condition, sizes); leave it out")
    _check_settings(stages, "filter", filt, "filter", dataset="D", synthetic="S", output_dir="O")
    regimes = _regimes(data.get("regimes"))
    only = csv_list(config.regimes)
    if only is not None:
        missing = [r for r in only if r not in regimes and r != "real_only"]
        require(not missing, "regimes", f"{missing} not in the study ({', '.join(regimes)})")
        regimes = {name: value for name, value in regimes.items() if name in only}
    regimes = {"real_only": {}, **regimes}  # the paired comparisons' reference
    study = Study(dataset, folds, seeds, models, generators, filt, regimes, source=data)
    _check_regimes(study)
    return study
