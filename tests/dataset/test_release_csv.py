"""``disease_images.csv`` as spreadsheets and people write it: quoting, BOM, CRLF, trailing
empty columns, extra columns, stray quotes, wrong field counts. Every data row and every
file under ``rd_images`` is in the report exactly once, or the CSV is refused with one line."""

from __future__ import annotations

import csv
import io
import os
from collections import Counter

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from PIL import Image

HEADER = "image_name,disease_name,disease_abbr,sub_category,gene_name,orphanet_code"


def release_with_csv(root, text: str | bytes, files=("A/a.png", "A/b.png", "B/c.png", "B/d.png")):
    for k, rel in enumerate(files):
        path = root / "rd_images" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        rng = np.random.default_rng(k)
        Image.fromarray(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)).resize((64, 64)).save(path)
    data = text if isinstance(text, bytes) else text.encode("utf-8")
    (root / "disease_images.csv").write_bytes(data)
    return root


ROWS = [
    "a.png,Alpha,A,s,G1,1",
    "b.png,Alpha,A,s,G1,1",
    "c.png,Beta,B,s,G2,2",
    "d.png,Beta,B,s,G2,2",
]


@pytest.mark.parametrize(
    "lines, message",
    [
        (
            [ROWS[0], '"b.png,Alpha,A,s,G1,1', ROWS[2], ROWS[3]],
            "line 3: a quoted field starts here and is never closed (a stray '\"' would swallow lines 3 to 5)",
        ),
        (
            [ROWS[0], 'b.png,"Alpha,A,s,G1,1', 'c.png,Beta",B,s,G2,2', ROWS[3]],
            "line 3: the disease_name field runs over lines 3-4 (a stray quote joins lines?)",
        ),
        (
            [ROWS[0], '"b.png,Alpha,A,s,G1,1', 'c.png",Beta,B,s,G2', ROWS[3]],
            "line 3: 5 fields, the header has 6; the record runs over lines 3-4: a stray quote?",
        ),
        ([ROWS[0], 'b.png,"Alpha"x,A,s,G1,1', ROWS[2]], "line 3: malformed CSV (',' expected after '\"')"),
        ([ROWS[0], "b.png,Alpha,A,s,G1,1,surplus", ROWS[2]], "line 3: 7 fields, the header has 6"),
        ([ROWS[0], "b.png,Alpha,A,s,G1", ROWS[2], "d.png,Beta,B"], "line 3: 5 fields, the header has 6 (1 more line"),
    ],
    ids=["unterminated", "joins_lines", "joins_fields", "text_after_quote", "extra_field", "missing_fields"],
)
def test_a_broken_csv_is_refused_with_one_line_naming_the_line(rdface_build, tmp_path, lines, message):
    raw = release_with_csv(tmp_path / "raw", "\n".join([HEADER, *lines]) + "\n")
    code, _, err = rdface_build(raw, tmp_path / "out")
    assert code == 2
    assert len(err) == 1 and "disease_images.csv: " in err[0] and message in err[0], err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["raw"], "nothing written"


def test_a_utf16_csv_is_refused_with_one_line(rdface_build, tmp_path):
    raw = release_with_csv(tmp_path / "raw", "\n".join([HEADER, *ROWS]).encode("utf-16-le"))
    code, _, err = rdface_build(raw, tmp_path / "out")
    assert code == 2 and len(err) == 1 and "holds NUL bytes (saved as UTF-16?)" in err[0], err


def test_trailing_empty_columns_bom_crlf_and_multiline_fields(rdface_build, read_report, tmp_path):
    from rdface_hf.dataset import load_rdface

    text = "\ufeff" + HEADER + ",notes,,,\r\n"  # a spreadsheet's trailing empty columns
    text += "a.png,Alpha,A,s,G1,1,,,,\r\n"
    text += 'b.png,Alpha,A,s,G1,1,"two\r\nlines",,,\r\n'  # a quoted field over two lines
    text += "\r\n"  # a blank line is not a row
    text += "c.png,Beta,B,s,G2,2,,,\r\n"  # one trailing comma fewer
    text += "d.png,Beta,B,s,G2,2,,,,,\r\n"  # one more, empty
    raw = release_with_csv(tmp_path / "raw", text)
    code, _, err = rdface_build(raw, tmp_path / "out", "--keep-columns", "notes")
    assert code == 0, err
    report = read_report(tmp_path / "out")
    assert [(r["image_name"], r["row"], r["line"]) for r in report] == [
        ("a.png", "1", "2"),
        ("b.png", "2", "3"),
        ("c.png", "3", "6"),
        ("d.png", "4", "7"),
    ]
    columns = load_rdface(tmp_path / "out")["train"].column_names
    assert "notes" in columns and "" not in columns
    with_values = HEADER + ",,\n" + "\n".join(r + ",x," for r in ROWS) + "\n"
    raw2 = release_with_csv(tmp_path / "raw2", with_values)
    code, _, err = rdface_build(raw2, tmp_path / "out2")
    assert code == 2 and len(err) == 1 and "a column with values has no name (header position 7)" in err[0]


# --- property: random exports -------------------------------------------------------------------

ABBRS = ["A", "B b", "C,1", 'D"q']
NAME = st.text(alphabet='ab,"é \t;', min_size=1, max_size=5).map(lambda s: s + ".png")
WORD = st.text(alphabet='xyz,"é ;\r\n', max_size=6)


@st.composite
def exports(draw):
    rows = [("A", "base.png", True)]  # one clean row: a build without faults always has an image
    rows += draw(st.lists(st.tuples(st.sampled_from(ABBRS), NAME, st.booleans()), max_size=5))
    strays = draw(st.lists(st.tuples(st.sampled_from(ABBRS), NAME), max_size=2))
    extras = draw(st.lists(st.sampled_from(["age", "sex", "notes", "Patient Name", "ward"]), unique=True, max_size=2))
    values = [[draw(WORD) for _ in extras] for _ in rows]
    style = {
        "quoting": draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC])),
        "terminator": draw(st.sampled_from(["\n", "\r\n"])),
        "bom": draw(st.booleans()),
        "trailing": draw(st.integers(0, 3)),
        "blank_lines": draw(st.booleans()),
    }
    fault = draw(st.sampled_from([None, None, "stray_quote", "drop_field", "extra_field"]))
    where = draw(st.integers(0, 10**6))
    return rows, strays, extras, values, style, fault, where


def write_export(raw, rows, strays, extras, values, style, fault, where) -> str:
    header = HEADER.split(",") + extras + [""] * style["trailing"]
    buf = io.StringIO()
    writer = csv.writer(buf, quoting=style["quoting"], lineterminator=style["terminator"])
    writer.writerow(header)
    for (abbr, name, _), vals in zip(rows, values):
        writer.writerow([name, f"Condition {abbr}", abbr, "s", "G", "1", *vals] + [""] * style["trailing"])
        if style["blank_lines"]:
            buf.write(style["terminator"])
    lines = buf.getvalue().split(style["terminator"])
    if fault:  # damage one data line's text, as a person editing the file by hand might
        k = 1 + where % len(rows) if not style["blank_lines"] else 1 + 2 * (where % len(rows))
        fields = lines[k].split(",")
        if fault == "stray_quote":
            fields[where % len(fields)] = '"' + fields[where % len(fields)]
        elif fault == "drop_field":
            fields.pop(where % len(fields))
        else:
            fields.append("surplus")
        lines[k] = ",".join(fields)
    text = ("\ufeff" if style["bom"] else "") + style["terminator"].join(lines)
    (raw / "disease_images.csv").write_text(text, encoding="utf-8", newline="")
    return text


@settings(max_examples=20, database=None, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(export=exports())
def test_every_row_and_every_file_is_reported_exactly_once(rdface_build, read_report, tmp_path_factory, export):
    rows, strays, extras, values, style, fault, where = export
    root = tmp_path_factory.mktemp("export")
    raw = root / "raw"
    files = set()
    for k, (abbr, name) in enumerate([(a, n) for a, n, exists in rows if exists] + strays):
        path = raw / "rd_images" / abbr / name
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.random.default_rng(k).integers(0, 256, (8, 8, 3), dtype=np.uint8)).save(path, "PNG")
        files.add((abbr, name))
    (raw / "rd_images").mkdir(parents=True, exist_ok=True)
    write_export(raw, rows, strays, extras, values, style, fault, where)
    # Python's csv writer quotes a "\r" only when it is part of the line terminator: with "\n"
    # lines and minimal quoting a value holding "\r" is written bare, which ends the record for
    # every CSV reader. Such an export is damaged, like a hand-edited one.
    if (
        style["quoting"] == csv.QUOTE_MINIMAL
        and style["terminator"] == "\n"
        and any("\r" in v for r in values for v in r)
    ):
        fault = fault or "bare_cr"
    code, _, err = rdface_build(raw, root / "out", *(["--anonymize-names"] if where % 7 == 0 else []))
    event(f"exit {code}, fault {fault}")
    leftovers = [p.name for p in root.iterdir() if p.name.startswith(".")]
    assert not leftovers, leftovers
    if code == 2:
        assert len(err) == 1 and "Traceback" not in err[0], err
        assert fault is not None, err
        assert not (root / "out").exists()
        return
    assert code == 0, err
    if where % 7 == 0:
        return  # anonymised names: counted by the report's row numbers only
    report = read_report(root / "out")
    listed = [r for r in report if r["row"]]
    assert [int(r["row"]) for r in listed] == list(range(1, len(listed) + 1)), "each data row once, in order"
    if fault is None:
        assert [(r["disease_abbr"], r["image_name"]) for r in listed] == [(a, n.strip()) for a, n, _ in rows]
        named = {os.path.normpath(os.path.join(a, n.strip())) for a, n, _ in rows}
        unlisted = Counter((r["disease_abbr"], r["image_name"]) for r in report if not r["row"])
        assert all(n == 1 for n in unlisted.values()), unlisted
        expected = {f for f in files if os.path.normpath(os.path.join(*f)) not in named}
        assert set(unlisted) == expected
