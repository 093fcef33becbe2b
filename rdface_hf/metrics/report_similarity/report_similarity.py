"""report_similarity: how alike the phenotype reports of real and synthetic faces of a condition are.

An ``evaluate`` module (``evaluate.load("<path>/rdface_hf/metrics/report_similarity")``).
The maths is in ``rdface_hf.metrics.report_similarity.similarity`` (plain functions).
"""

import datasets
import evaluate

from rdface_hf.metrics.report_similarity.similarity import DEFAULT_EMBEDDING_MODEL, METHODS, report_similarity

_DESCRIPTION = """\
Report similarity of synthetic and real faces (RDFace, CVPR 2026): every synthetic report
(`predictions`) is compared with every real report (`references`). Pairs of the same condition
give the report similarity (the paper's 0.84); pairs of different conditions give its baseline,
the similarity any two reports of these sets share. Both overall (the descriptive sections of the
report joined) and per region (overall impression, left eye, right eye, nose, mouth and lips), by
sentence-embedding cosine and by TF-IDF cosine. The two sets may have any sizes.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `str` or `dict`): synthetic-image reports: report text in the layout of
        `rdface report` (sections are parsed) or mappings region -> text (its `regions` column).
    references (`list` of `str` or `dict`): real-image reports, the same way.
    prediction_conditions (`list`): the condition of each prediction (names or ids).
    reference_conditions (`list`): the condition of each reference. Without both, every pair
        counts as the same condition (one group, no baseline).
    methods (`list` of `str`, default `["embedding", "tfidf"]`): which cosines.
    embedding_model (`str` or model, default the paper's
        `pritamdeka/BioBERT-mnli-snli-scinli-scitail-mednli-stsb`): a sentence-transformers model id,
        a local folder, a loaded `SentenceTransformer`, or `None`
        (TF-IDF alone, no model: offline without a cached model).
    regions (`list` of `str`): regions scored apart (default: impression, left_eye, right_eye,
        nose, mouth).
    drop_normal (`bool`, default `False`): leave out, per region, pairs whose synthetic region reads
        as normal (the paper's protocol).
    tfidf_options (`dict`): options for scikit-learn's `TfidfVectorizer`.
Returns:
    embedding_similarity, embedding_baseline, tfidf_similarity, tfidf_baseline (`float` or `None`):
        mean cosine of same-condition and of different-condition pairs;
    pairs, baseline_pairs (`int`);
    per_region (`dict`): method -> region -> similarity, baseline, pair counts, dropped_normal,
        missing_predictions, missing_references;
    per_condition (`dict`): method -> condition -> mean cosine of its pairs.
Examples:
    >>> metric = evaluate.load("rdface_hf/metrics/report_similarity")  # doctest: +SKIP
    >>> metric.compute(
    ...     predictions=["Left eye: downslanting.", "Nose: short."],
    ...     references=["Left eye: downslanting fissure.", "Nose: broad."],
    ...     prediction_conditions=["A", "B"], reference_conditions=["A", "B"],
    ...     methods=["tfidf"])["tfidf_similarity"]  # doctest: +SKIP
"""

_CITATION = """\
@inproceedings{rdface2026,
  title = {RDFace: A Benchmark Dataset for Rare Disease Facial Image Analysis under Extreme Data Scarcity},
  booktitle = {CVPR},
  year = {2026},
  note = {arXiv:2604.03454}
}
"""

_EXTRA = ("prediction_conditions", "reference_conditions")


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class ReportSimilarity(evaluate.Metric):
    """All real x synthetic pairs: the two sets have their own sizes, so inputs are kept as
    given (texts or region mappings) instead of in evaluate's per-example table."""

    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {"predictions": datasets.Value("string"), "references": datasets.Value("string")}
            ),
            reference_urls=["https://arxiv.org/abs/2604.03454"],
        )

    def _pending(self):
        if not hasattr(self, "_batches"):
            self._batches = {"predictions": [], "references": [], **{k: [] for k in _EXTRA}}
        return self._batches

    def add_batch(self, *, predictions=None, references=None, prediction_conditions=None, reference_conditions=None):
        """Add reports (either set may be empty in a batch) with their conditions."""
        pending = self._pending()
        pending["predictions"] += list(predictions or [])
        pending["references"] += list(references or [])
        pending["prediction_conditions"] += list(prediction_conditions or [])
        pending["reference_conditions"] += list(reference_conditions or [])

    def add(self, *, prediction=None, reference=None, prediction_condition=None, reference_condition=None):
        """Add one report (a prediction, a reference or both) with its condition."""
        self.add_batch(
            predictions=[] if prediction is None else [prediction],
            references=[] if reference is None else [reference],
            prediction_conditions=[] if prediction is None else [prediction_condition],
            reference_conditions=[] if reference is None else [reference_condition],
        )

    def compute(self, *, predictions=None, references=None, **kwargs):
        """Score the reports added so far and these; see the module's inputs description."""
        extra = {k: kwargs.pop(k, None) for k in _EXTRA}
        self.add_batch(predictions=predictions, references=references, **extra)
        batches = self._pending()
        del self._batches  # the next compute starts afresh, as evaluate's own modules do
        for key in _EXTRA:  # no condition given at all: say so (not "0 values for N reports")
            if not batches[key] and batches[key.replace("_conditions", "s")]:
                batches[key] = None
        return self._compute(**batches, **kwargs)

    def _compute(
        self,
        predictions,
        references,
        prediction_conditions=None,
        reference_conditions=None,
        methods=METHODS,
        embedding_model=DEFAULT_EMBEDDING_MODEL,
        regions=("impression", "left_eye", "right_eye", "nose", "mouth"),
        drop_normal=False,
        tfidf_options=None,
    ):
        return report_similarity(
            predictions,
            references,
            prediction_conditions,
            reference_conditions,
            methods=list(methods),
            embedding_model=embedding_model,
            regions=list(regions),
            drop_normal=drop_normal,
            tfidf_options=tfidf_options,
        )
