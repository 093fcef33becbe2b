"""hpo_similarity: Jaccard, IC-weighted overlap, detection scores, by condition; evaluate offline."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rdface_hf
from rdface_hf.metrics.hpo_similarity.overlap import (
    aligned_similarity,
    as_terms,
    condition_similarity,
    ic_overlap,
    information_content,
    jaccard,
    overlap_matrix,
)

METRIC = Path(rdface_hf.__file__).parent / "metrics" / "hpo_similarity"
A, B, C = "HP:0000316", "HP:0000343", "HP:0000347"


def test_hand_made_cases():
    assert jaccard(frozenset({A}), frozenset({A, B})) == 0.5
    assert jaccard(frozenset(), frozenset()) == 1.0 and jaccard(frozenset({A}), frozenset()) == 0.0
    refs = [frozenset({A, B}), frozenset({A}), frozenset({C})]
    ic = information_content(refs)  # A in 2 of 3, B and C in 1
    assert ic[A] == pytest.approx(-math.log(3 / 4)) and ic[B] == pytest.approx(-math.log(2 / 4))
    # agreeing on the rarer B weighs more than agreeing on the common A
    assert ic_overlap(frozenset({B}), frozenset({A, B}), ic, math.log(4)) > jaccard(frozenset({B}), frozenset({A, B}))
    assert ic_overlap(frozenset({A}), frozenset({A, B}), ic, math.log(4)) < 0.5
    assert as_terms("HP:0000316, HP:0000343") == frozenset({A, B}) and as_terms(None) == frozenset()


def test_aligned_scores_and_per_term():
    out = aligned_similarity([[A], [A, C], []], [[A, B], [C], []])
    assert out["jaccard"] == pytest.approx((0.5 + 0.5 + 1.0) / 3)
    assert out["precision"] == pytest.approx(2 / 3) and out["recall"] == pytest.approx(2 / 3)
    assert out["per_term"][A] == {"precision": 0.5, "recall": 1.0, "f1": pytest.approx(2 / 3), "support": 1,
                                  "predicted": 2}  # fmt: skip
    assert out["per_term"][B]["recall"] == 0.0 and out["per_term"][B]["precision"] is None
    with pytest.raises(ValueError, match="equal lengths"):
        aligned_similarity([[A]], [[A], [B]])


def test_by_condition_baseline():
    out = condition_similarity([[A], [C]], [[A, B], [A], [C]], ["x", "y"], ["x", "x", "y"])
    assert out["jaccard"] == pytest.approx((0.5 + 1.0 + 1.0) / 3) and out["pairs"] == 3
    assert out["jaccard_baseline"] == 0.0 and out["baseline_pairs"] == 3
    assert out["per_condition"]["y"]["jaccard"] == 1.0


sets = st.lists(st.frozensets(st.sampled_from([A, B, C, "HP:0000160"]), max_size=3), min_size=1, max_size=6)


@settings(max_examples=50, deadline=None)
@given(sets, sets)
def test_overlap_matrix_matches_the_pairwise_functions(a, b):
    ic = information_content(b)
    unseen = math.log(len(b) + 1)
    np.testing.assert_allclose(overlap_matrix(a, b), [[jaccard(x, y) for y in b] for x in a])
    weighted = overlap_matrix(a, b, lambda t: ic.get(t, unseen))
    np.testing.assert_allclose(weighted, [[ic_overlap(x, y, ic, unseen) for y in b] for x in a])
    assert ((weighted >= 0) & (weighted <= 1 + 1e-12)).all()


def test_evaluate_load_offline():
    import evaluate

    metric = evaluate.load(str(METRIC))
    out = metric.compute(predictions=[[A], [A, C], []], references=[[A, B], [C], []])
    assert out["jaccard"] == pytest.approx((0.5 + 0.5 + 1.0) / 3)
    by = metric.compute(predictions=[[A]], references=[[A], [C]], prediction_conditions=["x"],
                        reference_conditions=["x", "y"])  # fmt: skip
    assert by["jaccard"] == 1.0 and by["jaccard_baseline"] == 0.0
    with pytest.raises(ValueError, match="both"):
        metric.compute(predictions=[[A]], references=[[A]], prediction_conditions=["x"])
