"""Balanced accuracy as plain functions (numpy only): the maths of the ``balanced_accuracy`` module."""

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


def per_class_recall(predictions, references) -> tuple[np.ndarray, np.ndarray]:
    """``(classes in the references, recall of each)``."""
    pred = predicted_classes(predictions)
    true = np.asarray(references)
    if true.ndim != 1 or len(true) != len(pred):
        raise ValueError(f"references must hold one class id per prediction ({len(pred)}), got shape {true.shape}")
    if len(true) == 0:
        raise ValueError("no predictions to score")
    as_int = true.astype(np.int64)
    if not np.array_equal(as_int, true):
        raise ValueError("references must be integer class ids")
    classes = np.unique(as_int)
    recall = np.array([np.mean(pred[as_int == c] == c) for c in classes], dtype=np.float64)
    return classes, recall


def balanced_accuracy(predictions, references, adjusted: bool = False) -> float:
    """Mean per-class recall over the classes in ``references``; ``adjusted``: chance -> 0."""
    classes, recall = per_class_recall(predictions, references)
    score = float(np.mean(recall))
    if adjusted:  # undefined with a single class: NaN or -inf, as in scikit-learn
        chance = 1.0 / len(classes)
        with np.errstate(divide="ignore", invalid="ignore"):
            score = float(np.float64(score - chance) / np.float64(1.0 - chance))
    return score
