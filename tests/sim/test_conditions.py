"""Conditions and images per condition."""

from __future__ import annotations

import numpy as np
import pytest

from rdface_hf.sim.conditions import MAX_PER_CONDITION, sample_counts


@pytest.mark.parametrize("n, mean", [(103, 456 / 103), (1, 1.0), (6, 2.5), (50, 7.0), (200, 1.3)])
def test_counts_per_condition(n, mean):
    counts = sample_counts(n, mean, np.random.default_rng(0))
    assert len(counts) == n and sum(counts) == round(n * mean)
    assert all(1 <= c <= MAX_PER_CONDITION for c in counts)


def test_default_counts_mirror_rdface():
    counts = sample_counts(103, 456 / 103, np.random.default_rng(0))
    assert sum(counts) == 456 and 1 <= counts.count(1) <= 6 and max(counts) == 7
