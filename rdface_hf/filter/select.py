"""Which scored images to keep: a threshold, the best n of each condition, or the best n overall."""

from __future__ import annotations

import numpy as np


def _ranked(scores: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``rows`` with a score, best first; ties keep the set's order (deterministic)."""
    rows = rows[~np.isnan(scores[rows])]
    return rows[np.lexsort((rows, -scores[rows]))]


def select(
    scores: np.ndarray,
    labels: np.ndarray,
    *,
    mode: str,
    threshold: float | None = None,
    top_n: int | None = None,
) -> np.ndarray:
    """(N,) bool: the kept rows. A NaN score (no face) is never kept.

    ``threshold``: keep scores >= it (in the top-n modes, a floor besides the rank).
    ``top-n-per-condition``: the ``top_n`` best of each condition;
    ``global-top-n``: the ``top_n`` best overall (the paper's selection).
    """
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels)
    eligible = ~np.isnan(scores)
    if threshold is not None:
        eligible &= scores >= float(threshold)
    if mode == "threshold":
        if threshold is None:
            raise ValueError("mode 'threshold' needs a threshold")
        return eligible
    if top_n is None or top_n < 1:
        raise ValueError(f"mode {mode!r} needs top_n >= 1")
    keep = np.zeros(len(scores), dtype=bool)
    candidates = np.flatnonzero(eligible)
    if mode == "global-top-n":
        keep[_ranked(scores, candidates)[:top_n]] = True
    elif mode == "top-n-per-condition":
        for label in np.unique(labels[candidates]):
            keep[_ranked(scores, candidates[labels[candidates] == label])[:top_n]] = True
    else:
        raise ValueError(f"unknown selection mode {mode!r}")
    return keep
