"""Contact sheet: a few conditions (rows) on the same few identities (columns)."""

from __future__ import annotations

import io
import os

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .._io import atomic_write_bytes
from .conditions import Condition
from .identities import IdentityBank, sample_identity
from .render import render

ROWS, COLUMNS, CELL, LABEL = 5, 6, 160, 18


def _label(draw: ImageDraw.ImageDraw, xy, text: str) -> None:
    font = ImageFont.load_default()
    draw.text(xy, text, fill=(20, 20, 20), font=font)


def preview_image(bank: IdentityBank, conditions: list[Condition], seed: int) -> Image.Image:
    """Row 0 unaffected, then up to ``ROWS - 1`` conditions at their severities."""
    idents = [
        sample_identity(np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(2, c))), bank, 1.0)
        for c in range(COLUMNS)
    ]
    rows = [("unaffected", {})] + [(f"{c.abbr}: {', '.join(c.features)}", c.features) for c in conditions[: ROWS - 1]]
    sheet = Image.new("RGB", (COLUMNS * CELL, len(rows) * (CELL + LABEL)), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    for r, (title, severities) in enumerate(rows):
        y = r * (CELL + LABEL)
        _label(draw, (4, y + 3), title)
        for c, ident in enumerate(idents):
            face = Image.fromarray(render(bank, ident, severities).pixels).resize((CELL, CELL), Image.LANCZOS)
            sheet.paste(face, (c * CELL, y + LABEL))
    return sheet


def write_preview(path: str | os.PathLike, bank: IdentityBank, conditions: list[Condition], seed: int) -> None:
    buf = io.BytesIO()
    preview_image(bank, conditions, seed).save(buf, format="PNG")
    atomic_write_bytes(path, buf.getvalue())
