"""hpo_similarity: overlap of the Human Phenotype Ontology terms of two sets of reports.

An ``evaluate`` module (``evaluate.load("<path>/rdface_hf/metrics/hpo_similarity")``).
The maths is in ``rdface_hf.metrics.hpo_similarity.overlap`` (plain functions).
"""

import datasets
import evaluate

from rdface_hf.metrics.hpo_similarity.overlap import aligned_similarity, condition_similarity

_DESCRIPTION = """\
Set similarity of HPO terms (e.g. HP:0000316, hypertelorism) between predicted and reference
reports: Jaccard, and an information-content-weighted overlap in which each term weighs
IC(t) = -ln((n_t + 1) / (N + 1)), n_t being the number of the N reference sets holding t.
Aligned pairs (prediction i with reference i) also get micro and per-term precision, recall and
F1 (a measured report against a known truth). With `prediction_conditions` and
`reference_conditions`, every prediction x reference pair is compared instead: pairs of the same
condition give the similarity, pairs of different conditions the baseline; the sets may then
have any sizes.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `list` of `str`): HPO term ids of each predicted report.
    references (`list` of `list` of `str`): HPO term ids of each reference report (or the truth).
    prediction_conditions, reference_conditions (`list`, optional): conditions of the reports;
        given, every same-condition pair is scored and different-condition pairs are the baseline.
    ic_reference (`list` of `list` of `str`, optional): the sets the information content is
        counted on (default: `references`).
Returns:
    jaccard, ic_overlap (`float`); aligned: precision, recall, f1 (micro), per_term
    (term -> precision, recall, f1, support, predicted), pairs; by condition: jaccard_baseline,
    ic_overlap_baseline, pairs, baseline_pairs, per_condition; information_content (term -> IC).
Examples:
    >>> metric = evaluate.load("rdface_hf/metrics/hpo_similarity")  # doctest: +SKIP
    >>> result = metric.compute(predictions=[["HP:0000316"]], references=[["HP:0000316", "HP:0000343"]])
    >>> result["jaccard"]  # doctest: +SKIP
    0.5
"""

_CITATION = """\
@article{kohler2021hpo,
  title = {The Human Phenotype Ontology in 2021},
  author = {K{\\"o}hler, Sebastian and others},
  journal = {Nucleic Acids Research},
  volume = {49},
  pages = {D1207--D1217},
  year = {2021}
}
"""

_CONDITIONS = ("prediction_conditions", "reference_conditions")


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class HpoSimilarity(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {
                    "predictions": datasets.List(datasets.Value("string")),
                    "references": datasets.List(datasets.Value("string")),
                }
            ),
            reference_urls=["https://hpo.jax.org/"],
        )

    def compute(self, *, predictions=None, references=None, **kwargs):
        """Aligned pairs go through evaluate's table as usual; with conditions, the two sets
        (any sizes) go to the maths as given."""
        if any(kwargs.get(k) is not None for k in _CONDITIONS):
            if not all(kwargs.get(k) is not None for k in _CONDITIONS):
                raise ValueError("pass both prediction_conditions and reference_conditions, or neither")
            return self._compute(predictions=list(predictions or []), references=list(references or []), **kwargs)
        kwargs = {k: v for k, v in kwargs.items() if k not in _CONDITIONS}
        return super().compute(predictions=predictions, references=references, **kwargs)

    def _compute(
        self, predictions, references, prediction_conditions=None, reference_conditions=None, ic_reference=None
    ):
        if prediction_conditions is not None:
            return condition_similarity(
                predictions, references, prediction_conditions, reference_conditions, ic_reference=ic_reference
            )
        return aligned_similarity(predictions, references, ic_reference=ic_reference)
