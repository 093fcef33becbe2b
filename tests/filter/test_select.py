"""Selection modes: threshold, top-n per condition, global top-n; NaN (no face) never kept."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rdface_hf.filter.select import select

SCORES = np.array([0.9, 0.1, np.nan, 0.5, 0.7, 0.3, 0.8, np.nan])
LABELS = np.array([0, 0, 0, 1, 1, 1, 2, 2])


def test_threshold():
    kept = select(SCORES, LABELS, mode="threshold", threshold=0.5)
    assert kept.tolist() == [True, False, False, True, True, False, True, False]


def test_top_n_per_condition():
    kept = select(SCORES, LABELS, mode="top-n-per-condition", top_n=1)
    assert kept.tolist() == [True, False, False, False, True, False, True, False]
    kept = select(SCORES, LABELS, mode="top-n-per-condition", top_n=5)
    assert kept.tolist() == (~np.isnan(SCORES)).tolist()  # n above a condition's size: all its scored rows


def test_global_top_n_and_floor():
    assert select(SCORES, LABELS, mode="global-top-n", top_n=3).tolist() == [
        True, False, False, False, True, False, True, False,
    ]  # fmt: skip
    floored = select(SCORES, LABELS, mode="global-top-n", top_n=10, threshold=0.6)
    assert floored.tolist() == [True, False, False, False, True, False, True, False]


def test_ties_keep_the_sets_order():
    kept = select(np.array([0.5, 0.5, 0.5]), np.zeros(3, int), mode="global-top-n", top_n=2)
    assert kept.tolist() == [True, True, False]


def test_bad_arguments():
    with pytest.raises(ValueError):
        select(SCORES, LABELS, mode="threshold")
    with pytest.raises(ValueError):
        select(SCORES, LABELS, mode="global-top-n")
    with pytest.raises(ValueError):
        select(SCORES, LABELS, mode="best", top_n=1)


scores_st = st.lists(st.one_of(st.floats(-5, 5), st.just(float("nan"))), min_size=1, max_size=40)


@settings(max_examples=60, deadline=None)
@given(scores=scores_st, n=st.integers(1, 6), seed=st.integers(0, 1000))
def test_top_n_per_condition_properties(scores, n, seed):
    s = np.array(scores)
    labels = np.random.default_rng(seed).integers(0, 4, size=len(s))
    kept = select(s, labels, mode="top-n-per-condition", top_n=n)
    assert not kept[np.isnan(s)].any()
    for c in np.unique(labels):
        mine = labels == c
        scored = mine & ~np.isnan(s)
        assert kept[mine].sum() == min(n, scored.sum())
        if kept[mine].any() and (scored & ~kept).any():
            assert s[mine & kept].min() >= s[scored & ~kept].max()


@settings(max_examples=60, deadline=None)
@given(scores=scores_st, n=st.integers(1, 50), threshold=st.floats(-5, 5))
def test_global_top_n_properties(scores, n, threshold):
    s = np.array(scores)
    labels = np.zeros(len(s), int)
    kept = select(s, labels, mode="global-top-n", top_n=n, threshold=threshold)
    eligible = ~np.isnan(s) & (s >= threshold)
    assert kept.sum() == min(n, eligible.sum()) and not kept[~eligible].any()
    if kept.any() and (eligible & ~kept).any():
        assert s[kept].min() >= s[eligible & ~kept].max()
