"""Held-out images: what a synthetic set may never bring into training, checked on the pixels.

A synthetic set declares its provenance (``generator``, ``trained_on``,
``parent_ids``), but a declaration can be wrong. Before ``filter``, ``merge`` or
``train-classifier --extra-train`` uses a synthetic image, :func:`clean_images`
decodes it under the builder's limits (50 megapixels, allowed formats),
re-encodes it as the builder does (PNG without EXIF, GPS, XMP, ICC or text
chunks; ``image_id`` the sha256 of those bytes), and :class:`HeldOut` refuses
it when it is a test or validation image: the same stored bytes, the same
pixels, or the builder's perceptual near-duplicate test (hash distance at most
:data:`~rdface_hf.dataset.images.NEAR_DUPLICATE_DISTANCE`).

Provenance fields are read strictly: :func:`parse_trained_on` and :func:`kept_flags`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import datasets
import numpy as np

from .._errors import InputError
from . import images as img

# What a set's ``trained_on`` may say besides a fold: every non-test image, or no real image.
ALL_NON_TEST = ("test", "all")
NO_REAL_IMAGE = ("", "none")


def parse_trained_on(value: object, num_folds: int) -> int | str:
    """``fold_K`` (or ``K``) -> K; ``test`` / ``all`` -> ``"test"``; ``none`` / empty -> ``"none"``.

    Strict: ASCII digits without a leading zero, below ``num_folds``; lower case; no spaces.
    Anything else (``'٠'``, ``' 0'``, ``'TEST'``, ``'00'``) is an :class:`InputError`."""
    if value is None:
        return "none"
    if not isinstance(value, str):
        raise InputError(f"trained_on must be text, got {type(value).__name__}")
    if value in NO_REAL_IMAGE:
        return "none"
    if value in ALL_NON_TEST:
        return "test"
    digits = value.removeprefix("fold_")
    if digits.isascii() and digits.isdigit() and (digits == "0" or not digits.startswith("0")):
        if int(digits) < num_folds:
            return int(digits)
        raise InputError(f"trained_on {_short(value)}: the dataset has folds 0 to {num_folds - 1}")
    raise InputError(f"trained_on {_short(value)} is not fold_K, test, all or none")


def kept_flags(values: Sequence[object], where: str) -> np.ndarray:
    """The ``kept`` column as booleans; anything but True / False (a string ``"False"``, a null) is refused."""
    bad = [i for i, v in enumerate(values) if not isinstance(v, (bool, np.bool_))]
    if bad:
        raise InputError(
            f"{where}: column 'kept' must be boolean; {len(bad)} row(s) are not "
            f"(e.g. row {bad[0]}: {_short(values[bad[0]])})"
        )
    return np.asarray(values, dtype=bool)


def _short(value: object, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


@dataclass
class HeldOut:
    """Test (and validation) images by stored-byte sha256, pixel sha256 and perceptual hash."""

    digests: dict[str, str] = field(default_factory=dict)  # sha256 -> "test image rdf-..."
    hashes: list[int] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    max_distance: int = img.NEAR_DUPLICATE_DISTANCE

    @classmethod
    def of(cls, dataset, folds: Sequence[int | None] = (None,)) -> HeldOut:
        """The test split of ``dataset`` (an ``RDFaceDataset``) and the validation split of each fold in ``folds``."""
        out = cls()
        splits = [("test", dataset.test)] + [
            (f"fold {k} validation", dataset.split("validation", k)) for k in folds if k is not None
        ]
        for name, rows in splits:
            rows = rows.cast_column("image", datasets.Image(decode=False))
            for image, image_id in zip(rows["image"], rows["image_id"]):
                out.add(image["bytes"], f"{name} image {image_id}")
        return out

    def add(self, data: bytes, name: str) -> None:
        self.digests[hashlib.sha256(data).hexdigest()] = name
        try:
            pixels = img.load_clean(data).pixels
        except img.ImageRejected:
            return
        self.digests[img.pixel_sha256(pixels)] = name
        self.hashes.append(img.perceptual_hash(pixels))
        self.names.append(name)

    def match(self, data: bytes, pixels: np.ndarray) -> str | None:
        """The held-out image that ``data`` (decoded: ``pixels``) is, or is a near-duplicate of."""
        for key in (hashlib.sha256(data).hexdigest(), img.pixel_sha256(pixels)):
            if key in self.digests:
                return self.digests[key]
        if not self.hashes:
            return None
        arr = np.array(self.hashes, dtype=np.uint64)
        x = np.bitwise_xor(arr, np.uint64(img.perceptual_hash(pixels)))
        dist = np.unpackbits(x.view(np.uint8).reshape(-1, 8), axis=1).sum(axis=1)
        best = int(np.argmin(dist))
        return f"{self.names[best]} (near-duplicate)" if dist[best] <= self.max_distance else None


def clean_images(images: Sequence[dict | None], held_out: HeldOut | None, where: str) -> list[dict]:
    """Each image decoded (builder limits), checked against ``held_out``, re-encoded: ``{"bytes", "path"}``.

    One clear line for an undecodable image or for any held-out match (up to five named)."""
    out: list[dict] = []
    matches: list[str] = []
    for i, image in enumerate(images):
        data = image.get("bytes") if isinstance(image, dict) else None
        if not data:
            raise InputError(f"{where}: row {i} has no image bytes")
        try:
            pixels = img.load_clean(data).pixels
        except img.ImageRejected as exc:
            raise InputError(f"{where}: row {i}: {exc}") from None
        found = held_out.match(data, pixels) if held_out is not None else None
        if found:
            matches.append(f"row {i} = {found}")
        png = img.encode_png(pixels)
        out.append({"bytes": png, "path": f"{hashlib.sha256(png).hexdigest()[:16]}.png"})
    if matches:
        raise InputError(
            f"{where}: {len(matches)} synthetic image(s) are held-out (test or validation) images, whatever their "
            f"provenance says: {'; '.join(matches[:5])}{' ...' if len(matches) > 5 else ''}"
        )
    return out


def image_ids(images: Sequence[dict]) -> list[str]:
    """sha256 of each (re-encoded) image's bytes: a synthetic set's ``image_id``."""
    return [hashlib.sha256(im["bytes"]).hexdigest() for im in images]
