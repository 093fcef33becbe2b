"""Per-row checks of a raw release: the file behind each row, the image in it,
and the checks across rows (identical pixels, near-duplicates).

The per-image work (:func:`process_image_file`) runs in worker processes and
returns a plain dict; :class:`RowResult` collects what the build learnt.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from . import images
from .files import locate, shown, special_kind
from .landmarks import Landmarker, worker_landmarker
from .release import RawRelease, ReleaseRow

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


@dataclass(frozen=True)
class Naming:
    """How reasons name files: ``A/x.png`` (escaped when odd), or with
    ``anonymize`` the other row's ``image_id`` and no path of the row's own."""

    anonymize: bool = False

    def ref(self, r: RowResult) -> str:
        if self.anonymize and r.image_id:
            return r.image_id
        return shown(f"{r.row.disease_abbr}/{r.row.image_name}") if not self.anonymize else f"row {r.row.number}"


def _read_checked(path: str, max_pixels: int) -> bytes:
    """The file's bytes, after checking that it is a regular file of a sane size with
    an allowed image header (nothing large is read before that)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))  # a FIFO must not block
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise images.ImageRejected(f"not a regular file ({special_kind(info.st_mode)})")
        if info.st_size == 0:
            raise images.ImageRejected("empty file")
        limit = images.max_file_bytes(max_pixels)
        if info.st_size > limit:
            raise images.ImageRejected(f"file too large ({info.st_size >> 20} MiB, over {limit >> 20} MiB)")
        images.open_image(fh, max_pixels=max_pixels)  # format allow-list and size, from the header
        fh.seek(0)
        return fh.read(limit + 1)


def _faces(detector: str | Landmarker, pixels: np.ndarray, num_faces: int) -> list:
    landmarker = worker_landmarker(detector, num_faces=num_faces) if isinstance(detector, str) else detector
    if hasattr(landmarker, "detect_all"):
        return list(landmarker.detect_all(pixels))
    face = landmarker.detect(pixels)
    return [] if face is None else [face]


def process_image_file(job: tuple) -> dict:
    """Read, check, normalise and landmark one file; a plain dict crosses processes.

    ``job`` is ``(path, landmarker, max_pixels[, num_faces])``: the landmarker
    is a model path (one MediaPipe task per worker process), a
    :class:`Landmarker`, or ``None`` for no landmarks; ``num_faces`` is how
    many faces to look for (the largest is used; ``faces`` says how many).
    """
    path, model, max_pixels, num_faces = (*job, 1)[:4]
    out: dict = {"reject": None, "warnings": []}
    try:
        data = _read_checked(path, max_pixels)
        out["file_sha256"] = hashlib.sha256(data).hexdigest()
        clean = images.load_clean(data, max_pixels=max_pixels)
    except images.ImageRejected as exc:
        out["reject"] = str(exc)
        return out
    except OSError as exc:
        out["reject"] = f"cannot read file ({exc.strerror or exc})"
        return out
    if min(clean.width, clean.height) < images.MIN_SIDE:
        out["warnings"].append(f"small image ({clean.width}x{clean.height} px, under {images.MIN_SIDE} px)")
    if clean.greyscale:
        out["warnings"].append(f"greyscale source (mode {clean.source_mode})")
    out["warnings"].extend(clean.notes)
    out["pixel_sha256"] = images.pixel_sha256(clean.pixels)
    out["phash"] = images.perceptual_hash(clean.pixels)
    out["png"] = images.encode_png(clean.pixels)
    out["face"], out["faces"] = None, 0
    if model is not None:
        try:
            faces = _faces(model, clean.pixels, num_faces)
        except (RuntimeError, ValueError) as exc:  # the detector failed on this image: a reason, not a crash
            out["reject"] = f"face landmarker failed ({type(exc).__name__}: {str(exc)[:120]})"
            return out
        out["faces"] = len(faces)
        if faces:
            out["face"] = (faces[0].points, faces[0].box)
    return out


def check_rows(release: RawRelease, naming: Naming = Naming()) -> tuple[list[RowResult], list[tuple[int, str]]]:
    """Row-level checks that need no decoding; returns results and (index, path) jobs."""
    results, todo = [], []
    for row in release.rows:
        result = RowResult(row=row)
        results.append(result)
        if row.problem:
            result.reject(row.problem)
            continue
        found = locate(release, row, show_paths=not naming.anonymize)
        if found.path is None:
            result.reject(found.reason or "file missing")
        else:
            todo.append((len(results) - 1, str(found.path)))
    return results, todo


def resolve_duplicates(results: list[RowResult], naming: Naming = Naming()) -> None:
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
                others = ", ".join(naming.ref(o) for o in rows if o is not r)
                r.reject(f"label conflict: same pixels filed under another condition ({others})")
        else:
            first = rows[0]
            for r in rows[1:]:
                r.reject(f"duplicate of {naming.ref(first)} (row {first.row.number})")


def near_duplicate_groups(kept: list[RowResult], max_distance: int, naming: Naming = Naming()) -> list[int]:
    """Union-find over perceptual-hash neighbours; warns each member."""
    parent = list(range(len(kept)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j, dist in images.near_duplicate_pairs([r.phash for r in kept], max_distance):
        a, b = kept[i], kept[j]
        a.warn(f"near-duplicate of {naming.ref(b)} (perceptual hash distance {dist})")
        b.warn(f"near-duplicate of {naming.ref(a)} (perceptual hash distance {dist})")
        parent[find(i)] = find(j)
    return [find(i) for i in range(len(kept))]
