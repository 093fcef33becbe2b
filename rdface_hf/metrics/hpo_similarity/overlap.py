"""The maths of ``hpo_similarity``: set overlap of HPO terms; plain functions, no ``evaluate``.

- **Jaccard**: ``|P ∩ R| / |P ∪ R|`` (two empty sets agree: 1).
- **IC-weighted overlap**: the same ratio with each term weighted by its information
  content ``IC(t) = -ln((n_t + 1) / (N + 1))``, where ``n_t`` is the number of the ``N``
  reference sets that hold ``t`` (add-one smoothing: a term no reference holds weighs
  ``ln(N + 1)``, a term every reference holds weighs 0). Agreeing on a rare term counts
  more than agreeing on a common one.
- **Precision, recall, F1** of the predicted terms against the reference terms, micro
  averaged and per term (for measured reports against a known truth).

Pairs are either aligned (prediction *i* with reference *i*) or, given conditions, every
prediction x reference pair of the same condition, with the pairs of different conditions
as a baseline.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np


def as_terms(value: Iterable[str] | str | None) -> frozenset[str]:
    """A set of term ids from a list (or a comma / space separated string); ``None`` is empty."""
    if value is None:
        return frozenset()
    if isinstance(value, str):
        value = value.replace(",", " ").split()
    return frozenset(str(t).strip() for t in value if str(t).strip())


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    union = a | b
    return 1.0 if not union else len(a & b) / len(union)


def information_content(reference_sets: Sequence[frozenset[str]]) -> dict[str, float]:
    """``IC(t) = -ln((n_t + 1) / (N + 1))`` of every term in ``reference_sets``."""
    n = len(reference_sets)
    counts = Counter(t for s in reference_sets for t in s)
    return {t: -math.log((c + 1) / (n + 1)) for t, c in counts.items()}


def ic_overlap(a: frozenset[str], b: frozenset[str], ic: dict[str, float], unseen: float) -> float:
    """IC-weighted Jaccard; ``unseen`` weighs terms absent from ``ic``. Empty or all-zero
    weights: 1 if the sets are equal, else 0."""
    union = a | b
    total = sum(ic.get(t, unseen) for t in union)
    if total <= 0:
        return 1.0 if a == b else 0.0
    return sum(ic.get(t, unseen) for t in a & b) / total


def detection_scores(predictions: Sequence[frozenset[str]], references: Sequence[frozenset[str]]) -> dict[str, Any]:
    """Micro precision / recall / F1 and per-term scores (aligned pairs)."""
    terms = sorted(set().union(*predictions, *references)) if predictions else []
    per_term = {}
    tp_all = fp_all = fn_all = 0
    for t in terms:
        tp = sum(1 for p, r in zip(predictions, references) if t in p and t in r)
        fp = sum(1 for p, r in zip(predictions, references) if t in p and t not in r)
        fn = sum(1 for p, r in zip(predictions, references) if t not in p and t in r)
        tp_all, fp_all, fn_all = tp_all + tp, fp_all + fp, fn_all + fn
        per_term[t] = {**_prf(tp, fp, fn), "support": tp + fn, "predicted": tp + fp}
    return {**_prf(tp_all, fp_all, fn_all), "per_term": per_term}


def _prf(tp: int, fp: int, fn: int) -> dict[str, float | None]:
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else None
    return {"precision": precision, "recall": recall, "f1": f1}


def aligned_similarity(
    predictions: Sequence[Iterable[str]], references: Sequence[Iterable[str]], *, ic_reference=None
) -> dict[str, Any]:
    """Prediction *i* against reference *i*: mean Jaccard and IC overlap, detection scores."""
    if len(predictions) != len(references):
        raise ValueError(
            f"{len(predictions)} predictions and {len(references)} references: aligned pairs need equal lengths "
            "(pass prediction_conditions and reference_conditions to compare every same-condition pair)"
        )
    p = [as_terms(x) for x in predictions]
    r = [as_terms(x) for x in references]
    ref_sets = r if ic_reference is None else [as_terms(x) for x in ic_reference]
    ic, unseen = information_content(ref_sets), math.log(len(ref_sets) + 1)
    jac = [jaccard(a, b) for a, b in zip(p, r)]
    ico = [ic_overlap(a, b, ic, unseen) for a, b in zip(p, r)]
    return {
        "jaccard": float(np.mean(jac)) if jac else None,
        "ic_overlap": float(np.mean(ico)) if ico else None,
        **detection_scores(p, r),
        "pairs": len(p),
        "information_content": dict(sorted(ic.items())),
    }


def overlap_matrix(a: Sequence[frozenset[str]], b: Sequence[frozenset[str]], weight=None) -> np.ndarray:
    """(len(a), len(b)) weighted Jaccard of every pair (``weight``: term -> weight, default 1),
    as matrix products over term indicators; empty or zero-weight unions follow :func:`ic_overlap`."""
    terms = sorted(set().union(*a, *b))
    index = {t: i for i, t in enumerate(terms)}
    w = np.array([1.0 if weight is None else weight(t) for t in terms])
    ma, mb = np.zeros((len(a), len(terms))), np.zeros((len(b), len(terms)))
    for m, sets in ((ma, a), (mb, b)):
        for i, s in enumerate(sets):
            m[i, [index[t] for t in s]] = 1.0
    inter = (ma * w) @ mb.T
    union = (ma @ w)[:, None] + (mb @ w)[None, :] - inter
    zero = union <= 1e-12
    out = inter / np.where(zero, 1.0, union)
    both_empty = (ma.sum(axis=1) == 0)[:, None] & (mb.sum(axis=1) == 0)[None, :]
    out[zero & both_empty] = 1.0
    for i, j in np.argwhere(zero & ~both_empty):  # only zero-weight terms: rare
        out[i, j] = float(a[i] == b[j])
    return out


def condition_similarity(
    predictions: Sequence[Iterable[str]],
    references: Sequence[Iterable[str]],
    prediction_conditions: Sequence[Any],
    reference_conditions: Sequence[Any],
    *,
    ic_reference=None,
) -> dict[str, Any]:
    """Every prediction x reference pair: same-condition means and a different-condition baseline."""
    if len(prediction_conditions) != len(predictions) or len(reference_conditions) != len(references):
        raise ValueError("prediction_conditions and reference_conditions need one value per prediction / reference")
    p = [as_terms(x) for x in predictions]
    r = [as_terms(x) for x in references]
    ref_sets = r if ic_reference is None else [as_terms(x) for x in ic_reference]
    ic, unseen = information_content(ref_sets), math.log(len(ref_sets) + 1)
    jac = overlap_matrix(p, r)
    ico = overlap_matrix(p, r, lambda t: ic.get(t, unseen))
    pc = np.asarray([str(c) for c in prediction_conditions], dtype=object)
    rc = np.asarray([str(c) for c in reference_conditions], dtype=object)
    same = pc[:, None] == rc[None, :]

    def mean(m, mask):
        return float(m[mask].mean()) if mask.any() else None

    per_condition = {
        c: {"jaccard": mean(jac, same & (pc == c)[:, None]), "ic_overlap": mean(ico, same & (pc == c)[:, None])}
        for c in sorted(set(pc) & set(rc))
    }
    return {
        "jaccard": mean(jac, same),
        "ic_overlap": mean(ico, same),
        "jaccard_baseline": mean(jac, ~same),
        "ic_overlap_baseline": mean(ico, ~same),
        "pairs": int(same.sum()),
        "baseline_pairs": int((~same).sum()),
        "per_condition": per_condition,
        "information_content": dict(sorted(ic.items())),
    }
