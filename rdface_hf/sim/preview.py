"""An honest contact sheet of a release: its own images, beside unaffected twins.

Each row is one condition (those with the most images first): up to four of
the release's real images of it, as written (same identity variation,
severities and photo nuisance as the release), then the **unaffected twins**
of its first two images: the same patients in the same photos, drawn without
the condition's features. Labels name the condition only; its features are in
``phenotypes.json``.
"""

from __future__ import annotations

import io
import os

from PIL import Image, ImageDraw, ImageFont

from .._io import atomic_write_bytes
from .patient import draw_image

ROWS, REAL, TWINS, CELL, LABEL, GAP = 6, 4, 2, 128, 16, 10


def _thumb(data: bytes) -> Image.Image:
    """A picture letterboxed onto a white square cell."""
    with Image.open(io.BytesIO(data)) as im:
        im = im.convert("RGB")
        im.thumbnail((CELL, CELL), Image.LANCZOS)
        cell = Image.new("RGB", (CELL, CELL), (255, 255, 255))
        cell.paste(im, ((CELL - im.width) // 2, (CELL - im.height) // 2))
        return cell


def _rows(plan) -> list[tuple[int, list[int]]]:
    by_condition: dict[int, list[int]] = {}
    for i, ci in enumerate(plan.image_condition):
        by_condition.setdefault(ci, []).append(i)
    order = sorted(by_condition, key=lambda ci: (-len(by_condition[ci]), ci))
    return [(ci, by_condition[ci]) for ci in order[:ROWS]]


def preview_image(rows: list[tuple[str, list[bytes], list[bytes]]]) -> Image.Image:
    """``rows``: (label, real image bytes, twin image bytes) per condition."""
    width = (REAL + TWINS) * CELL + GAP
    sheet = Image.new("RGB", (width, len(rows) * (CELL + LABEL)), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default()
    for r, (label, real, twins) in enumerate(rows):
        y = r * (CELL + LABEL)
        draw.text((4, y + 2), label, fill=(20, 20, 20), font=font)
        draw.text((REAL * CELL + GAP + 4, y + 2), "unaffected twins", fill=(90, 90, 90), font=font)
        for c, data in enumerate(real[:REAL]):
            sheet.paste(_thumb(data), (c * CELL, y + LABEL))
        for c, data in enumerate(twins[:TWINS]):
            sheet.paste(_thumb(data), (REAL * CELL + GAP + c * CELL, y + LABEL))
    return sheet


def write_preview(path: str | os.PathLike, bank, spec, plan, results: list[dict]) -> None:
    rows = []
    for ci, images in _rows(plan):
        cond = plan.conditions[ci]
        real = [results[i]["bytes"] for i in images[:REAL]]
        twins = []
        for i in images[:TWINS]:
            attempt = results[i]["truth"]["attempt"]
            twins.append(draw_image(bank, spec, cond, plan.source_styles[ci], i, attempt, affected=False)["bytes"])
        rows.append((f"{cond.abbr}: {len(images)} image(s)", real, twins))
    buf = io.BytesIO()
    preview_image(rows).save(buf, format="PNG")
    atomic_write_bytes(path, buf.getvalue())
