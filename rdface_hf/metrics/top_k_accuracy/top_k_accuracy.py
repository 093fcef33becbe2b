"""Top-k accuracy: the share of images whose true class is among the k best-scored classes.

An ``evaluate`` module (``evaluate.load("<path to this folder>")``) over plain functions that
need nothing but numpy, in ``maths.py`` (re-exported here): :func:`top_k_accuracy` and
:func:`true_class_rank`.

Ties: among classes with equal scores the higher class index ranks first, as in
scikit-learn's ``top_k_accuracy_score`` (a stable sort, reversed); the result equals
``top_k_accuracy_score(references, predictions, k=k, labels=range(n_classes))`` for every k.
"""

import datasets
import evaluate

from .maths import DEFAULT_K, normalise_k, top_k_accuracy, true_class_rank

__all__ = ["DEFAULT_K", "TopKAccuracy", "normalise_k", "top_k_accuracy", "true_class_rank"]

_DESCRIPTION = """
Top-k accuracy of class scores: for each image, whether its true class is among the k classes with
the highest scores, averaged over images. `predictions` holds one row per image and one column per
class (logits, probabilities or similarities: only the order within a row matters); `references` holds
the true class ids. Returns `{"top_1": ..., "top_5": ...}` for every k asked for (default 1, 5, 10, 30).
Ties rank the higher class index first, as scikit-learn's `top_k_accuracy_score` does. A k at or above
the number of classes gives 1.0.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `list` of `float`, or an array of shape (n_images, n_classes)): class scores.
    references (`list` of `int`): the true class id of each image, in 0 .. n_classes - 1.
    k (`int` or `list` of `int`, optional): which k to report. Defaults to [1, 5, 10, 30].
Returns:
    `dict`: `top_<k>` -> accuracy in [0, 1], one key per k, in the order asked.
Examples:
    >>> metric = evaluate.load("rdface_hf/metrics/top_k_accuracy")
    >>> metric.compute(predictions=[[0.1, 0.7, 0.2], [0.5, 0.2, 0.3]], references=[2, 0], k=[1, 2])
    {'top_1': 0.5, 'top_2': 1.0}
"""

_CITATION = """
@inproceedings{rdface2026,
  title     = {RDFace: a benchmark of pediatric facial images of rare genetic conditions},
  booktitle = {CVPR},
  year      = {2026},
  note      = {arXiv:2604.03454}
}
"""


class TopKAccuracy(evaluate.Metric):
    """Top-k accuracy over class scores (``evaluate`` wrapper of :func:`top_k_accuracy`)."""

    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {
                    "predictions": datasets.Sequence(datasets.Value("float64")),
                    "references": datasets.Value("int64"),
                }
            ),
            reference_urls=[
                "https://scikit-learn.org/stable/modules/generated/sklearn.metrics.top_k_accuracy_score.html"
            ],
        )

    def _compute(self, predictions, references, k=None):
        return top_k_accuracy(predictions, references, k=k)
