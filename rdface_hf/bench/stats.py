"""Paired statistics of a regime against ``real_only`` with the same model.

- :func:`t_interval`: the mean of per-fold paired differences with a 95 % t interval
  (``mean ± t_{0.975, n-1} · SD / sqrt(n)``, sample SD);
- :func:`paired_bootstrap`: the fold models fixed, the test images resampled with
  replacement (the same draw for every fold and both regimes); the statistic is the mean
  over folds of the accuracy difference; a 95 % percentile interval.

"Within noise" is an interval that includes 0.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import stats


def t_interval(diffs: Sequence[float], level: float = 0.95) -> tuple[float, float, float]:
    """``(mean, low, high)``; with one difference the interval is unknown (NaN)."""
    d = np.asarray(diffs, dtype=np.float64)
    mean = float(d.mean()) if len(d) else math.nan
    if len(d) < 2:
        return mean, math.nan, math.nan
    half = float(stats.t.ppf(0.5 + level / 2, len(d) - 1) * d.std(ddof=1) / math.sqrt(len(d)))
    return mean, mean - half, mean + half


def paired_bootstrap(
    base: np.ndarray, other: np.ndarray, *, resamples: int = 2000, seed: int = 0, level: float = 0.95
) -> tuple[float, float, float]:
    """``base``/``other``: (folds, test images) 0/1 correctness of the two regimes' fold models.

    Returns ``(observed mean difference, low, high)`` of ``mean over folds (other - base)``.
    """
    base, other = np.asarray(base, dtype=np.float64), np.asarray(other, dtype=np.float64)
    if base.shape != other.shape or base.ndim != 2 or base.shape[1] == 0:
        return math.nan, math.nan, math.nan
    diff = (other - base).mean(axis=0)  # per test image, averaged over the fixed fold models
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(diff), size=(resamples, len(diff)))
    means = diff[draws].mean(axis=1)
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return float(diff.mean()), float(low), float(high)


def within_noise(low: float, high: float) -> bool | None:
    """Whether the interval includes 0 (``None`` when it is unknown)."""
    if math.isnan(low) or math.isnan(high):
        return None
    return low <= 0 <= high
