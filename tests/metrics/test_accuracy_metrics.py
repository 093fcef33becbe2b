"""The accuracy metrics: plain functions against scikit-learn (ties included), and the
``evaluate`` modules loaded offline from their folders."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import balanced_accuracy_score, f1_score, top_k_accuracy_score

import rdface_hf.metrics as metrics_package
from rdface_hf.metrics.balanced_accuracy.maths import balanced_accuracy
from rdface_hf.metrics.macro_f1.maths import macro_f1, predicted_classes
from rdface_hf.metrics.top_k_accuracy.maths import top_k_accuracy, true_class_rank

METRICS = Path(metrics_package.__file__).parent
NAMES = ("top_k_accuracy", "macro_f1", "balanced_accuracy")


@st.composite
def scored_cases(draw):
    """Scores with many ties (small integer levels) and class ids; at least 3 classes."""
    classes = draw(st.integers(3, 9))
    n = draw(st.integers(1, 30))
    levels = draw(st.integers(1, 4))  # 1 level: every score tied
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    scores = rng.integers(0, levels, size=(n, classes)).astype(np.float64)
    if draw(st.booleans()):
        scores += rng.normal(size=scores.shape)  # no ties
    references = rng.integers(0, classes, size=n)
    return scores, references, classes


@settings(max_examples=150, deadline=None)
@given(scored_cases())
def test_top_k_matches_scikit_learn_with_ties(case):
    scores, references, classes = case
    ks = list(range(1, classes + 2))
    mine = top_k_accuracy(scores, references, k=ks)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # k >= n_classes warns there
        for k in ks:
            expected = top_k_accuracy_score(references, scores, k=k, labels=np.arange(classes))
            assert mine[f"top_{k}"] == pytest.approx(expected, abs=1e-12), (k, scores, references)


@settings(max_examples=150, deadline=None)
@given(scored_cases())
def test_macro_f1_and_balanced_accuracy_match_scikit_learn(case):
    scores, references, classes = case
    predicted = predicted_classes(scores)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert macro_f1(scores, references) == pytest.approx(
            f1_score(references, predicted, average="macro", zero_division=0), abs=1e-12
        )
        assert macro_f1(predicted, references) == macro_f1(scores, references)
        assert macro_f1(predicted, references, labels=range(classes)) == pytest.approx(
            f1_score(references, predicted, average="macro", labels=np.arange(classes), zero_division=0), abs=1e-12
        )
        for adjusted in (False, True):
            assert balanced_accuracy(scores, references, adjusted=adjusted) == pytest.approx(
                balanced_accuracy_score(references, predicted, adjusted=adjusted), abs=1e-12, nan_ok=True
            )
    # top-1 and the predicted class agree on ties (the higher class index wins)
    assert top_k_accuracy(scores, references, k=1)["top_1"] == pytest.approx(np.mean(predicted == references))


def test_ranks_and_defaults():
    scores = [[0.1, 0.7, 0.2], [0.5, 0.5, 0.0], [0.3, 0.3, 0.3]]
    assert list(true_class_rank(scores, [2, 0, 0])) == [1, 1, 2], "ties: the higher index ranks first"
    assert top_k_accuracy(scores, [1, 1, 2]) == {"top_1": 1.0, "top_5": 1.0, "top_10": 1.0, "top_30": 1.0}
    assert top_k_accuracy(scores, [1, 1, 2], k=2) == {"top_2": 1.0}


@pytest.mark.parametrize(
    "predictions, references, k",
    [
        ([[0.1, 0.2]], [2], None),  # class id out of range
        ([[0.1, float("nan")]], [0], None),
        ([0.1, 0.2], [0, 1], None),  # 1-D scores
        ([[0.1, 0.2]], [0, 1], None),  # lengths differ
        ([[0.1, 0.2]], [0], [0]),  # k must be positive
        ([[0.1, 0.2]], [0.5], None),  # not a class id
        (np.zeros((0, 3)), [], None),
    ],
)
def test_top_k_refuses_bad_input(predictions, references, k):
    with pytest.raises(ValueError):
        top_k_accuracy(predictions, references, k=k)


@pytest.mark.parametrize("name", NAMES)
def test_modules_load_offline_and_have_cards(name):
    import evaluate

    folder = METRICS / name
    card = (folder / "README.md").read_text(encoding="utf-8")
    assert card.startswith("---\n") and "## How to Use" in card and "evaluate.load(" in card
    for line in (folder / f"{name}.py").read_text().splitlines():
        assert not (line.startswith("import ") and "," in line), "evaluate's scanner reads one import per line"
    metric = evaluate.load(str(folder))
    scores = [[0.1, 0.7, 0.2], [0.5, 0.2, 0.3], [0.2, 0.3, 0.5], [0.6, 0.3, 0.1]]
    references = [2, 0, 2, 1]
    result = metric.compute(predictions=scores, references=references)
    expected = {
        "top_k_accuracy": {"top_1": 0.5, "top_5": 1.0, "top_10": 1.0, "top_30": 1.0},
        "macro_f1": {"macro_f1": pytest.approx(f1_score(references, [1, 0, 2, 0], average="macro"))},
        "balanced_accuracy": {"balanced_accuracy": pytest.approx(balanced_accuracy_score(references, [1, 0, 2, 0]))},
    }[name]
    assert result == expected


def test_evaluate_conventions_k_batches_and_class_ids():
    import evaluate

    top_k = evaluate.load(str(METRICS / "top_k_accuracy"))
    scores = np.array([[0.1, 0.7, 0.2], [0.5, 0.2, 0.3]])
    assert top_k.compute(predictions=scores, references=[2, 0], k=[1, 2]) == {"top_1": 0.5, "top_2": 1.0}
    top_k.add_batch(predictions=scores[:1], references=[2])
    top_k.add_batch(predictions=scores[1:], references=[0])
    assert top_k.compute(k=[1, 2]) == {"top_1": 0.5, "top_2": 1.0}
    f1 = evaluate.load(str(METRICS / "macro_f1"))
    assert f1.compute(predictions=[0, 1, 1, 2], references=[0, 1, 2, 2]) == {
        "macro_f1": pytest.approx(f1_score([0, 1, 2, 2], [0, 1, 1, 2], average="macro"))
    }
    balanced = evaluate.load(str(METRICS / "balanced_accuracy"))
    assert balanced.compute(predictions=[0, 1, 1, 1], references=[0, 1, 1, 2], adjusted=True) == {
        "balanced_accuracy": pytest.approx(balanced_accuracy_score([0, 1, 1, 2], [0, 1, 1, 1], adjusted=True))
    }
