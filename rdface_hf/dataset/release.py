"""The authors' raw release: ``rd_images/<disease_abbr>/<image_name>`` and
``disease_images.csv``. Reading and invocation-level validation only; the
per-row checks live in :mod:`rdface_hf.builder`.
"""

from __future__ import annotations

import csv
import io
import os
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from .._errors import InputError

CSV_NAME = "disease_images.csv"
IMAGES_DIR = "rd_images"
REQUIRED_COLUMNS = ("image_name", "disease_name", "disease_abbr", "sub_category", "gene_name", "orphanet_code")
# Columns a row cannot do without; the others may be empty.
NON_EMPTY_COLUMNS = ("image_name", "disease_name", "disease_abbr")
# Columns the build adds: an extra CSV column may not take one of these names.
BUILD_COLUMNS = (
    "image",
    "image_id",
    "condition",
    "source_sha256",
    "landmarks",
    "face_box",
    "near_duplicate_group",
    "partition",
    "warnings",
)


@dataclass(frozen=True)
class ReleaseRow:
    number: int  # 1-based data row number (CSV line = number + 1)
    values: dict[str, str]
    problem: str | None = None  # a malformed row: the reason it cannot be used

    @property
    def image_name(self) -> str:
        return self.values.get("image_name", "")

    @property
    def disease_abbr(self) -> str:
        return self.values.get("disease_abbr", "")


@dataclass(frozen=True)
class RawRelease:
    root: Path
    columns: tuple[str, ...]
    rows: tuple[ReleaseRow, ...]

    @property
    def images_dir(self) -> Path:
        return self.root / IMAGES_DIR

    @property
    def extra_columns(self) -> tuple[str, ...]:
        return tuple(c for c in self.columns if c not in REQUIRED_COLUMNS)


def read_release(root: str | Path) -> RawRelease:
    """Read and check a raw release folder; :class:`InputError` on bad invocation."""
    root = Path(root)
    if not root.exists():
        raise InputError(f"no such folder: {root}")
    if not root.is_dir():
        raise InputError(f"not a folder: {root}")
    csv_path = root / CSV_NAME
    if not csv_path.is_file():
        raise InputError(f"no {CSV_NAME} in {root}")
    if not (root / IMAGES_DIR).is_dir():
        raise InputError(f"no {IMAGES_DIR}/ folder in {root}")
    raw = csv_path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{csv_path} is not UTF-8 (byte {exc.start}); re-save it as UTF-8") from None
    if not text.strip():
        raise InputError(f"{csv_path} is empty")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in next(reader)]
        records = list(reader)
    except csv.Error as exc:
        raise InputError(f"{csv_path}: malformed CSV ({exc})") from None
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        raise InputError(f"{csv_path}: duplicate column names {dupes}")
    reserved = [h for h in header if h in BUILD_COLUMNS]
    if reserved:
        raise InputError(f"{csv_path}: column names {reserved} are reserved for the built dataset; rename them")
    unnamed = [i for i, h in enumerate(header) if not h]
    if unnamed and any(i < len(r) and r[i].strip() for r in records for i in unnamed):
        raise InputError(f"{csv_path}: a column with values has no name (header position {unnamed[0] + 1})")
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise InputError(f"{csv_path}: missing required columns {missing} (has {header})")
    rows = []
    for number, record in enumerate(records, start=1):
        if not record:
            continue  # an empty line is not a row (a line of empty fields is, and is reported)
        problem = None
        if [field.strip() for field in record] == header:
            problem = "repeated header row"
        elif len(record) != len(header):
            problem = f"malformed CSV row: {len(record)} fields, header has {len(header)}"
        values = {h: (record[i].strip() if i < len(record) else "") for i, h in enumerate(header) if h}
        if problem is None:
            empty = [c for c in NON_EMPTY_COLUMNS if not values[c]]
            if empty:
                problem = f"empty value in {', '.join(empty)}"
        rows.append(ReleaseRow(number=number, values=values, problem=problem))
    if not rows:
        raise InputError(f"{csv_path} has a header but no rows")
    release = RawRelease(root=root, columns=tuple(h for h in header if h), rows=tuple(rows))
    check_name_abbreviation_pairs(release)
    return release


def check_name_abbreviation_pairs(release: RawRelease) -> None:
    """One ``disease_name`` must have one ``disease_abbr`` and the reverse."""
    problems = []
    for key, other in (("disease_name", "disease_abbr"), ("disease_abbr", "disease_name")):
        seen: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
        for row in release.rows:
            if row.problem is None:
                seen[row.values[key]][row.values[other]].append(row.number)
        for value, partners in seen.items():
            if len(partners) > 1:
                listing = "; ".join(f"{p!r} on rows {_ranges(rows)}" for p, rows in partners.items())
                problems.append(f"{key} {value!r} has {len(partners)} {other} values ({listing})")
    if problems:
        raise InputError("inconsistent conditions in disease_images.csv: " + " | ".join(problems))


def _ranges(numbers: list[int], limit: int = 8) -> str:
    shown = ", ".join(str(n) for n in numbers[:limit])
    return shown + (f", ... ({len(numbers)} rows)" if len(numbers) > limit else "")


def resolve_image_path(release: RawRelease, row: ReleaseRow) -> Path | None:
    """The image file of a row, or ``None`` if its path leaves
    ``rd_images/<disease_abbr>/`` (``..``, absolute paths, links pointing out)."""
    root = release.images_dir.resolve()
    abbr, name = Path(row.disease_abbr), Path(row.image_name)
    if abbr.is_absolute() or name.is_absolute() or len(abbr.parts) != 1 or abbr.name in ("", ".", ".."):
        return None
    folder = (root / abbr).resolve()
    candidate = (folder / name).resolve()
    if folder.parent != root or candidate == folder or not candidate.is_relative_to(folder):
        return None
    return candidate


def unlisted_files(release: RawRelease) -> list[Path]:
    """Files under ``rd_images/`` that no CSV row names (reported, never dropped
    silently). Paths are compared as written, links not followed, so a row that
    names a link is that link's row."""
    listed = {
        os.path.normpath(os.path.join(release.images_dir, row.disease_abbr, row.image_name))
        for row in release.rows
        if row.image_name and row.disease_abbr
    }
    found = sorted(p for p in release.images_dir.rglob("*") if p.is_file() or p.is_symlink())
    return [p for p in found if os.path.normpath(p) not in listed]
