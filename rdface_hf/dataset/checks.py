"""Per-row checks of a raw release: the file behind each row, the image in it,
and the checks across rows (identical pixels, near-duplicates).

The per-image work (:func:`process_image_file`) runs in worker processes and
returns a plain dict; :class:`RowResult` collects what the build learnt.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import images
from .landmarks import Landmarker, worker_landmarker
from .release import RawRelease, ReleaseRow, resolve_image_path

ACCEPTED, WARNING, REJECTED = "accepted", "warning", "rejected"


@dataclass
class RowResult:
    """What the build learnt about one CSV row."""

    row: ReleaseRow
    status: str = ACCEPTED
    reasons: list[str] = field(default_factory=list)
    file_sha256: str | None = None
    pixel_sha256: str | None = None
    phash: int | None = None
    png: bytes | None = None
    landmarks: np.ndarray | None = None
    face_box: np.ndarray | None = None
    image_id: str | None = None

    def reject(self, reason: str) -> None:
        self.status, self.reasons = REJECTED, [reason]

    def warn(self, reason: str) -> None:
        if self.status != REJECTED:
            self.status = WARNING
            self.reasons.append(reason)


def process_image_file(job: tuple[str, str | Landmarker | None, int]) -> dict:
    """Read, check, normalise and landmark one file; a plain dict crosses processes.

    ``job`` is ``(path, landmarker, max_pixels)``: the landmarker is a model
    path (one MediaPipe task per worker process), a :class:`Landmarker`, or
    ``None`` for no landmarks.
    """
    path, model, max_pixels = job
    out: dict = {"reject": None, "warnings": []}
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        out["reject"] = f"cannot read file ({exc.strerror or exc})"
        return out
    out["file_sha256"] = hashlib.sha256(data).hexdigest()
    try:
        clean = images.load_clean(data, max_pixels=max_pixels)
    except images.ImageRejected as exc:
        out["reject"] = str(exc)
        return out
    if min(clean.width, clean.height) < images.MIN_SIDE:
        out["warnings"].append(f"small image ({clean.width}x{clean.height} px, under {images.MIN_SIDE} px)")
    if clean.greyscale:
        out["warnings"].append(f"greyscale source (mode {clean.source_mode})")
    out["warnings"].extend(clean.notes)
    out["pixel_sha256"] = images.pixel_sha256(clean.pixels)
    out["phash"] = images.perceptual_hash(clean.pixels)
    out["png"] = images.encode_png(clean.pixels)
    out["face"] = None
    if model is not None:
        landmarker = worker_landmarker(model) if isinstance(model, str) else model
        face = landmarker.detect(clean.pixels)
        if face is not None:
            out["face"] = (face.points, face.box)
    return out


def check_rows(release: RawRelease) -> tuple[list[RowResult], list[tuple[int, str]]]:
    """Row-level checks that need no decoding; returns results and (index, path) jobs."""
    results, todo = [], []
    for row in release.rows:
        result = RowResult(row=row)
        results.append(result)
        if row.problem:
            result.reject(row.problem)
            continue
        try:
            path = resolve_image_path(release, row)
            is_dir, is_file = (path.is_dir(), path.is_file()) if path is not None else (False, False)
        except (OSError, ValueError) as exc:  # a name too long for the file system, a NUL byte, ...
            result.reject(f"invalid path ({type(exc).__name__}: {getattr(exc, 'strerror', None) or exc})")
            continue
        if path is None:
            result.reject(f"path leaves rd_images/{row.disease_abbr}/")
        elif is_dir:
            result.reject(f"not a file but a folder: {path.relative_to(release.root.resolve())}")
        elif not is_file:
            result.reject(f"file missing: {path.relative_to(release.root.resolve())}")
        else:
            todo.append((len(results) - 1, str(path)))
    return results, todo


def resolve_duplicates(results: list[RowResult]) -> None:
    """Same pixels: label conflict across conditions, duplicate within one."""
    by_pixels: dict[str, list[RowResult]] = defaultdict(list)
    for r in results:
        if r.status != REJECTED and r.pixel_sha256:
            by_pixels[r.pixel_sha256].append(r)
    for rows in by_pixels.values():
        if len(rows) < 2:
            continue
        rows.sort(key=lambda r: r.row.number)
        if len({r.row.disease_abbr for r in rows}) > 1:
            for r in rows:
                others = ", ".join(f"{o.row.disease_abbr}/{o.row.image_name}" for o in rows if o is not r)
                r.reject(f"label conflict: same pixels filed under another condition ({others})")
        else:
            first = rows[0]
            for r in rows[1:]:
                r.reject(f"duplicate of {first.row.disease_abbr}/{first.row.image_name} (row {first.row.number})")


def near_duplicate_groups(kept: list[RowResult], max_distance: int) -> list[int]:
    """Union-find over perceptual-hash neighbours; warns each member."""
    parent = list(range(len(kept)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j, dist in images.near_duplicate_pairs([r.phash for r in kept], max_distance):
        a, b = kept[i], kept[j]
        a.warn(f"near-duplicate of {b.row.disease_abbr}/{b.row.image_name} (perceptual hash distance {dist})")
        b.warn(f"near-duplicate of {a.row.disease_abbr}/{a.row.image_name} (perceptual hash distance {dist})")
        parent[find(i)] = find(j)
    return [find(i) for i in range(len(kept))]
