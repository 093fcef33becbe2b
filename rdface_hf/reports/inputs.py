"""What ``rdface report`` reads: dataset or synthetic images, and the reference faces.

Images come through the published contracts only: :class:`RDFaceDataset` for a built
dataset (a split, or every image) and :class:`SyntheticSet` for a generator's output. The
reference faces of landmark z-scores are the dataset's *training* images
(``RDFaceDataset.training_split``: a fold's train split, or every non-test image), never
its test split.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property

import datasets
import numpy as np

from .._errors import InputError
from ..dataset.facade import RDFaceDataset, parse_fold, select_conditions
from ..dataset.images import ImageRejected, decode_rgb
from ..dataset.synthetic import SyntheticSet
from .config import ReportConfig
from .measures import to_pixels

REAL_COLUMNS = ("image", "image_id", "condition", "disease_abbr", "landmarks", "partition")
SYNTHETIC_COLUMNS = ("image", "image_id", "condition", "generator")


@dataclass
class Source:
    """The images of one run, their class names and, for real images, stored landmarks."""

    rows: datasets.Dataset
    class_names: list[str]
    abbreviations: list[str]
    kind: str  # "real" or "synthetic"
    digest: str  # of the input data, for the saved config
    dataset: RDFaceDataset | None = None

    def __len__(self) -> int:
        return len(self.rows)

    def batches(self, indices: list[int], size: int) -> Iterator[list[dict]]:
        """Rows (images decoded under the builder's limits) ``size`` at a time, in ``indices`` order.
        A row whose image cannot be decoded comes with ``image`` None and ``error`` (reported, not skipped)."""
        for start in range(0, len(indices), size):
            chunk = self.rows.select(indices[start : start + size]).cast_column("image", datasets.Image(decode=False))
            yield [_decoded(row) for row in chunk]

    @cached_property
    def image_ids(self) -> list[str]:
        return list(self.rows["image_id"])


def _decoded(row: dict) -> dict:
    try:
        return {**row, "image": decode_rgb((row["image"] or {}).get("bytes"))}
    except ImageRejected as exc:  # a corrupt, truncated or oversized image: the row is kept, with the reason
        return {**row, "image": None, "error": f"unreadable image ({exc})"}


def _real_rows(rd: RDFaceDataset, split: str, fold: str) -> datasets.Dataset:
    if split == "all":
        parts = rd.default()
        return datasets.concatenate_datasets([parts[s] for s in ("train", "test") if s in parts])
    if split == "test":
        return rd.test
    k = parse_fold(fold)
    if split == "train":
        return rd.training_split(fold)
    return rd.split("validation", k)


def open_source(config: ReportConfig) -> Source:
    """The images the config asks for (condition filter applied)."""
    rd = RDFaceDataset(config.dataset) if config.dataset else None
    if config.synthetic:
        synthetic = SyntheticSet(config.synthetic)
        if rd is not None:
            synthetic.check_classes(rd.class_names)
        rows = synthetic.dataset.select_columns(list(SYNTHETIC_COLUMNS))
        names = synthetic.class_names
        abbreviations = rd.abbreviations if rd is not None else [""] * len(names)
        digest = _synthetic_digest(synthetic)
        kind = "synthetic"
        _check_labels(rows["condition"], len(names), str(synthetic.path))
    else:
        missing = [c for c in REAL_COLUMNS if c not in rd.features]
        if missing:
            raise InputError(f"{config.dataset} lacks column(s) {missing}: is it an RDFace build?")
        rows = _real_rows(rd, config.split, config.fold).select_columns(list(REAL_COLUMNS))
        names, abbreviations, digest, kind = rd.class_names, rd.abbreviations, rd.digest, "real"
    if str(config.conditions).strip().lower() != "all":
        if not any(abbreviations):
            raise InputError("--conditions needs --dataset D (condition abbreviations come from the dataset)")
        keep = set(select_conditions(config.conditions, abbreviations))
        labels = np.asarray(rows["condition"])
        rows = rows.select([i for i, c in enumerate(labels) if int(c) in keep])
    if len(rows) == 0:
        raise InputError("no images to report on (empty split or no image of these conditions)")
    return Source(rows, names, abbreviations, kind, digest, dataset=rd)


def _check_labels(labels: list, num_classes: int, where: str) -> None:
    """Every ``condition`` a class index of the set's ClassLabel (one line otherwise)."""
    bad = [i for i, c in enumerate(labels) if not isinstance(c, int) or not 0 <= c < num_classes]
    if bad:
        raise InputError(
            f"{where}: {len(bad)} row(s) have an unknown condition (e.g. row {bad[0]}: {str(labels[bad[0]])[:20]}; "
            f"the set has {num_classes} conditions)"
        )


def _synthetic_digest(synthetic: SyntheticSet) -> str:
    h = hashlib.sha256()
    for path in sorted(synthetic.path.glob("data/*.parquet")):
        h.update(path.name.encode() + b"\0" + str(path.stat().st_size).encode() + b"\0")
    return h.hexdigest()


def reference_faces(rd: RDFaceDataset, fold: str) -> tuple[list[np.ndarray | None], list[str], list[int]]:
    """Landmarks in pixels (``None`` without a face), image ids and condition labels of the
    training images that z-scores are computed against: fold K's train split or, with
    ``test``, every non-test image. Never a test image."""
    train = rd.training_split(fold)
    points = rd.landmarks(train)
    sizes = [im.size for im in train.select_columns(["image"])["image"]]
    faces = [to_pixels(p, w, h) for p, (w, h) in zip(points, sizes)]
    return faces, list(train["image_id"]), list(train["condition"])
