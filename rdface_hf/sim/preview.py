"""An honest contact sheet of a release: its own images, beside unaffected twins.

Each row is one condition (those with the most images first): up to four of
the release's real images of it, as written (same identity variation,
severities and photo nuisance as the release), then the **unaffected twins**
of its first two images: the same patients in the same photos, drawn without
the condition's features. Labels name the condition only; its features are in
``phenotypes.json``.
"""

from __future__ import annotations

import os

from .._sheets import Row, write_sheets
from .patient import draw_image

ROWS, REAL, TWINS = 6, 4, 2


def _rows(plan) -> list[tuple[int, list[int]]]:
    by_condition: dict[int, list[int]] = {}
    for i, ci in enumerate(plan.image_condition):
        by_condition.setdefault(ci, []).append(i)
    order = sorted(by_condition, key=lambda ci: (-len(by_condition[ci]), ci))
    return [(ci, by_condition[ci]) for ci in order[:ROWS]]


def preview_rows(rows: list[tuple[str, list[bytes], list[bytes]]]) -> list[Row]:
    """``rows``: (label, real image bytes, twin image bytes) per condition; an empty cell between."""
    return [
        Row(label, [*real[:REAL], *[None] * (REAL - len(real[:REAL]) + 1), *twins[:TWINS]])
        for label, real, twins in rows
    ]


def write_preview(path: str | os.PathLike, bank, spec, plan, results: list[dict]) -> None:
    rows = []
    for ci, images in _rows(plan):
        cond = plan.conditions[ci]
        real = [results[i]["bytes"] for i in images[:REAL]]
        twins = []
        for i in images[:TWINS]:
            attempt = results[i]["truth"]["attempt"]
            twins.append(draw_image(bank, spec, cond, plan.source_styles[ci], i, attempt, affected=False)["bytes"])
        rows.append((f"{cond.abbr} (n={len(images)})", real, twins))
    header = [(0, "release images"), (REAL + 1, "unaffected twins")]
    write_sheets(path, preview_rows(rows), header=header, rows_per_page=ROWS)
