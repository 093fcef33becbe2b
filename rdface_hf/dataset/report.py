"""The validation report (every input row and stray file, with its fate) and
the build statistics shown on the card."""

from __future__ import annotations

import csv
import io
from collections import Counter
from pathlib import Path

from .. import __version__
from . import splits
from .checks import ACCEPTED, REJECTED, RowResult
from .release import RawRelease

REPORT_NAME = "validation_report.csv"
REPORT_COLUMNS = ("image_name", "disease_abbr", "status", "reason", "row", "image_id")


def report_rows(release: RawRelease, results: list[RowResult], extra: list[tuple[Path, str]]) -> list[dict]:
    rows = []
    for r in results:
        rows.append(
            {
                "image_name": r.row.image_name,
                "disease_abbr": r.row.disease_abbr,
                "status": r.status,
                "reason": "; ".join(r.reasons),
                "row": r.row.number,
                "image_id": r.image_id if r.status != REJECTED else "",
            }
        )
    images_dir = release.images_dir.resolve()
    for path, reason in extra:
        rel = path.resolve().relative_to(images_dir) if path.resolve().is_relative_to(images_dir) else Path(path.name)
        abbr = rel.parts[0] if len(rel.parts) > 1 else ""
        rows.append(
            {
                "image_name": "/".join(rel.parts[1:]) or rel.name,
                "disease_abbr": abbr,
                "status": REJECTED,
                "reason": reason,
                "row": "",
                "image_id": "",
            }
        )
    return rows


def reason_kind(reason: str) -> str:
    """A reason without its particulars: 'file missing: rd_images/A/x.png' -> 'file missing'."""
    return reason.split(" (")[0].split(":")[0]


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
