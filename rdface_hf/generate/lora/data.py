"""Training images of the adapters: one condition's images, face-cropped, from the training split.

Only :meth:`RDFaceDataset.training_split` is read (fold K's train split, or with
``--fold test`` every non-test image): no validation or test image can reach an
adapter.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import datasets
import numpy as np
from PIL import Image

from ..._errors import InputError
from ...dataset.images import ImageRejected, open_image


@dataclass
class ConditionImages:
    """One condition's training images, cropped and resized (uint8, ``[n, R, R, 3]``)."""

    class_index: int
    abbr: str
    name: str
    image_ids: list[str]
    pixels: np.ndarray
    without_box: int = 0  # images centre-cropped because the build found no face box


@dataclass
class TrainingImages:
    conditions: list[ConditionImages]
    empty: list[str] = field(default_factory=list)  # selected conditions without a training image


def crop_box(width: int, height: int, box: Sequence[float] | None, margin: float) -> tuple[int, int, int, bool]:
    """``(left, top, side, used)``: a square centred on the face box (normalised x0, y0, x1, y1),
    ``margin`` times its longer side, kept inside the image; without a usable box, the centre
    square. ``used`` says whether the box was used."""
    usable = box is not None and len(box) == 4 and all(v is not None and math.isfinite(v) for v in box)
    if usable:
        x0, y0, x1, y1 = (float(v) for v in box)
        usable = x1 > x0 and y1 > y0
    if usable:
        cx, cy = (x0 + x1) / 2 * width, (y0 + y1) / 2 * height
        side = max((x1 - x0) * width, (y1 - y0) * height) * margin
    else:
        cx, cy, side = width / 2, height / 2, min(width, height)
    side = round(max(1.0, min(side, width, height)))
    left = round(min(max(cx - side / 2, 0.0), width - side))
    top = round(min(max(cy - side / 2, 0.0), height - side))
    return left, top, side, usable


def face_crop(image: Image.Image, box: Sequence[float] | None, size: int, margin: float) -> tuple[Image.Image, bool]:
    """The :func:`crop_box` square of ``image``, resized to ``size``; and whether the box was used."""
    left, top, side, used = crop_box(image.width, image.height, box, margin)
    return image.crop((left, top, left + side, top + side)).resize((size, size), Image.BICUBIC), used


def _decode(row: dict, abbr: str) -> Image.Image:
    data = row["image"].get("bytes") if isinstance(row["image"], dict) else None
    if not data:
        raise InputError(f"training image {row.get('image_id')} of {abbr} has no bytes in the dataset")
    try:
        return open_image(io.BytesIO(data)).convert("RGB")
    except (ImageRejected, OSError, ValueError) as exc:
        raise InputError(f"training image {row.get('image_id')} of {abbr} cannot be read: {exc}") from None


def load_training_images(
    split: datasets.Dataset,
    class_indices: Sequence[int],
    *,
    abbreviations: Sequence[str],
    class_names: Sequence[str],
    size: int,
    margin: float,
) -> TrainingImages:
    """The selected conditions' images of ``split`` (a training split), in row order."""
    for column in ("image", "image_id", "condition"):
        if column not in split.column_names:
            raise InputError(f"the training split has no '{column}' column; is it an RDFace build?")
    rows = split.cast_column("image", datasets.Image(decode=False))
    labels = np.asarray(rows["condition"], dtype=np.int64)
    boxes = rows["face_box"] if "face_box" in rows.column_names else [None] * len(rows)
    out, empty = [], []
    for ci in class_indices:
        abbr = abbreviations[ci]
        where = np.flatnonzero(labels == ci).tolist()
        if not where:
            empty.append(abbr)
            continue
        pixels, ids, no_box = [], [], 0
        for i in where:
            row = rows[int(i)]
            crop, used = face_crop(_decode(row, abbr), boxes[i], size, margin)
            no_box += not used
            pixels.append(np.asarray(crop, dtype=np.uint8))
            ids.append(str(row["image_id"]))
        out.append(ConditionImages(ci, abbr, class_names[ci], ids, np.stack(pixels), no_box))
    return TrainingImages(out, empty)
