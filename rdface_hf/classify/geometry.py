"""A geometry-only baseline: Procrustes-aligned landmarks + logistic regression.

It answers "is the phenotype in the face shape at all?" in seconds on a CPU,
for the simulator's difficulty curve and the demo. Leak-free by construction:
the Procrustes template, the scaler and the classifier are fitted on the
training rows alone; the test rows are only transformed and scored.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from .._errors import InputError
from .._results import StageResult
from ..dataset.facade import RDFaceDataset
from ..dataset.procrustes import generalized_procrustes, procrustes_align
from ..metrics.macro_f1.maths import macro_f1 as macro_f1_score


@dataclass(frozen=True)
class BaselineScore(StageResult):
    test_images: int
    top1: float
    top5: float
    macro_f1: float
    chance_top1: float
    no_face: int  # test images without landmarks (counted as misses)


def _points(landmarks) -> np.ndarray | None:
    """(478, 2) points of one face, ``None`` without a face (``None`` or NaN rows)."""
    if landmarks is None:
        return None
    pts = np.asarray(landmarks, dtype=np.float64)[:, :2]
    return None if np.isnan(pts).any() else pts


def shape_features(landmarks, template=None):
    """2-D landmarks aligned to ``template`` (fitted here when ``None``)."""
    pts = [_points(lm) for lm in landmarks]
    if template is None:
        present = [p for p in pts if p is not None]
        if not present:
            raise ValueError("no training image has landmarks")
        _, template = generalized_procrustes(np.stack(present))
    return [None if p is None else procrustes_align(p, template).ravel() for p in pts], template


def fit_geometry_baseline(landmarks, labels, *, C: float = 0.05):
    """Fit on training rows only; returns ``(template, model)``."""
    feats, template = shape_features(landmarks)
    keep = [i for i, x in enumerate(feats) if x is not None]
    model = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=3000))
    model.fit(np.stack([feats[i] for i in keep]), [labels[i] for i in keep])
    return template, model


def score_geometry_baseline(template, model, landmarks, labels, num_classes: int) -> BaselineScore:
    """Top-1 / top-5 / macro-F1 on held-out rows; a row with no face is a miss."""
    feats, _ = shape_features(landmarks, template)
    classes = model.classes_
    predictions, top1, top5 = [], 0, 0
    for x, y in zip(feats, labels):
        if x is None:
            predictions.append(-1)
            continue
        ranked = classes[np.argsort(-model.predict_proba(x[None])[0])]
        predictions.append(int(ranked[0]))
        top1 += int(ranked[0] == y)
        top5 += int(y in ranked[:5])
    n = len(labels)
    return BaselineScore(
        test_images=n,
        top1=top1 / n,
        top5=top5 / n,
        macro_f1=macro_f1_score(predictions, labels, labels=sorted(set(labels))),
        chance_top1=1.0 / num_classes,
        no_face=sum(x is None for x in feats),
    )


def geometry_baseline(
    dataset: RDFaceDataset,
    fold: int | None = 0,
    *,
    use_validation: bool = True,
    extra: tuple[np.ndarray, np.ndarray] | None = None,
) -> BaselineScore:
    """Fit on a fold's train (and validation) split, score the fixed test split.

    ``fold=None`` fits on the default config's train split (every non-test image).
    ``extra``: more training rows, ``(landmarks (N, 478, 3), labels (N,))`` (for
    example kept synthetic faces); they only ever join the fit.
    """
    train_splits = ["train"] + (["validation"] if use_validation and fold is not None else [])
    lm_train = np.concatenate([dataset.landmarks(s, fold) for s in train_splits])
    y_train = np.concatenate([dataset.labels(s, fold) for s in train_splits])
    if extra is not None:
        lm_train = np.concatenate([lm_train, np.asarray(extra[0], dtype=np.float32).reshape(-1, 478, 3)])
        y_train = np.concatenate([y_train, np.asarray(extra[1], dtype=np.int64)])
    lm_test, y_test = dataset.landmarks(dataset.test), dataset.labels(dataset.test)
    if len(y_test) == 0:
        raise InputError("the geometry baseline needs a test split (every condition has a single image)")
    if len({int(y) for y, lm in zip(y_train, lm_train) if _points(lm) is not None}) < 2:
        raise InputError("the geometry baseline needs training faces of at least two conditions")
    template, model = fit_geometry_baseline(list(lm_train), list(y_train))
    return score_geometry_baseline(template, model, list(lm_test), list(y_test), dataset.num_classes)
