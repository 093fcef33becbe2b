"""Top-k accuracy as plain functions (numpy only): the maths of the ``top_k_accuracy`` module.

Ties: among classes with equal scores the higher class index ranks first, as in
scikit-learn's ``top_k_accuracy_score`` (a stable sort, reversed); :func:`top_k_accuracy`
equals ``top_k_accuracy_score(references, predictions, k=k, labels=range(n_classes))`` for every k.
"""

import numpy as np

DEFAULT_K = (1, 5, 10, 30)


def _as_scores_and_references(predictions, references) -> tuple[np.ndarray, np.ndarray]:
    scores = np.asarray(predictions, dtype=np.float64)
    refs = np.asarray(references)
    if scores.ndim != 2:
        raise ValueError(
            f"predictions must be a 2-D array of class scores (images x classes), got shape {scores.shape}"
        )
    if refs.ndim != 1 or len(refs) != len(scores):
        raise ValueError(f"references must hold one class id per row of predictions ({len(scores)}), got {refs.shape}")
    if len(refs) == 0:
        raise ValueError("no predictions to score")
    if scores.shape[1] == 0:
        raise ValueError("predictions have no class columns")
    if np.isnan(scores).any():
        raise ValueError("predictions contain NaN scores")
    if not np.issubdtype(refs.dtype, np.integer):
        as_int = refs.astype(np.int64)
        if not np.array_equal(as_int, refs):
            raise ValueError("references must be integer class ids")
        refs = as_int
    if refs.min() < 0 or refs.max() >= scores.shape[1]:
        raise ValueError(f"references must be class ids in 0 .. {scores.shape[1] - 1}")
    return scores, refs.astype(np.int64)


def true_class_rank(predictions, references) -> np.ndarray:
    """0-based rank of each image's true class (0: the best-scored class).

    A class scores above the true class if its score is higher, or equal with a higher
    class index (scikit-learn's tie rule).
    """
    scores, refs = _as_scores_and_references(predictions, references)
    rows = np.arange(len(refs))
    true = scores[rows, refs][:, None]
    columns = np.arange(scores.shape[1])[None, :]
    above = (scores > true) | ((scores == true) & (columns > refs[:, None]))
    return above.sum(axis=1)


def normalise_k(k=None) -> list[int]:
    """``None`` -> the defaults; an int -> ``[k]``; a list -> itself (each a positive int)."""
    if k is None:
        return list(DEFAULT_K)
    ks = [k] if isinstance(k, (int, np.integer)) else list(k)
    if not ks:
        raise ValueError("k must name at least one value")
    for value in ks:
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"k must be positive integers, got {value!r}")
    return [int(v) for v in ks]


def top_k_accuracy(predictions, references, k=None) -> dict[str, float]:
    """``{"top_<k>": accuracy}`` for each k (default 1, 5, 10, 30)."""
    ranks = true_class_rank(predictions, references)
    return {f"top_{v}": float(np.mean(ranks < v)) for v in normalise_k(k)}
