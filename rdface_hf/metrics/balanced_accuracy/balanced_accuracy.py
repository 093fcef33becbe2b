"""Balanced accuracy: the mean over classes of the share of each class's images classified right.

An ``evaluate`` module (``evaluate.load("<path to this folder>")``) over a plain function
that needs nothing but numpy (in ``maths.py``, re-exported here): :func:`balanced_accuracy`. It equals scikit-learn's
``balanced_accuracy_score(references, predicted, adjusted=adjusted)``: the mean recall over
the classes that occur in the references.

``predictions`` are class ids (one per image) or class scores (one row per image, one
column per class); scores become the best-scored class, ties going to the higher class
index (scikit-learn's ``top_k_accuracy_score`` rule, so that it matches top-1 accuracy).
"""

import datasets
import evaluate

from .maths import balanced_accuracy, per_class_recall, predicted_classes

__all__ = ["BalancedAccuracy", "balanced_accuracy", "per_class_recall", "predicted_classes"]

_DESCRIPTION = """
Balanced accuracy: per class present in the references, the share of its images predicted as that
class (recall), averaged without weights, so that a condition with one test image counts as much as one
with seven. With `adjusted=True` chance scores 0 and a perfect classifier 1. `predictions` are class ids
or a matrix of class scores (the best-scored class is taken, ties to the higher class index).
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `int`, or `list` of `list` of `float`): predicted class ids, or class scores
        with one row per image and one column per class.
    references (`list` of `int`): true class ids.
    adjusted (`bool`, optional): rescale so that chance is 0 (undefined with a single class). Defaults to False.
Returns:
    `dict`: `{"balanced_accuracy": float}` (in [0, 1]; adjusted: at most 1).
Examples:
    >>> metric = evaluate.load("rdface_hf/metrics/balanced_accuracy")
    >>> metric.compute(predictions=[0, 1, 1, 1], references=[0, 1, 1, 2])
    {'balanced_accuracy': 0.6666666666666666}
"""

_CITATION = """
@inproceedings{brodersen2010balanced,
  title     = {The balanced accuracy and its posterior distribution},
  author    = {Brodersen, K. H. and Ong, C. S. and Stephan, K. E. and Buhmann, J. M.},
  booktitle = {ICPR},
  year      = {2010}
}
"""


class BalancedAccuracy(evaluate.Metric):
    """Balanced accuracy (``evaluate`` wrapper of :func:`balanced_accuracy`)."""

    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=[
                datasets.Features(
                    {"predictions": datasets.Sequence(datasets.Value("float64")), "references": datasets.Value("int64")}
                ),
                datasets.Features({"predictions": datasets.Value("int64"), "references": datasets.Value("int64")}),
            ],
            reference_urls=[
                "https://scikit-learn.org/stable/modules/generated/sklearn.metrics.balanced_accuracy_score.html"
            ],
        )

    def _compute(self, predictions, references, adjusted=False):
        return {"balanced_accuracy": balanced_accuracy(predictions, references, adjusted=adjusted)}
