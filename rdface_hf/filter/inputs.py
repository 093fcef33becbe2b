"""What the filter and the merge read: the training split of one fold, and a synthetic set.

Only :meth:`RDFaceDataset.training_split` is read from the dataset, so the test
split (and, for a fold, its validation split) can never reach a prototype.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import datasets
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from PIL import Image

from .._errors import InputError
from ..dataset.facade import RDFaceDataset, parse_fold
from ..dataset.geometry import in_pixels
from ..dataset.heldout import HeldOut, clean_images, parse_trained_on
from ..dataset.heldout import image_ids as heldout_ids
from ..dataset.synthetic import SHARD_PREFIX, SyntheticSet


def fold_tag(fold: str) -> str:
    """``"0"`` -> ``fold_0``; ``"test"`` -> ``test`` (the synthetic set's ``trained_on`` spelling)."""
    k = parse_fold(fold)
    return "test" if k is None else f"fold_{k}"


def image_size(image: dict) -> tuple[int, int]:
    """(width, height) from an encoded image's header (no pixels decoded)."""
    try:
        with Image.open(io.BytesIO(image["bytes"])) as im:
            return im.size
    except Exception as exc:
        raise InputError(f"unreadable image {image.get('path') or ''} ({type(exc).__name__})") from None


@dataclass
class TrainingSplit:
    """The real images prototypes may use: one fold's training split."""

    dataset: RDFaceDataset
    fold: str
    rows: datasets.Dataset  # images not decoded
    labels: np.ndarray
    points: np.ndarray  # (N, 478, 3) normalised landmarks, NaN rows without a face
    sizes: np.ndarray  # (N, 2) width, height

    @property
    def pixel_points(self) -> np.ndarray:
        return in_pixels(self.points, self.sizes)

    def digest(self) -> str:
        """sha256 of what the prototypes depend on: ids, labels, landmarks, class names (test split excluded)."""
        h = hashlib.sha256("\n".join(self.dataset.class_names).encode())
        for image_id, label in zip(self.rows["image_id"], self.labels):
            h.update(f"{image_id}:{label};".encode())
        h.update(np.ascontiguousarray(np.nan_to_num(self.points, nan=-1.0)).tobytes())
        return h.hexdigest()


@contextlib.contextmanager
def quiet_datasets() -> Iterator[None]:
    """No ``Generating train split`` bars from ``datasets`` while a split loads (restored after)."""
    was_disabled = datasets.are_progress_bars_disabled()
    datasets.disable_progress_bars()
    try:
        yield
    finally:
        if not was_disabled:
            datasets.enable_progress_bars()


def open_dataset(source: str) -> RDFaceDataset:
    return RDFaceDataset(source)


def training_split(dataset: RDFaceDataset, fold: str) -> TrainingSplit:
    """Fold ``fold``'s training split (``test``: every non-test image), with its landmarks and sizes."""
    rows = dataset.training_split(fold).cast_column("image", datasets.Image(decode=False))
    if len(rows) == 0:
        raise InputError(f"{dataset.source}: the training split of fold {fold} is empty")
    sizes = np.array([image_size(im) for im in rows["image"]], dtype=np.float64).reshape(-1, 2)
    return TrainingSplit(dataset, str(fold), rows, dataset.labels(rows), dataset.landmarks(rows), sizes)


def open_synthetic(path: str, class_names: list[str]) -> SyntheticSet:
    """A synthetic set for these conditions, with at least one image (one clear line otherwise)."""
    synthetic = SyntheticSet(path)
    synthetic.check_classes(class_names)
    if len(synthetic) == 0:
        raise InputError(f"{path} is an empty synthetic set (no images)")
    return synthetic


def read_rows(synthetic: SyntheticSet) -> pa.Table:
    """Every row of the set as one Arrow table (images stay encoded), in shard order."""
    shards = sorted(synthetic.path.glob(SHARD_PREFIX + "*.parquet"))
    try:
        tables = [pq.read_table(s) for s in shards]
        table = pa.concat_tables(tables, promote_options="default")
    except Exception as exc:
        raise InputError(f"{synthetic.path}: unreadable shard ({type(exc).__name__}: {exc})") from None
    return table.replace_schema_metadata(tables[0].schema.metadata)


def read_labels(table: pa.Table, num_classes: int, where: str) -> np.ndarray:
    """The ``condition`` column as class indices; a missing or out-of-range label is one clear error."""
    values = table.column("condition").to_pylist()
    bad = [i for i, v in enumerate(values) if not isinstance(v, int) or not 0 <= v < num_classes]
    if bad:
        raise InputError(
            f"{where}: {len(bad)} row(s) have no valid condition (e.g. row {bad[0]}: {values[bad[0]]!r}; "
            f"expected 0..{num_classes - 1})"
        )
    return np.asarray(values, dtype=np.int64)


def set_digest(path: str | Path) -> str:
    """sha256 over a synthetic set's shard names and sizes (the names carry content hashes)."""
    h = hashlib.sha256()
    for shard in sorted(Path(path).glob(SHARD_PREFIX + "*.parquet")):
        h.update(shard.name.encode() + b"\0" + str(shard.stat().st_size).encode() + b"\0")
    return h.hexdigest()


def content_keys(images: list[dict]) -> list[str]:
    """sha256 of each image's stored bytes: the landmark cache key (what ``image_id`` should be)."""
    out = []
    for im in images:
        if not im or im.get("bytes") is None:
            raise InputError("a synthetic row has no image bytes")
        out.append(hashlib.sha256(im["bytes"]).hexdigest())
    return out


def leaky_rows(trained_on: list, generators: list[str], fold: str, num_folds: int, where: str) -> dict[str, int]:
    """Rows whose generator saw images outside fold ``fold``'s training split: ``{trained_on: count}``.

    A fold-K model may use images from generators trained on ``fold_K`` (or on no real
    image); ``test`` (every non-test image) includes fold K's validation split. The final
    model (``test``) may use any of them. Simulated images (generator ``simulate``) saw none.
    Every ``trained_on`` is read strictly (:func:`~rdface_hf.dataset.heldout.parse_trained_on`).
    """
    mine = parse_fold(fold)
    out: dict[str, int] = {}
    for i, (tag, generator) in enumerate(zip(trained_on, generators)):
        try:
            seen = parse_trained_on(tag, num_folds)
        except InputError as exc:
            raise InputError(f"{where}: row {i}: {exc}") from None
        if mine is None or generator == "simulate" or seen in ("none", mine):
            continue
        key = "test" if seen == "test" else f"fold_{seen}"
        out[key] = out.get(key, 0) + 1
    return out


def clean_table(table: pa.Table, dataset: RDFaceDataset, fold: str, where: str) -> tuple[pa.Table, int]:
    """The rows with every image decoded under the builder's limits, refused if it is a test or
    fold ``fold``'s validation image (bytes, pixels or near-duplicate, whatever its provenance),
    and re-encoded as the builder does (no metadata); ``image_id`` follows the new bytes.
    Also returns how many declared ``image_id`` were not the sha256 of the stored bytes."""
    images = table.column("image").to_pylist()
    declared = table.column("image_id").to_pylist()
    mismatched = sum(k != i for k, i in zip(content_keys(images), declared))
    clean = clean_images(images, HeldOut.of(dataset, [parse_fold(fold)]), where)
    table = table.set_column(table.schema.get_field_index("image"), table.schema.field("image"),
                             pa.array(clean, type=table.schema.field("image").type))  # fmt: skip
    ids = pa.array(heldout_ids(clean), type=table.schema.field("image_id").type)
    table = table.set_column(table.schema.get_field_index("image_id"), table.schema.field("image_id"), ids)
    return table, mismatched


def foreign_parents(parent_ids: list, training_ids: set[str]) -> int:
    """Rows made from real images (``parent_ids``) outside the training split: validation or test images."""
    return sum(1 for parents in parent_ids if set(parents or ()) - training_ids)
