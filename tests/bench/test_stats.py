"""The paired intervals against hand computations."""

import math

import numpy as np

from rdface_hf.bench.stats import paired_bootstrap, t_interval, within_noise


def test_t_interval_by_hand():
    diffs = [0.02, 0.05, -0.01, 0.04, 0.03]
    mean = sum(diffs) / 5  # 0.026
    sd = math.sqrt(sum((d - mean) ** 2 for d in diffs) / 4)
    half = 2.7764451051977987 * sd / math.sqrt(5)  # t(0.975, 4)
    got = t_interval(diffs)
    assert got[0] == mean
    assert abs(got[1] - (mean - half)) < 1e-12 and abs(got[2] - (mean + half)) < 1e-12
    assert within_noise(got[1], got[2]) is True
    assert within_noise(*t_interval([0.05, 0.06, 0.07])[1:]) is False
    assert math.isnan(t_interval([0.1])[1])


def test_paired_bootstrap_by_hand():
    base = np.array([[1, 0, 0, 1], [1, 1, 0, 0]])
    other = np.array([[1, 1, 0, 1], [1, 1, 1, 0]])
    # per image, mean over folds of (other - base): [0, 0.5, 0.5, 0] -> mean 0.25
    mean, low, high = paired_bootstrap(base, other, resamples=4000, seed=1)
    assert mean == 0.25
    rng = np.random.default_rng(1)
    draws = rng.integers(0, 4, size=(4000, 4))
    means = np.array([0, 0.5, 0.5, 0])[draws].mean(axis=1)
    assert (low, high) == tuple(np.percentile(means, [2.5, 97.5]))
    assert 0 <= low < 0.25 < high <= 0.5
    assert paired_bootstrap(base, base)[1:] == (0.0, 0.0)
