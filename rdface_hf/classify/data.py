"""What each fold trains, selects and scores on: ids and labels, read through ``RDFaceDataset``.

- ``train``: the fold's training split (``RDFaceDataset.training_split``), or with
  ``--shots K`` at most K images per condition drawn from it with the seed;
- ``extra``: ``--extra-train`` rows (a synthetic set; only ``kept`` rows of a filtered set;
  only ``is_synthetic`` rows of a merged set), added to training only;
- ``validation``: the fold's validation split (model selection);
- ``test``: the fixed test split, scored once, after selection.
"""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import datasets
import numpy as np

from .._errors import InputError
from ..dataset.facade import RDFaceDataset, parse_fold
from ..dataset.heldout import HeldOut, clean_images, image_ids, kept_flags, parse_trained_on
from ..dataset.synthetic import SyntheticSet

IMAGE_COLUMNS = ["image", "image_id", "condition"]


def warn(message: str) -> None:
    print(f"rdface: note: {message}", file=sys.stderr)


@dataclass
class Split:
    """The rows of one split (a ``datasets.Dataset`` with at least image, image_id, condition) and its labels."""

    rows: datasets.Dataset
    labels: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.labels = np.asarray(self.rows["condition"], dtype=np.int64) if len(self.rows) else np.zeros(0, np.int64)

    @property
    def image_ids(self) -> list[str]:
        return list(self.rows["image_id"]) if len(self.rows) else []

    def __len__(self) -> int:
        return len(self.rows)


@dataclass
class FoldData:
    fold: int
    train: Split
    validation: Split
    test: Split
    extra: Split | None = None

    def describe(self) -> dict[str, Any]:
        return {
            "train_images": len(self.train),
            "extra_train_images": len(self.extra) if self.extra is not None else 0,
            "validation_images": len(self.validation),
            "test_images": len(self.test),
        }


def open_dataset(source: str, *, revision: str | None = None, token: str | bool | None = None) -> RDFaceDataset:
    """The dataset, checked for what classification needs (one line otherwise)."""
    dataset = RDFaceDataset(source, revision=revision, token=token)
    try:
        test_images = len(dataset.test)  # the class names come from its features too
    except InputError:
        raise
    except Exception as exc:  # no test shard, unreadable parquet: one line
        first = (str(exc).splitlines() or [""])[0]
        raise InputError(f"{source}: cannot read the test split ({type(exc).__name__}: {first})") from None
    if test_images == 0:
        raise InputError(f"{source} has an empty test split: nothing to score")
    if dataset.num_folds == 0:
        raise InputError(f"{source} has no folds (build it with 'rdface build')")
    if dataset.num_classes < 2:
        raise InputError(f"{source} has {dataset.num_classes} condition(s); classification needs at least two")
    return dataset


def resolve_folds(dataset: RDFaceDataset, spec: str) -> list[int]:
    """``all`` -> every fold; ``K`` -> ``[K]`` if the dataset has it."""
    if str(spec).strip().lower() == "all":
        return list(range(dataset.num_folds))
    fold = parse_fold(spec)
    if fold is None or fold >= dataset.num_folds:
        raise InputError(f"{dataset.source} has no fold {spec} (it has folds 0 to {dataset.num_folds - 1})")
    return [fold]


def draw_shots(labels: np.ndarray, shots: int, seed: int) -> np.ndarray:
    """Row indices: per condition, ``shots`` rows drawn with ``seed`` (all if it has fewer), in row order."""
    rng = np.random.default_rng(seed)
    keep: list[int] = []
    for c in np.unique(labels):
        rows = np.flatnonzero(labels == c)
        keep.extend(rng.permutation(rows)[:shots].tolist())
    return np.sort(np.asarray(keep, dtype=np.int64))


def fold_data(dataset: RDFaceDataset, fold: int, *, shots: int | None, seed: int, extra=None) -> FoldData:
    """The splits of ``fold`` (training rows only through ``training_split``)."""
    train = dataset.training_split(fold)
    if len(train) == 0:
        raise InputError(f"fold {fold} of {dataset.source} has an empty training split")
    if shots is not None:
        train = train.select(draw_shots(np.asarray(train["condition"], np.int64), shots, seed + fold).tolist())
    validation = dataset.split("validation", fold)
    test = dataset.test
    rows = extra.rows_for(fold) if extra is not None else None
    return FoldData(fold, Split(train), Split(validation), Split(test), Split(rows) if rows is not None else None)


class ExtraTrain:
    """``--extra-train``: a synthetic set, a filtered one (``kept``) or a merged one (``is_synthetic``).

    Every used image is decoded under the builder's limits, refused if it is a test image or
    a validation image of a trained fold (bytes, pixels or near-duplicate, whatever its provenance
    says), and re-encoded without metadata. A set whose generator saw a fold's validation images
    is refused unless ``allow_validation_overlap`` (model selection is then optimistic)."""

    def __init__(
        self, path: str, dataset: RDFaceDataset, folds: list[int], *, allow_validation_overlap: bool = False
    ) -> None:
        self.path = path
        self.allow_validation_overlap = allow_validation_overlap
        self.set = SyntheticSet(path)
        self.set.check_classes(dataset.class_names)
        ds = self.set.dataset
        columns = set(ds.column_names)
        self.kind = "merged" if "is_synthetic" in columns else "filtered" if "kept" in columns else "synthetic"
        self.counts: dict[str, Any] = {"rows": len(ds)}
        mask = np.ones(len(ds), dtype=bool)
        if "is_synthetic" in columns:
            synthetic = kept_flags(ds["is_synthetic"], f"--extra-train {path}").copy()
            self._check_merged(ds.select(np.flatnonzero(~synthetic).tolist()), dataset, folds)
            self.counts["real_rows_skipped"] = int((~synthetic).sum())
            mask &= synthetic
        if "kept" in columns:
            kept = kept_flags(ds["kept"], f"--extra-train {path}")
            self.counts["not_kept_skipped"] = int((mask & ~kept).sum())
            mask &= kept
        self.rows = ds.select(np.flatnonzero(mask).tolist())
        self.counts["used"] = len(self.rows)
        if len(self.rows) == 0:
            raise InputError(f"--extra-train {path}: no synthetic rows to train on ({self.counts})")
        self._check_leaks(dataset, folds)
        self.rows = self._cleaned(dataset, folds)

    def _cleaned(self, dataset: RDFaceDataset, folds: list[int]) -> datasets.Dataset:
        """The used rows with their images checked against the held-out ones and re-encoded."""
        raw = self.rows.cast_column("image", datasets.Image(decode=False))["image"]
        clean = clean_images(raw, HeldOut.of(dataset, [None, *folds]), f"--extra-train {self.path}")
        keep = IMAGE_COLUMNS + [c for c in ("landmarks",) if c in self.rows.column_names]  # for the geometry probes
        features = datasets.Features({k: self.rows.features[k] for k in keep})
        columns = {"image": clean, "image_id": image_ids(clean), "condition": self.rows["condition"]}
        columns.update({c: self.rows[c] for c in keep if c not in columns})
        return datasets.Dataset.from_dict(columns, features=features)

    @staticmethod
    def _check_merged(real: datasets.Dataset, dataset: RDFaceDataset, folds: list[int]) -> None:
        ids = set(real["image_id"])
        for fold in folds:
            allowed = set(dataset.image_ids("train", fold))
            stray = ids - allowed
            if stray:
                raise InputError(
                    f"--extra-train is a merged set whose {len(stray)} real image(s) are not in fold {fold}'s "
                    "training split (merged for another fold?); merge it for this fold with 'rdface merge --fold "
                    f"{fold}'"
                )

    def _check_leaks(self, dataset: RDFaceDataset, folds: list[int]) -> None:
        """Refuse rows made from test images; note rows whose generator saw a fold's validation images."""
        parents = [set(p or ()) for p in self.rows["parent_ids"]]
        test_ids = set(dataset.image_ids(dataset.test))
        from_test = sum(1 for p in parents if p & test_ids)
        if from_test:
            raise InputError(
                f"--extra-train {self.path}: {from_test} synthetic image(s) were made from test images "
                "(parent_ids); they cannot train a model scored on that test split"
            )
        trained_on = [str(t) if t is not None else "" for t in self.rows["trained_on"]]
        self.counts["trained_on"] = dict(sorted(Counter(trained_on).items()))
        seen = []
        for i, tag in enumerate(trained_on):
            try:
                seen.append(parse_trained_on(tag, dataset.num_folds))
            except InputError as exc:
                raise InputError(f"--extra-train {self.path}: row {i}: {exc}") from None
        generators = list(self.rows["generator"])
        self.validation_overlap: dict[int, int] = {}
        for fold in folds:
            val_ids = set(dataset.image_ids("validation", fold))
            exposed = sum(
                1
                for p, t, g in zip(parents, seen, generators)
                if (p & val_ids) or (g != "simulate" and t not in ("none", fold))
            )
            self.validation_overlap[fold] = exposed
            if not exposed:
                continue
            message = (
                f"--extra-train {self.path}: {exposed} synthetic image(s) come from generators that saw fold {fold}'s "
                "validation images"
            )
            if not self.allow_validation_overlap:
                raise InputError(
                    f"{message}; use images generated from fold {fold}'s training split, or pass "
                    "--allow-validation-overlap (model selection is then optimistic)"
                )
            warn(f"{message}; model selection on that fold is then optimistic (the test split is unaffected)")

    def rows_for(self, fold: int) -> datasets.Dataset:
        return self.rows.select_columns(IMAGE_COLUMNS)

    def describe(self, fold: int) -> dict[str, Any]:
        return {
            "path_name": self.set.path.name,
            "kind": self.kind,
            **self.counts,
            "validation_overlap": self.validation_overlap.get(fold, 0),
        }
