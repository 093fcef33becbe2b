"""The authors' raw release: ``rd_images/<disease_abbr>/<image_name>`` and
``disease_images.csv``. Reading and file-level validation only: the files
under ``rd_images/`` are in :mod:`.files`, the per-row checks in :mod:`.checks`.
"""

from __future__ import annotations

import csv
import io
import json
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
    number: int  # 1-based data row number
    values: dict[str, str]
    problem: str | None = None  # a malformed row: the reason it cannot be used
    line: int = 0  # the CSV line the row starts on (the header is line 1; quoted fields may span lines)

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

    @property
    def simulated(self) -> bool:
        """Written by ``rdface simulate``: its ground truth, ``phenotypes.json``, is beside the CSV."""
        try:
            truth = json.loads((self.root / "phenotypes.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        return isinstance(truth, dict) and str(truth.get("simulator", "")).startswith("rdface_hf")


def read_release(root: str | Path) -> RawRelease:
    """Read and check a raw release folder; :class:`InputError` on bad invocation
    or a CSV that cannot be read row by row (one line, naming the CSV line)."""
    root = Path(root)
    csv_path = root / CSV_NAME
    try:
        if not root.exists():
            raise InputError(f"no such folder: {root}")
        if not root.is_dir():
            raise InputError(f"not a folder: {root}")
        if not csv_path.is_file():
            raise InputError(f"no {CSV_NAME} in {root}")
        if not (root / IMAGES_DIR).is_dir():
            raise InputError(f"no {IMAGES_DIR}/ folder in {root}")
        raw = csv_path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {csv_path}: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{csv_path} is not UTF-8 (byte {exc.start}); re-save it as UTF-8") from None
    if not text.strip():
        raise InputError(f"{csv_path} is empty")
    if "\x00" in text.split("\n", 1)[0] or text.count("\x00") * 8 > len(text):  # one in a name is the row's
        raise InputError(f"{csv_path} holds NUL bytes (saved as UTF-16?); re-save it as UTF-8 CSV")
    records = _records(text, csv_path)
    header = [h.strip() for h in records[0][2]]
    data = [r for r in records[1:] if any(f.strip() for f in r[2]) or len(r[2]) > 1]  # blank lines are not rows
    width = _check_header(header, [r[2] for r in data], csv_path)
    _check_field_counts(data, width, len(header), csv_path)
    _check_line_breaks(data, header, csv_path)
    rows = []
    for number, (line, _, record) in enumerate(data, start=1):
        problem = None
        values = {h: (record[i].strip() if i < len(record) else "") for i, h in enumerate(header[:width]) if h}
        if [f.strip() for f in record[:width]] == header[:width]:
            problem = "repeated header row"
        else:
            empty = [c for c in NON_EMPTY_COLUMNS if not values[c]]
            if empty:
                problem = f"empty value in {', '.join(empty)}"
        rows.append(ReleaseRow(number=number, values=values, problem=problem, line=line))
    if not rows:
        raise InputError(f"{csv_path} has a header but no rows")
    release = RawRelease(root=root, columns=tuple(h for h in header[:width] if h), rows=tuple(rows))
    check_name_abbreviation_pairs(release)
    return release


def _records(text: str, csv_path: Path) -> list[tuple[int, int, list[str]]]:
    """``(first line, last line, fields)`` of every CSV record. A quote left open
    (which would swallow the rest of the file) or text after a closing quote
    is an error of the file, named by its line."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    out, start = [], 1
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return out
        except csv.Error as exc:
            message = str(exc)
            if "end of data" in message or "field limit" in message:
                raise InputError(
                    f"{csv_path}: line {start}: a quoted field starts here and is never closed "
                    f"(a stray '\"' would swallow lines {start} to {reader.line_num}); fix the quote"
                ) from None
            raise InputError(f"{csv_path}: line {reader.line_num}: malformed CSV ({message})") from None
        out.append((start, reader.line_num, record))
        start = reader.line_num + 1


def _check_header(header: list[str], records: list[list[str]], csv_path: Path) -> int:
    """Check the header; returns how many columns count (trailing empty, unnamed ones do not)."""
    width = max((i + 1 for i, h in enumerate(header) if h), default=0)
    unnamed = [i for i, h in enumerate(header) if not h]
    with_values = [i for i in unnamed if any(i < len(r) and r[i].strip() for r in records)]
    if with_values:
        raise InputError(f"{csv_path}: a column with values has no name (header position {with_values[0] + 1})")
    named = [h for h in header if h]
    dupes = sorted({h for h in named if named.count(h) > 1})
    if dupes:
        raise InputError(f"{csv_path}: duplicate column names {dupes}")
    reserved = [h for h in named if h in BUILD_COLUMNS]
    if reserved:
        raise InputError(f"{csv_path}: column names {reserved} are reserved for the built dataset; rename them")
    missing = [c for c in REQUIRED_COLUMNS if c not in named]
    if missing:
        raise InputError(f"{csv_path}: missing required columns {missing} (has {named})")
    return width


def _check_field_counts(records: list[tuple[int, int, list[str]]], width: int, full: int, csv_path: Path) -> None:
    """A record with too few fields, or values beyond the header, is an error of the
    file (a stray quote or delimiter shifts every field): one line naming the first."""
    bad = [
        (start, end, len(fields))
        for start, end, fields in records
        if len(fields) < width or any(f.strip() for f in fields[full:])
    ]
    if not bad:
        return
    start, end, count = bad[0]
    joined = f"; the record runs over lines {start}-{end}: a stray quote?" if end > start else ""
    more = f" ({len(bad) - 1} more line{'s' if len(bad) > 2 else ''} like it)" if len(bad) > 1 else ""
    raise InputError(f"{csv_path}: line {start}: {count} fields, the header has {width}{joined}{more}; fix the CSV")


def _check_line_breaks(records: list[tuple[int, int, list[str]]], header: list[str], csv_path: Path) -> None:
    """A line break inside a standard column is never data: a stray quote joined lines."""
    for start, end, fields in records:
        broken = [h for h, f in zip(header, fields) if h in REQUIRED_COLUMNS and ("\n" in f or "\r" in f)]
        if broken:
            raise InputError(
                f"{csv_path}: line {start}: the {broken[0]} field runs over lines {start}-{end} "
                "(a stray quote joins lines?); fix the CSV"
            )


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
