"""The maths of ``report_similarity``: plain functions, no ``evaluate``.

Every synthetic report is compared with every real report; a pair is *matched* when both
show the same condition and *mismatched* otherwise. The mean cosine over matched pairs is
the paper's report similarity (0.84); the mean over mismatched pairs is its baseline,
the similarity that any two reports of these sets have. Both are given overall (the
descriptive sections of the whole report, joined) and per region, by sentence-embedding
cosine and by TF-IDF cosine.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

import numpy as np

from .sections import DESCRIPTIVE, REGIONS, reads_normal, render_report, report_regions

DEFAULT_EMBEDDING_MODEL = "pritamdeka/BioBERT-mnli-snli-scinli-scitail-mednli-stsb"
METHODS = ("embedding", "tfidf")
OVERALL = "overall"

Similarity = Callable[[Sequence[str], Sequence[str]], np.ndarray]


# --- cosine matrices ------------------------------------------------------------------


def tfidf_cosine(a: Sequence[str], b: Sequence[str], **tfidf_options: Any) -> np.ndarray:
    """(len(a), len(b)) cosine similarities of TF-IDF vectors (scikit-learn's defaults:
    lower case, word tokens, smooth idf, l2 norm) fitted on the texts of both sets."""
    # scikit-learn: imported when TF-IDF is asked for (the report parser needs only the standard library)
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics.pairwise import cosine_similarity

    if not len(a) or not len(b):
        return np.zeros((len(a), len(b)))
    vectorizer = TfidfVectorizer(**tfidf_options)
    try:
        matrix = vectorizer.fit_transform(list(a) + list(b))
    except ValueError:  # no word at all (empty vocabulary): nothing in common
        return np.zeros((len(a), len(b)))
    return cosine_similarity(matrix[: len(a)], matrix[len(a) :])


@lru_cache(maxsize=4)
def load_embedder(name_or_path: str, device: str | None = None):
    """A ``SentenceTransformer`` (cached); one clear error when it cannot be loaded.

    The transformer's weights load from safetensors only (never a pickled ``pytorch_model.bin``;
    sentence-transformers' small extra modules, such as a dense layer, load as the library loads
    them, tensors only) and no remote code runs. For a model that ships only ``.bin`` weights,
    load it yourself (a choice to trust that file) and pass the ``SentenceTransformer`` as
    ``embedding_model``."""
    from sentence_transformers import SentenceTransformer  # torch: only when embeddings are asked for

    try:
        return SentenceTransformer(
            name_or_path, device=device, trust_remote_code=False, model_kwargs={"use_safetensors": True}
        )
    except Exception as exc:  # missing repo, offline without a cache, not a sentence-transformers model
        first = (str(exc).strip().splitlines() or [""])[0][:300]
        hint = ""
        if "safetensors" in str(exc):
            hint = (
                " (the model's weights are loaded from safetensors only, never a pickled .bin: use a model or revision"
                " with model.safetensors, or load the model yourself and pass it as embedding_model)"
            )
        raise ValueError(
            f"cannot load the embedding model {name_or_path!r}: {type(exc).__name__}: {first}{hint}; "
            "pass embedding_model= a local model folder, a loaded SentenceTransformer, "
            "or None (TF-IDF similarity alone)"
        ) from None


def embed(texts: Sequence[str], model, *, batch_size: int = 64) -> np.ndarray:
    """Unit-length sentence embeddings of ``texts`` (each distinct text embedded once)."""
    unique = list(dict.fromkeys(texts))
    if not unique:
        return np.zeros((0, 1), dtype=np.float32)
    vectors = np.asarray(
        model.encode(unique, batch_size=batch_size, convert_to_numpy=True, show_progress_bar=False), dtype=np.float64
    )
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors = vectors / np.where(norms > 0, norms, 1.0)
    index = {t: i for i, t in enumerate(unique)}
    return vectors[[index[t] for t in texts]]


_EMBEDDINGS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # model -> {text: unit vector}
MAX_CACHED = 200_000


def embedding_cosine(model) -> Similarity:
    """A similarity function: cosine of ``model``'s sentence embeddings (each distinct text is
    embedded once per model, over all calls)."""
    try:
        cache: dict[str, np.ndarray] = _EMBEDDINGS.setdefault(model, {})
    except TypeError:  # a model that takes no weak reference: cache for this function only
        cache = {}
    if len(cache) > MAX_CACHED:
        cache.clear()

    def vectors(texts: Sequence[str]) -> np.ndarray:
        new = [t for t in dict.fromkeys(texts) if t not in cache]
        if new:
            cache.update(zip(new, embed(new, model)))
        return np.stack([cache[t] for t in texts])

    def similarity(a: Sequence[str], b: Sequence[str]) -> np.ndarray:
        if not len(a) or not len(b):
            return np.zeros((len(a), len(b)))
        return np.clip(vectors(a) @ vectors(b).T, -1.0, 1.0)

    return similarity


# --- matched and mismatched pairs --------------------------------------------------------


def pair_summary(
    sim: np.ndarray, pred_conditions: Sequence[Any], ref_conditions: Sequence[Any], valid: np.ndarray | None = None
) -> dict[str, Any]:
    """Means of ``sim`` (predictions x references) over matched and mismatched valid pairs,
    and per condition (of matched pairs). Means of no pair are ``None``."""
    pc = np.asarray([str(c) for c in pred_conditions], dtype=object)
    rc = np.asarray([str(c) for c in ref_conditions], dtype=object)
    same = pc[:, None] == rc[None, :]
    valid = np.ones(sim.shape, dtype=bool) if valid is None else valid
    matched, mismatched = valid & same, valid & ~same
    per_condition = {}
    for c in sorted(set(pc) & set(rc)):
        mask = matched & (pc == c)[:, None]
        per_condition[c] = float(sim[mask].mean()) if mask.any() else None
    return {
        "similarity": float(sim[matched].mean()) if matched.any() else None,
        "baseline": float(sim[mismatched].mean()) if mismatched.any() else None,
        "pairs": int(matched.sum()),
        "baseline_pairs": int(mismatched.sum()),
        "per_condition": per_condition,
    }


def _texts(regions: list[dict[str, str]], region: str) -> list[str]:
    if region == OVERALL:
        return [render_report(r, DESCRIPTIVE) for r in regions]
    return [r[region] for r in regions]


def region_summary(
    similarity: Similarity,
    preds: list[dict[str, str]],
    refs: list[dict[str, str]],
    pred_conditions: Sequence[Any],
    ref_conditions: Sequence[Any],
    region: str,
    *,
    drop_normal: bool,
) -> dict[str, Any]:
    """One region (or ``overall``): pairs where either side has no text are left out;
    with ``drop_normal``, so are pairs whose synthetic region reads as normal."""
    a, b = _texts(preds, region), _texts(refs, region)
    has_a = np.array([bool(t.strip()) for t in a], dtype=bool)
    has_b = np.array([bool(t.strip()) for t in b], dtype=bool)
    normal = np.array([region != OVERALL and drop_normal and reads_normal(t) for t in a], dtype=bool)
    keep_a, keep_b = has_a & ~normal, has_b
    sim = np.zeros((len(a), len(b)))
    if keep_a.any() and keep_b.any():
        sim[np.ix_(keep_a, keep_b)] = similarity(
            [t for t, k in zip(a, keep_a) if k], [t for t, k in zip(b, keep_b) if k]
        )
    out = pair_summary(sim, pred_conditions, ref_conditions, keep_a[:, None] & keep_b[None, :])
    out["missing_predictions"] = int((~has_a).sum())
    out["missing_references"] = int((~has_b).sum())
    out["dropped_normal"] = int((normal & has_a).sum())
    return out


def report_similarity(
    predictions: Sequence[str | dict],
    references: Sequence[str | dict],
    prediction_conditions: Sequence[Any],
    reference_conditions: Sequence[Any],
    *,
    methods: Sequence[str] = METHODS,
    embedding_model: Any = DEFAULT_EMBEDDING_MODEL,
    regions: Sequence[str] = DESCRIPTIVE,
    drop_normal: bool = False,
    tfidf_options: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Report similarity of synthetic (``predictions``) and real (``references``) reports.

    Reports are text in the report layout (parsed) or mappings region -> text. Without
    conditions, every pair counts as matched (one group; no baseline).
    ``embedding_model``: a model id or folder for ``SentenceTransformer``, or a loaded
    model (anything with ``encode``), or ``None``: TF-IDF alone, no model loaded. Returns ``<method>_similarity`` and
    ``<method>_baseline`` (overall), ``per_region[method][region]`` and
    ``per_condition[method][condition]`` (overall, matched pairs), and pair counts.
    """
    if prediction_conditions is None and reference_conditions is None:  # one group: every pair matches
        prediction_conditions, reference_conditions = ["all"] * len(predictions), ["all"] * len(references)
    check_inputs(predictions, references, prediction_conditions, reference_conditions, methods, regions)
    if embedding_model is None:  # no model (offline, no cache): the TF-IDF similarity alone
        methods = [m for m in methods if m != "embedding"]
        if not methods:
            raise ValueError("embedding_model=None leaves no method: ask for methods=['tfidf']")
    preds = [report_regions(p) for p in predictions]
    refs = [report_regions(r) for r in references]
    functions: dict[str, Similarity] = {}
    for method in methods:
        if method == "tfidf":
            functions[method] = lambda a, b: tfidf_cosine(a, b, **(tfidf_options or {}))
        else:
            model = load_embedder(embedding_model) if isinstance(embedding_model, str) else embedding_model
            functions[method] = embedding_cosine(model)
    out: dict[str, Any] = {}
    per_region: dict[str, dict] = {}
    per_condition: dict[str, dict] = {}
    for method, fn in functions.items():
        summaries = {
            region: region_summary(
                fn, preds, refs, prediction_conditions, reference_conditions, region, drop_normal=drop_normal
            )
            for region in (OVERALL, *regions)
        }
        overall = summaries.pop(OVERALL)
        out[f"{method}_similarity"] = overall["similarity"]
        out[f"{method}_baseline"] = overall["baseline"]
        per_condition[method] = overall["per_condition"]
        per_region[method] = {r: {k: v for k, v in s.items() if k != "per_condition"} for r, s in summaries.items()}
        out["pairs"], out["baseline_pairs"] = overall["pairs"], overall["baseline_pairs"]
    out["per_region"] = per_region
    out["per_condition"] = per_condition
    out["drop_normal"] = bool(drop_normal)
    if "embedding" in functions:
        out["embedding_model"] = embedding_model if isinstance(embedding_model, str) else type(embedding_model).__name__
    return out


def check_inputs(predictions, references, prediction_conditions, reference_conditions, methods, regions) -> None:
    """One clear ``ValueError`` for inputs that do not fit together."""
    if prediction_conditions is None or reference_conditions is None:
        raise ValueError("pass both prediction_conditions and reference_conditions (the condition of every report)")
    if len(prediction_conditions) != len(predictions):
        raise ValueError(
            f"prediction_conditions has {len(prediction_conditions)} values for {len(predictions)} predictions"
        )
    if len(reference_conditions) != len(references):
        raise ValueError(
            f"reference_conditions has {len(reference_conditions)} values for {len(references)} references"
        )
    unknown = [m for m in methods if m not in METHODS]
    if unknown or not methods:
        raise ValueError(f"methods must be among {', '.join(METHODS)}, got {list(methods)}")
    bad = [r for r in regions if r not in REGIONS]
    if bad:
        raise ValueError(f"unknown region(s) {bad}; regions are {', '.join(REGIONS)}")
