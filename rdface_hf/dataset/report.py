"""The validation report (every input row and stray file, with its fate) and
the build statistics shown on the card."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections import Counter

from .._version import __version__
from . import splits
from .checks import ACCEPTED, REJECTED, RowResult
from .files import Entry
from .release import RawRelease

REPORT_COLUMNS = ("image_name", "disease_abbr", "status", "reason", "row", "image_id", "line")


def anonymous_name(parts: tuple[str, ...] | list[str]) -> str:
    """A stable stand-in for a file name that ``--anonymize-names`` keeps out of the report."""
    return "file-" + hashlib.sha256("/".join(parts).encode("utf-8", "surrogateescape")).hexdigest()[:16]


def _text(name: str) -> str:
    """A file name with undecodable bytes (``os`` gives them as surrogates) as writable text."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def report_rows(
    release: RawRelease, results: list[RowResult], extra: list[tuple[Entry, str]], *, anonymize: bool = False
) -> list[dict]:
    """One report row per CSV row (in order), then one per entry of ``rd_images/`` no row names.

    With ``anonymize``, ``image_name`` is the ``image_id`` (or, for a file that was
    not read, a hash of its path): the report is published with the dataset.
    """
    rows = []
    for r in results:
        name = r.row.image_name
        if anonymize:
            name = r.image_id or anonymous_name([r.row.disease_abbr, r.row.image_name])
        rows.append(
            {
                "image_name": name,
                "disease_abbr": r.row.disease_abbr,
                "status": r.status,
                "reason": "; ".join(r.reasons),
                "row": r.row.number,
                "image_id": r.image_id if r.status != REJECTED else "",
                "line": r.row.line or "",
            }
        )
    for entry, reason in extra:
        deep = len(entry.parts) > 1 or entry.folder  # a condition folder entry: the folder is its abbr
        name = "/".join(entry.parts[1:]) if deep else entry.parts[0]
        rows.append(
            {
                "image_name": anonymous_name(entry.parts) if anonymize else _text(name),
                "disease_abbr": _text(entry.parts[0]) if deep else "",
                "status": REJECTED,
                "reason": reason,
                "row": "",
                "image_id": "",
                "line": "",
            }
        )
    return rows


def reason_kind(reason: str) -> str:
    """A reason without its particulars (no file names: the card shows these):
    'file missing: rd_images/A/x.png' -> 'file missing', 'duplicate of A/x.png (row 3)' -> 'duplicate'."""
    return re.split(r" \(|:|;| of ", reason)[0]


def report_csv(rows: list[dict]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=REPORT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def statistics(kept, labels, class_names, partition, rows, config) -> dict:
    """Counts for the card; ``config`` is the :class:`~rdface_hf.dataset.builder.BuildConfig`."""
    per_condition = Counter(labels)
    histogram = Counter(per_condition.values())
    status = Counter(r["status"] for r in rows)
    reasons = Counter(
        reason_kind(reason) for r in rows if r["status"] != ACCEPTED for reason in r["reason"].split("; ") if reason
    )
    parts = Counter(splits.partition_name(int(p)) for p in partition)
    fold_rows = []
    for k in range(config.folds):
        val = parts.get(f"cv-{k}", 0)
        fold_rows.append(
            {
                "fold": k,
                "train": len(kept) - parts.get("test", 0) - val,
                "validation": val,
                "test": parts.get("test", 0),
            }
        )
    return {
        "images": len(kept),
        "conditions": len(class_names),
        "rows": len(rows),
        "images_per_condition": dict(sorted(histogram.items())),
        "min_per_condition": min(per_condition.values(), default=0),
        "max_per_condition": max(per_condition.values(), default=0),
        "singleton_conditions": histogram.get(1, 0),
        "status": dict(status),
        "reasons": dict(reasons.most_common(12)),
        "partitions": dict(parts),
        "folds": fold_rows,
        "with_landmarks": sum(r.landmarks is not None for r in kept),
        "near_duplicate_images": sum(1 for r in kept if any(x.startswith("near-duplicate") for x in r.reasons)),
        "rdface_hf_version": __version__,
        "build_config": config.published(),
    }
