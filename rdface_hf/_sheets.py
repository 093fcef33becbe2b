"""Contact sheets: labelled rows of face thumbnails, written as PNG (the one drawing helper).

Used for every picture a stage leaves beside its outputs: ``train-lora``'s
validation grids and ``samples.png``, every generator's ``sample_sheet.png``,
the filter's ``kept_rejected.png`` and FastGAN's sample grids. A sheet is a list
of :class:`Row` objects (one condition each): a label on the left, then cells,
each an image (PNG bytes, a ``{"bytes": ...}`` dict, an array or a PIL image)
with an optional caption under it (a score); ``None`` leaves a cell empty (a
gap between groups). Pictures derived from gated faces stay in the output
folder and go only to gated repos.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ._io import atomic_write_bytes

CELL = 128  # px per thumbnail
LABEL_WIDTH = 96  # px of the row label column
CAPTION = 14  # px under a cell when the row has captions
HEADER = 16  # px of the header line when there is one
ROWS_PER_PAGE = 16
BACKGROUND, INK, FAINT = (255, 255, 255), (20, 20, 20), (110, 110, 110)


@dataclass
class Row:
    label: str
    cells: Sequence[Any] = ()
    captions: Sequence[str] = field(default_factory=list)


def to_image(item: Any) -> Image.Image:
    """A PIL RGB image from PNG/JPEG bytes, a ``{"bytes": ...}`` dict, an array (uint8 or 0..1 float) or PIL."""
    if isinstance(item, dict):
        item = item["bytes"]
    if isinstance(item, (bytes, bytearray)):
        with Image.open(io.BytesIO(item)) as im:
            return im.convert("RGB")
    if isinstance(item, np.ndarray):
        arr = item
        if arr.dtype != np.uint8:
            arr = (np.clip(np.nan_to_num(arr.astype(np.float64)), 0.0, 1.0) * 255).round().astype(np.uint8)
        return Image.fromarray(arr).convert("RGB")
    return item.convert("RGB")


def thumbnail(item: Any, cell: int = CELL) -> Image.Image:
    """The picture scaled to fit (up or down) and letterboxed onto a white square cell."""
    im = to_image(item)
    scale = cell / max(im.width, im.height, 1)
    im = im.resize((max(1, round(im.width * scale)), max(1, round(im.height * scale))), Image.LANCZOS)
    out = Image.new("RGB", (cell, cell), BACKGROUND)
    out.paste(im, ((cell - im.width) // 2, (cell - im.height) // 2))
    return out


def _fit(draw: ImageDraw.ImageDraw, text: str, font, width: int) -> str:
    """``text`` cut (with an ellipsis) to ``width`` pixels."""
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…"


def contact_sheet(rows: Sequence[Row], *, header: Sequence[tuple[int, str]] = (), cell: int = CELL) -> Image.Image:
    """One sheet: a label column, then each row's cells; ``header``: (cell column, text) on top."""
    columns = max((len(r.cells) for r in rows), default=0)
    heights = [cell + (CAPTION if any(r.captions) else 0) for r in rows]
    top = HEADER if header else 0
    sheet = Image.new("RGB", (LABEL_WIDTH + max(columns, 1) * cell, top + max(sum(heights), 1)), BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default()
    for col, text in header:
        draw.text((LABEL_WIDTH + col * cell + 4, 2), _fit(draw, text, font, (columns - col) * cell - 8), FAINT, font)
    y = top
    for row, height in zip(rows, heights):
        draw.text((4, y + cell // 2 - 6), _fit(draw, row.label, font, LABEL_WIDTH - 8), INK, font)
        captions = list(row.captions) + [""] * (len(row.cells) - len(row.captions))
        for c, (item, caption) in enumerate(zip(row.cells, captions)):
            x = LABEL_WIDTH + c * cell
            if item is not None:
                sheet.paste(thumbnail(item, cell), (x, y))
            if caption:
                draw.text((x + 4, y + cell + 1), _fit(draw, caption, font, cell - 8), INK, font)
        y += height
    return sheet


def png_bytes(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG")  # PIL writes no metadata unless given pnginfo
    return buf.getvalue()


def page_paths(path: str | os.PathLike, pages: int) -> list[Path]:
    """``path`` for the first page, ``<stem>-<k>.png`` for page k >= 2."""
    path = Path(path)
    return [path] + [path.with_name(f"{path.stem}-{k}{path.suffix}") for k in range(2, pages + 1)]


def write_sheets(
    path: str | os.PathLike, rows: Sequence[Row], *, header: Sequence[tuple[int, str]] = (),
    rows_per_page: int = ROWS_PER_PAGE, cell: int = CELL,
) -> list[Path]:  # fmt: skip
    """Write ``rows`` as one or more sheets (paged by ``rows_per_page``), atomically; returns the paths."""
    pages = [rows[i : i + rows_per_page] for i in range(0, len(rows), rows_per_page)] or [[]]
    paths = page_paths(path, len(pages))
    for target, page in zip(paths, pages):
        atomic_write_bytes(target, png_bytes(contact_sheet(page, header=header, cell=cell)))
    return paths
