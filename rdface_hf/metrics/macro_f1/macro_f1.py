"""Macro-averaged F1: the unweighted mean of the per-class F1 scores.

An ``evaluate`` module (``evaluate.load("<path to this folder>")``) over a plain function
that needs nothing but numpy (in ``maths.py``, re-exported here): :func:`macro_f1`. It equals scikit-learn's
``f1_score(references, predicted, average="macro", zero_division=0)``.

``predictions`` are class ids (one per image) or class scores (one row per image, one
column per class); scores become the best-scored class, ties going to the higher class
index (scikit-learn's ``top_k_accuracy_score`` rule, so that it matches top-1 accuracy).
"""

import datasets
import evaluate

from .maths import macro_f1, per_class_f1, predicted_classes

__all__ = ["MacroF1", "macro_f1", "per_class_f1", "predicted_classes"]

_DESCRIPTION = """
Macro-averaged F1 over classes: F1 = 2 TP / (2 TP + FP + FN) per class, then the unweighted mean.
By default the classes are those that occur in the references or the predictions (scikit-learn's
default); pass `labels` to average over a fixed list (a class with no true and no predicted image then
scores 0). `predictions` are class ids or a matrix of class scores (the best-scored class is taken,
ties to the higher class index).
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `int`, or `list` of `list` of `float`): predicted class ids, or class scores
        with one row per image and one column per class.
    references (`list` of `int`): true class ids.
    labels (`list` of `int`, optional): the classes to average over. Defaults to every class seen in
        references or predictions.
Returns:
    `dict`: `{"macro_f1": float in [0, 1]}`.
Examples:
    >>> metric = evaluate.load("rdface_hf/metrics/macro_f1")
    >>> metric.compute(predictions=[0, 1, 1, 2], references=[0, 1, 2, 2])
    {'macro_f1': 0.7777777777777777}
"""

_CITATION = """
@article{scikit-learn,
  title   = {Scikit-learn: Machine Learning in {P}ython},
  author  = {Pedregosa, F. and others},
  journal = {Journal of Machine Learning Research},
  volume  = {12},
  pages   = {2825--2830},
  year    = {2011}
}
"""


class MacroF1(evaluate.Metric):
    """Macro-averaged F1 (``evaluate`` wrapper of :func:`macro_f1`)."""

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
            reference_urls=["https://scikit-learn.org/stable/modules/generated/sklearn.metrics.f1_score.html"],
        )

    def _compute(self, predictions, references, labels=None):
        return {"macro_f1": macro_f1(predictions, references, labels=labels)}
