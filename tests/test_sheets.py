"""The one contact-sheet helper: layout, captions, paging, and the not-blank check itself."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from rdface_hf._sheets import CAPTION, CELL, HEADER, LABEL_WIDTH, Row, contact_sheet, png_bytes, write_sheets


def _faces(n: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (64, 48, 3), dtype=np.uint8) for _ in range(n)]


def test_rows_cells_captions_and_header(tmp_path, assert_picture):
    rows = [Row("KS", _faces(3), ["0.91", "0.80", "0.75"]), Row("a very long condition name indeed", _faces(2, 1))]
    sheet = contact_sheet(rows, header=[(0, "kept")])
    assert sheet.size == (LABEL_WIDTH + 3 * CELL, HEADER + 2 * CELL + CAPTION)  # row 2: no captions
    (tmp_path / "s.png").write_bytes(png_bytes(sheet))
    arr = assert_picture(tmp_path / "s.png")
    # a thumbnail is letterboxed, centred in its cell: the third cell of row 2 is empty (white)
    assert (arr[HEADER + CELL + CAPTION :, LABEL_WIDTH + 2 * CELL :] == 255).all()
    assert (arr[HEADER : HEADER + CELL, LABEL_WIDTH + CELL // 2] != 255).any()


def test_inputs_of_every_kind(tmp_path):
    face = _faces(1)[0]
    as_png = png_bytes(Image.fromarray(face))
    cells = [face, face.astype(np.float32) / 255, Image.fromarray(face), as_png, {"bytes": as_png}, None]
    arr = np.asarray(contact_sheet([Row("x", cells)]))
    first = arr[:, LABEL_WIDTH : LABEL_WIDTH + CELL]
    for k in range(1, 5):
        assert np.abs(arr[:, LABEL_WIDTH + k * CELL : LABEL_WIDTH + (k + 1) * CELL].astype(int) - first).max() <= 1
    assert (arr[:, LABEL_WIDTH + 5 * CELL :] == 255).all()


def test_paged_when_many_rows(tmp_path):
    rows = [Row(f"C{i}", _faces(2, i)) for i in range(5)]
    paths = write_sheets(tmp_path / "grid.png", rows, rows_per_page=2)
    assert [p.name for p in paths] == ["grid.png", "grid-2.png", "grid-3.png"]
    heights = [Image.open(p).size[1] for p in paths]
    assert heights == [2 * CELL, 2 * CELL, CELL]
    assert not list(tmp_path.glob(".*"))  # written atomically, no temporary file left


def test_the_picture_check_fails_on_a_blank_sheet(tmp_path, assert_picture):
    blank = [np.full((64, 64, 3), 255, np.uint8)] * 4
    write_sheets(tmp_path / "blank.png", [Row("KS", blank)])
    with pytest.raises(AssertionError):
        assert_picture(tmp_path / "blank.png")
    grey = [np.full((64, 64, 3), 128, np.uint8)] * 4
    write_sheets(tmp_path / "grey.png", [Row("", grey)])
    with pytest.raises(AssertionError):
        assert_picture(tmp_path / "grey.png")


def test_the_audit_contact_sheet_is_one_pair_a_row(tmp_path, assert_picture):
    from rdface_hf.audit.report import contact_sheet as audit_sheet

    pairs = [(face, face[::-1], f"0.{k}12 rdf-KS-{k}") for k, face in enumerate(_faces(3))]
    audit_sheet(tmp_path / "contact_sheet.png", pairs)
    arr = assert_picture(tmp_path / "contact_sheet.png")
    assert arr.shape[:2] == (3 * (CELL + CAPTION), LABEL_WIDTH + 2 * CELL)
