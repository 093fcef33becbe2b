"""Macro-F1 as plain functions (numpy only): the maths of the ``macro_f1`` module."""

import numpy as np


def predicted_classes(predictions) -> np.ndarray:
    """Class ids from ids (1-D) or scores (2-D; best score, ties to the higher class index)."""
    values = np.asarray(predictions)
    if values.ndim == 2:
        scores = values.astype(np.float64)
        if scores.shape[1] == 0 or np.isnan(scores).any():
            raise ValueError("class scores must have at least one column and no NaN")
        return scores.shape[1] - 1 - np.argmax(scores[:, ::-1], axis=1)
    if values.ndim != 1:
        raise ValueError(f"predictions must be class ids (1-D) or class scores (2-D), got shape {values.shape}")
    as_int = values.astype(np.int64)
    if len(values) and not np.array_equal(as_int, values):
        raise ValueError("predicted class ids must be integers")
    return as_int


def _ids(references, n: int) -> np.ndarray:
    refs = np.asarray(references)
    if refs.ndim != 1 or len(refs) != n:
        raise ValueError(f"references must hold one class id per prediction ({n}), got shape {refs.shape}")
    as_int = refs.astype(np.int64)
    if len(refs) and not np.array_equal(as_int, refs):
        raise ValueError("references must be integer class ids")
    return as_int


def per_class_f1(predictions, references, labels=None) -> tuple[np.ndarray, np.ndarray]:
    """``(labels, f1 per label)``; F1 is 0 where a label has no true and no predicted image."""
    pred = predicted_classes(predictions)
    true = _ids(references, len(pred))
    if len(true) == 0:
        raise ValueError("no predictions to score")
    classes = np.union1d(true, pred) if labels is None else np.asarray(list(labels), dtype=np.int64)
    if len(classes) == 0:
        raise ValueError("labels must name at least one class")
    tp = np.array([np.sum((pred == c) & (true == c)) for c in classes], dtype=np.float64)
    fp = np.array([np.sum((pred == c) & (true != c)) for c in classes], dtype=np.float64)
    fn = np.array([np.sum((pred != c) & (true == c)) for c in classes], dtype=np.float64)
    denominator = 2 * tp + fp + fn
    f1 = np.divide(2 * tp, denominator, out=np.zeros_like(tp), where=denominator > 0)
    return classes, f1


def macro_f1(predictions, references, labels=None) -> float:
    """Unweighted mean of the per-class F1 scores."""
    return float(np.mean(per_class_f1(predictions, references, labels)[1]))
