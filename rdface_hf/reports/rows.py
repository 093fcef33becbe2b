"""The columns of one report row (see :func:`rdface_hf.reports.writer.report_features`)."""

from __future__ import annotations

from typing import Any

from ..metrics.report_similarity.sections import DESCRIPTIVE, REGIONS, parse_report
from .hpo import annotate, terms
from .inputs import Source


def base_row(source: Source, row: dict[str, Any]) -> dict[str, Any]:
    """The columns that say which image a report is of."""
    c = int(row["condition"])
    return {
        "image_id": row["image_id"],
        "condition": c,
        "condition_name": source.class_names[c],
        "disease_abbr": row.get("disease_abbr") or source.abbreviations[c],
        "source": source.kind,
        "split": row.get("partition") or source.kind,
        "generator": row.get("generator") or "",
    }


def empty_row(status: str, reason: str = "") -> dict[str, Any]:
    """The report columns of an image that has no report (``no_face``, ``unreadable``)."""
    return {
        "status": status,
        "regions": dict.fromkeys(REGIONS, ""),
        "text": "",
        "raw_text": "",
        "unparsed": reason,
        "missing_regions": list(REGIONS),
        "hpo_terms": [],
        "hpo_names": [],
        "measurements": "",
    }


def text_row(text: str, *, model: str, revision: str, prompt: str, generation: str) -> dict[str, Any]:
    """The report columns of a model's text: parsed into regions, annotated with HPO terms."""
    parsed = parse_report(text)
    ids = annotate("\n".join(parsed.regions[r] for r in DESCRIPTIVE) if parsed.parsed else text)
    return {
        "status": "ok" if text.strip() else "empty",
        "regions": parsed.regions,
        "text": parsed.text(REGIONS),
        "raw_text": text,
        "unparsed": parsed.unparsed,
        "missing_regions": list(parsed.missing),
        "hpo_terms": ids,
        "hpo_names": [terms()[i].name for i in ids],
        "measurements": "",
        "model": model,
        "model_revision": revision,
        "prompt": prompt,
        "generation": generation,
    }
