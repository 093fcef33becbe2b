"""``rdface probe``: baselines without fine-tuning, under the same folds and metrics as
``train-classifier``.

Features are frozen: a backbone's image embeddings (any checkpoint, see
:func:`~rdface_hf.dataset.backbone.load_backbone`), the Procrustes-aligned MediaPipe landmarks of the build
(``--model landmarks``) or dlib's face-identity embeddings (``--model face-identity``).
Per fold, two methods are fitted on the training split alone:

- ``centroid``: the GestaltMatcher-style ranking, cosine similarity to each condition's mean
  training feature (embeddings L2-normalised; landmark shapes standardised first);
- ``logistic``: standardised logistic regression, its strength C chosen on the validation
  split (top-1, ties by log-loss) along a warm-started path of C values, then scored once on test.

An image without a face (landmarks, face-identity) is scored with the training class frequencies.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import datasets
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from .._errors import InputError
from .._outputs import atomic_output_dir
from .._results import StageResult
from ..metrics.top_k_accuracy.maths import true_class_rank
from .config import ProbeConfig
from .data import IMAGE_COLUMNS, ExtraTrain, FoldData, Split, fold_data, open_dataset, resolve_folds
from .features import EmbeddingFeatures, IdentityFeatures, LandmarkFeatures
from .models import silence_library_logs
from .outputs import dataset_record, public_config, write_results, write_summary
from .scoring import per_condition, split_scores, summary_row

METHOD_NAMES = {"centroid": "centroid (cosine)", "logistic": "logistic regression"}


@dataclass(frozen=True)
class ProbeResult(StageResult):
    out: Path
    folds: list[int]
    results: dict[int, dict]
    summary: dict
    seconds: float


def _prior(labels: np.ndarray, num_classes: int) -> np.ndarray:
    return np.bincount(labels, minlength=num_classes).astype(np.float64) / max(len(labels), 1)


def _fill(scores: np.ndarray | None, present: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """Scores for every row: fitted rows from ``scores``, the others the class prior."""
    out = np.tile(prior, (len(present), 1))
    if scores is not None and present.any():
        out[present] = scores
    return out


def centroid_scores(train_x: np.ndarray, train_y: np.ndarray, x: np.ndarray, num_classes: int) -> np.ndarray:
    """Cosine similarity of each row of ``x`` to each class's mean training feature (-2 without one)."""

    def unit(a):
        return a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)

    train_u, x_u = unit(train_x), unit(x)
    centroids = np.zeros((num_classes, train_x.shape[1]))
    has = np.zeros(num_classes, dtype=bool)
    for c in np.unique(train_y):
        centroids[c], has[c] = train_u[train_y == c].mean(0), True
    scores = x_u @ unit(centroids).T
    scores[:, ~has] = -2.0
    return scores


def _logistic_path(train_x, train_y, c_values: list[float], seed: int):
    """Standardised logistic regression for each C (ascending, each fit warm-started from the
    previous one): ``[(C, fitted pipeline), ...]``."""
    scaler = StandardScaler().fit(train_x)
    x = scaler.transform(train_x)
    model = LogisticRegression(max_iter=1000, tol=1e-3, warm_start=True, random_state=seed)
    fitted = []
    for c in sorted(set(c_values)):
        model.set_params(C=c).fit(x, train_y)
        fitted.append((c, make_pipeline(scaler, copy.deepcopy(model))))
    return fitted


def _proba(model, x: np.ndarray, num_classes: int) -> np.ndarray:
    out = np.zeros((len(x), num_classes))
    if len(x):
        out[:, model.classes_] = model.predict_proba(x)
    return out


def _choose_c(train_x, train_y, val_x, val_y, c_values: list[float], num_classes: int, seed: int):
    """The C with the best validation top-1 (ties: lower log-loss, then smaller C)."""
    if len(val_y) == 0 or len(c_values) == 1:
        c = 1.0 if 1.0 in c_values else sorted(c_values)[len(c_values) // 2]
        return c, _logistic_path(train_x, train_y, [c], seed)[0][1], []
    trials = []
    for c, model in _logistic_path(train_x, train_y, c_values, seed):
        proba = _proba(model, val_x, num_classes)
        top1 = float(np.mean(proba.argmax(1) == val_y))
        loss = float(-np.mean(np.log(np.clip(proba[np.arange(len(val_y)), val_y], 1e-12, None))))
        trials.append({"C": c, "validation_top_1": top1, "validation_log_loss": loss, "model": model})
    best = min(trials, key=lambda t: (-t["validation_top_1"], t["validation_log_loss"], t["C"]))
    return best["C"], best["model"], [{k: v for k, v in t.items() if k != "model"} for t in trials]


def _method_scores(method: str, feats: dict, labels: dict, config: ProbeConfig, num_classes: int) -> dict:
    """Validation and test scores of one method: fitted on the training rows with features only."""
    tx, ty = feats["train"][0], labels["train"][feats["train"][1]]
    prior = _prior(labels["train"], num_classes)
    extra: dict[str, Any] = {}
    if method == "centroid":

        def score(x):
            return centroid_scores(tx, ty, x, num_classes)
    else:
        (vx, vp) = feats["validation"]
        c, model, trials = _choose_c(tx, ty, vx, labels["validation"][vp], config.c_list, num_classes, config.seed)
        extra = {"C": c, "C_trials": trials}

        def score(x):
            return _proba(model, x, num_classes)

    out = {}
    for split in ("validation", "test"):
        x, present = feats[split]
        out[split] = _fill(score(x) if len(x) else None, present, prior)
    return {"scores": out, **extra}


def _fold_results(config: ProbeConfig, features, data: FoldData, dataset, num_classes: int) -> dict[str, Any]:
    splits = {"train": data.train, "validation": data.validation, "test": data.test}
    if data.extra is not None:  # synthetic rows: training only (alone with --synthetic-only)
        splits.update({"train": data.extra} if config.synthetic_only else {"extra": data.extra})
    feats = features.fit_transform(splits)  # fitted on the training split only
    labels = {name: split.labels for name, split in splits.items()}
    if "extra" in feats:
        (x, p), (ex, ep) = feats.pop("train"), feats.pop("extra")
        feats["train"] = (np.concatenate([x, ex]), np.concatenate([p, ep]))
        labels["train"] = np.concatenate([labels["train"], labels.pop("extra")])
    if len(feats["train"][0]) == 0 or len(np.unique(labels["train"][feats["train"][1]])) < 2:
        raise InputError(f"fold {data.fold}: the probe needs training features of at least two conditions")
    methods = {}
    for method in config.method_list:
        fitted = _method_scores(method, feats, labels, config, num_classes)
        scores = fitted.pop("scores")
        methods[method] = {
            "validation": split_scores(scores["validation"], labels["validation"]),
            "test": {
                **split_scores(scores["test"], labels["test"]),
                "per_condition": per_condition(scores["test"], labels["test"], dataset.class_names),
            },
            # per test image (split order): the true condition's rank, for paired bootstraps over test images
            "test_true_rank": true_class_rank(scores["test"], labels["test"]).tolist(),
            **fitted,
        }
    no_feature = {name: int((~feats[name][1]).sum()) for name in feats}
    return {
        "fold": data.fold,
        "model": config.model,
        **data.describe(),
        "without_features": no_feature,
        "methods": methods,
        "chance_top_1": 1.0 / num_classes,
    }


def _features(config: ProbeConfig, dataset):
    if config.is_landmarks:
        return LandmarkFeatures(dataset)
    if config.is_face_identity:
        return IdentityFeatures()
    return EmbeddingFeatures(config)


def _extra_train(config: ProbeConfig, dataset, folds: list[int]) -> ExtraTrain | None:
    """``--extra-train``: its kept synthetic rows (checked against the test split by :class:`ExtraTrain`)."""
    if config.extra_train is None:
        return None
    extra = ExtraTrain(config.extra_train, dataset, folds)
    if config.is_landmarks and "landmarks" not in extra.rows.column_names:
        raise InputError(f"--extra-train {config.extra_train}: the landmarks probe needs a filtered or merged set")
    return extra


def run_probe(config: ProbeConfig) -> ProbeResult:
    """Every fold of ``config.fold``: ``O/fold_K/results.json``, ``O/summary.json``, ``O/summary.md``."""
    start = time.perf_counter()
    silence_library_logs()
    if not config.progress:
        datasets.disable_progress_bars()
    dataset = open_dataset(config.dataset, revision=config.dataset_revision, token=config.token)
    folds = resolve_folds(dataset, config.fold)
    extra = _extra_train(config, dataset, folds)
    features = _features(config, dataset)
    inputs = [p for p in (config.dataset, config.model, config.extra_train) if p and Path(p).exists()]
    results: dict[int, dict] = {}
    with atomic_output_dir(config.output_dir, owner=config.owner(), overwrite=config.overwrite, inputs=inputs) as tmp:
        config.save(tmp / config.config_file(), dataset_digest=dataset.digest)
        about = {"dataset": dataset_record(dataset), "config": public_config(config)}
        for fold in folds:
            data = fold_data(dataset, fold, shots=config.shots, seed=config.seed)
            if extra is not None:
                points = ["landmarks"] if "landmarks" in extra.rows.column_names else []  # identity: aligned faces
                data.extra = Split(extra.rows.select_columns(IMAGE_COLUMNS + points))
            results[fold] = {**_fold_results(config, features, data, dataset, dataset.num_classes), **about}
            write_results(tmp / f"fold_{fold}", results[fold])
        label = (
            config.model.strip().lower() if config.is_landmarks or config.is_face_identity else Path(config.model).name
        )
        rows = [
            summary_row(
                f"{label} + {METHOD_NAMES[m]}",
                {f: r["methods"][m] for f, r in results.items()},
                model=config.model,
                method=m,
            )
            for m in config.method_list
        ]
        summary = write_summary(
            tmp,
            rows,
            stage="probe",
            dataset=dataset,
            folds=folds,
            title=f"probe ({label}): test split",
            config=about["config"],
        )
    return ProbeResult(Path(config.output_dir), folds, results, summary, time.perf_counter() - start)
