"""Property tests of the fixed test split and the folds."""

from __future__ import annotations

import math
from collections import Counter, defaultdict

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rdface_hf.dataset.splits import ALWAYS_TRAIN, TEST, assign_partitions, split_names


def make_items(sizes, group_every=0):
    ids, labels, groups = [], [], []
    g = 0
    for c, n in enumerate(sizes):
        for i in range(n):
            ids.append(f"id-{c:03d}-{i:02d}")
            labels.append(c)
            # optionally pair consecutive images of a condition into near-duplicate groups
            if group_every and i % group_every == 1:
                groups.append(g - 1)
            else:
                groups.append(g)
                g += 1
    return ids, labels, groups


sizes_strategy = st.lists(st.integers(min_value=1, max_value=9), min_size=1, max_size=40)
params = dict(
    fraction=st.sampled_from([0.1, 0.2, 0.25, 0.3, 0.5]),
    folds=st.integers(min_value=2, max_value=6),
    seed=st.integers(min_value=0, max_value=2**31 - 1),
)


@settings(max_examples=150, deadline=None)
@given(sizes=sizes_strategy, **params)
def test_partitions_cover_disjoint_and_stratified(sizes, fraction, folds, seed):
    ids, labels, _ = make_items(sizes)
    part = assign_partitions(ids, labels, test_fraction=fraction, folds=folds, seed=seed)
    assert len(part) == len(ids)
    assert set(np.unique(part)) <= {TEST, ALWAYS_TRAIN, *range(folds)}
    labels = np.array(labels)
    eligible_total = 0
    for c, n in enumerate(sizes):
        mine = part[labels == c]
        n_test = int((mine == TEST).sum())
        if n == 1:
            assert mine[0] == ALWAYS_TRAIN, "single-image conditions always train"
            continue
        eligible_total += n
        assert n_test <= n - 1, "every condition keeps an image out of test"
        assert abs(n_test - fraction * n) < 1 + 1e-9, "test count within one of fraction * n"
        rest = mine[mine != TEST]
        fold_counts = Counter(int(p) for p in rest if p >= 0)
        if len(rest) == 1:
            assert rest[0] == ALWAYS_TRAIN
        else:
            assert (rest >= 0).all()
            counts = [fold_counts.get(k, 0) for k in range(folds)]
            assert max(counts) - min(counts) <= 1, "per-condition fold counts differ by at most one"
            assert max(counts) <= len(rest) - 1, "a fold's training split keeps the condition"
    assert (part == TEST).sum() == math.ceil(fraction * eligible_total - 1e-9)
    sizes_per_fold = [(part == k).sum() for k in range(folds)]
    assert max(sizes_per_fold) - min(sizes_per_fold) <= 1, "fold sizes within one"


@settings(max_examples=100, deadline=None)
@given(sizes=sizes_strategy, **params)
def test_test_split_fixed_across_folds_and_folds_disjoint(sizes, fraction, folds, seed):
    ids, labels, _ = make_items(sizes)
    part = assign_partitions(ids, labels, test_fraction=fraction, folds=folds, seed=seed)
    other = assign_partitions(ids, labels, test_fraction=fraction, folds=folds + 1, seed=seed)
    assert np.array_equal(part == TEST, other == TEST), "the test split does not depend on the number of folds"
    test_ids = {i for i, p in zip(ids, part) if p == TEST}
    for k in range(folds):
        names = split_names(part, k)
        split_ids = defaultdict(set)
        for i, name in zip(ids, names):
            split_ids[name].add(i)
        assert split_ids["test"] == test_ids
        assert not (split_ids["train"] & split_ids["validation"])
        assert not (split_ids["train"] & split_ids["test"])
        assert not (split_ids["validation"] & split_ids["test"])
        assert split_ids["train"] | split_ids["validation"] | split_ids["test"] == set(ids)
        train_labels = {labels[ids.index(i)] for i in split_ids["train"]}
        assert train_labels == set(range(len(sizes))), "every condition is in every training split"


@settings(max_examples=60, deadline=None)
@given(sizes=sizes_strategy, seed=st.integers(0, 10_000), data=st.data())
def test_deterministic_and_independent_of_row_order(sizes, seed, data):
    ids, labels, groups = make_items(sizes)
    part = assign_partitions(ids, labels, groups, seed=seed)
    again = assign_partitions(ids, labels, groups, seed=seed)
    assert np.array_equal(part, again)
    order = data.draw(st.permutations(range(len(ids))))
    shuffled = assign_partitions(
        [ids[i] for i in order], [labels[i] for i in order], [groups[i] for i in order], seed=seed
    )
    assert {ids[i]: int(p) for i, p in zip(order, shuffled)} == {i: int(p) for i, p in zip(ids, part)}


@settings(max_examples=100, deadline=None)
@given(sizes=sizes_strategy, seed=st.integers(0, 10_000), folds=st.integers(2, 6))
def test_near_duplicate_groups_never_straddle(sizes, seed, folds):
    ids, labels, groups = make_items(sizes, group_every=2)
    part = assign_partitions(ids, labels, groups, folds=folds, seed=seed)
    by_group = defaultdict(set)
    for g, p in zip(groups, part):
        by_group[g].add(int(p))
    assert all(len(ps) == 1 for ps in by_group.values())


@settings(max_examples=100, deadline=None)
@given(sizes=st.lists(st.integers(1, 9), min_size=2, max_size=30), seed=st.integers(0, 10_000), data=st.data())
def test_a_change_in_one_condition_leaves_the_other_test_images_in_place(sizes, seed, data):
    ids, labels, _ = make_items(sizes)
    names = [f"condition {c}" for c in labels]
    before = assign_partitions(ids, names, seed=seed)
    gone = data.draw(st.integers(0, len(sizes) - 1))
    keep = [i for i, c in enumerate(labels) if c != gone]
    after = assign_partitions([ids[i] for i in keep], [names[i] for i in keep], seed=seed)
    changed = {labels[i] for i, p in zip(keep, after) if (p == TEST) != (before[i] == TEST)}
    assert len(changed) <= 1, "only the spare test place of the rounding may move"


@settings(max_examples=100, deadline=None)
@given(sizes=sizes_strategy, seed=st.integers(0, 10_000), folds=st.integers(2, 6))
def test_near_duplicates_across_conditions_always_train(sizes, seed, folds):
    """A singleton whose image is a near-duplicate of another condition's never leaves training."""
    ids, labels, groups = make_items([*sizes, 1])
    twin = 0  # the new singleton shares a group with the first image of condition 0
    groups[-1] = groups[twin]
    part = assign_partitions(ids, labels, groups, folds=folds, seed=seed)
    assert part[-1] == ALWAYS_TRAIN and part[twin] == ALWAYS_TRAIN
    for k in range(folds):
        train = {labels[i] for i, name in enumerate(split_names(part, k)) if name == "train"}
        assert train == set(labels), "every condition is in every training split"


def test_rdface_shaped_folds_are_balanced():
    rng = np.random.default_rng(1)
    sizes = list(rng.integers(2, 8, size=97)) + [1] * 6
    ids, labels, _ = make_items(sizes)
    part = assign_partitions(ids, [f"c{c}" for c in labels], seed=42)
    per_fold = [(part == k).sum() for k in range(5)]
    assert max(per_fold) - min(per_fold) <= 1


def test_seed_changes_membership_and_paper_shape():
    # RDFace's shape: 103 conditions, 456 images, a few singletons.
    rng = np.random.default_rng(1)
    sizes = list(rng.integers(2, 8, size=97)) + [1] * 6
    ids, labels, _ = make_items(sizes)
    a = assign_partitions(ids, labels, seed=42)
    b = assign_partitions(ids, labels, seed=43)
    assert not np.array_equal(a, b)
    n_eligible = sum(n for n in sizes if n > 1)
    assert (a == TEST).sum() == math.ceil(0.25 * n_eligible)


@pytest.mark.parametrize("bad", [dict(test_fraction=0.0), dict(test_fraction=1.0), dict(folds=1)])
def test_bad_arguments(bad):
    with pytest.raises(ValueError):
        assign_partitions(["a", "b"], [0, 0], **bad)


def test_duplicate_ids_rejected():
    with pytest.raises(ValueError, match="unique"):
        assign_partitions(["a", "a"], [0, 0])


def test_small_conditions_raise_no_warnings():
    import warnings

    ids, labels, _ = make_items([1, 2, 2, 3, 1, 2, 4])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        part = assign_partitions(ids, labels, folds=5)
    assert len(part) == len(ids)
