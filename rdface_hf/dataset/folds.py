"""The values of ``--fold``, checked in one place (light: the CLI imports it with the configs).

Two words name two different things, and each command takes only the one that fits it:

- ``all`` (:data:`EVERY_FOLD`, train-classifier and probe): run fold 0, 1, ..., K-1 one
  after another and summarise over them.
- ``test`` (:data:`ALL_TRAINING`, the training and generating stages): train on every
  image outside the fixed test split (the final model or set); the test split itself is
  never used.

A fold number is written in ASCII digits without leading zeros or spaces (``0`` .. ``19``).
"""

from __future__ import annotations

import re

from .._config import ConfigError

EVERY_FOLD = "all"
ALL_TRAINING = "test"
MAX_FOLDS = 20  # rdface build --folds is 2..20
_NUMBER = re.compile(r"0|[1-9][0-9]?", re.ASCII)


def fold_problem(spec: object, *, every_fold: bool = False, all_training: bool = True) -> str | None:
    """Why ``spec`` is not a ``--fold`` value the command takes, or ``None`` when it is."""
    words = [w for w, ok in ((EVERY_FOLD, every_fold), (ALL_TRAINING, all_training)) if ok]
    if isinstance(spec, str) and (spec in words or (_NUMBER.fullmatch(spec) and int(spec) < MAX_FOLDS)):
        return None
    meaning = {EVERY_FOLD: "'all' (every fold in turn)", ALL_TRAINING: "'test' (every non-test image)"}
    choices = " or ".join([f"a fold number 0..{MAX_FOLDS - 1}", *(meaning[w] for w in words)])
    return f"must be {choices}, got {spec!r}"


def check_fold(spec: object, field: str = "fold", *, every_fold: bool = False, all_training: bool = True) -> None:
    """Raise :class:`~rdface_hf._config.ConfigError` for ``field`` unless ``spec`` is a fold value."""
    problem = fold_problem(spec, every_fold=every_fold, all_training=all_training)
    if problem:
        raise ConfigError(field, problem)
