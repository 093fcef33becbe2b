"""The report parser: well-formed, reordered, renamed, partial and malformed reports."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from rdface_hf.metrics.report_similarity.sections import (
    ALIASES,
    HEADINGS,
    REGIONS,
    parse_report,
    reads_normal,
    render_report,
    report_regions,
)

WELL_FORMED = """Overall impression: A child with a long face.
Left eye: Down-slanting palpebral fissure.
Right eye: Down-slanting palpebral fissure.
Nose: Broad nasal bridge.
Mouth and lips: Thin upper lip.
Suggested diagnosis: Noonan syndrome."""


def test_well_formed_round_trip():
    parsed = parse_report(WELL_FORMED)
    assert parsed.complete and parsed.parsed and parsed.unparsed == ""
    assert parsed.regions["nose"] == "Broad nasal bridge." and parsed.regions["diagnosis"] == "Noonan syndrome."
    assert parsed.text() == "\n".join(WELL_FORMED.splitlines()[:5])
    assert parse_report(render_report(parsed.regions)).regions == parsed.regions


def test_markdown_renamed_reordered_and_prose():
    text = """Sure! Here is my assessment as a clinical geneticist.

### **2. Nose**
Short, with anteverted nares.

**Left Eye (patient's left):**
- **Shape:** almond
- **Spacing:** widely spaced

1) Lips/Mouth - thin upper lip

**Right eye**: same as the left.

## Overall Impression
Round face.

**Differential diagnosis:** X syndrome; Y syndrome.

Note: this is not a diagnosis."""
    parsed = parse_report(text)
    assert parsed.complete
    assert parsed.regions["nose"] == "Short, with anteverted nares."
    assert parsed.regions["left_eye"] == "- **Shape:** almond\n- **Spacing:** widely spaced"  # sub-labels stay
    assert parsed.regions["mouth"] == "thin upper lip"
    assert parsed.regions["right_eye"] == "same as the left."
    assert parsed.regions["impression"] == "Round face."
    assert parsed.regions["diagnosis"] == "X syndrome; Y syndrome."
    assert "Here is my assessment" in parsed.unparsed and "Note: this is not a diagnosis." in parsed.unparsed


def test_one_line_partial_and_both_eyes():
    parsed = parse_report("Overall impression: round face. Eyes: hypertelorism. Mouth and lips: normal.")
    assert parsed.regions["left_eye"] == parsed.regions["right_eye"] == "hypertelorism."
    assert parsed.missing == ("nose", "diagnosis") and not parsed.complete
    assert parsed.regions["mouth"] == "normal."


def test_malformed_is_kept_raw():
    for text in ("The child looks well and I cannot say more.", "", None, "::::", "Nose is long but fine."):
        parsed = parse_report(text)
        assert not parsed.parsed and parsed.missing == REGIONS
        assert parsed.unparsed == (text or "").strip() or parsed.unparsed == "::::"
    headings_only = parse_report("Nose:\nLeft eye:\n")
    assert headings_only.found == ("left_eye", "nose") and all(v == "" for v in headings_only.regions.values())


def test_report_regions_accepts_mappings():
    assert report_regions({"Left eye": "x", "nose": "y"})["left_eye"] == "x"
    assert report_regions(None) == dict.fromkeys(REGIONS, "")
    try:
        report_regions({"ears": "x"})
    except ValueError as exc:
        assert "unknown report region" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("an unknown region was accepted")


def test_reads_normal():
    for text in (
        "Normal.",
        "Unremarkable; no dysmorphic features.",
        "No abnormalities noted.",
        "Normal: measurements within the reference range (slant z = -0.5).",
        "Normal spacing, no hypertelorism.",
    ):
        assert reads_normal(text), text  # fmt: skip
    for text in ("", "Hypertelorism.", "Normal shape but widely spaced.", "Abnormal.", "Short philtrum."):
        assert not reads_normal(text), text


WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=3, max_size=8).filter(
    lambda w: not re.search(r"note|eye|nose|lip|mouth|face|overall|general|diagnos|impress|syndrome|gestalt", w)
)
BODY = st.lists(WORDS, min_size=1, max_size=6).map(lambda ws: " ".join(ws) + ".")
STYLES = ("{h}: {b}", "**{h}:** {b}", "### {h}\n{b}", "- {h} - {b}", "{n}. {h}: {b}", "**{h}**: {b}", "{H}: {b}")


@settings(max_examples=60, deadline=None)
@given(
    st.permutations(list(REGIONS)).flatmap(
        lambda order: st.tuples(
            st.just(order),
            st.lists(st.booleans(), min_size=6, max_size=6),
            st.lists(BODY, min_size=6, max_size=6),
            st.lists(st.sampled_from(STYLES), min_size=6, max_size=6),
            st.one_of(st.just(""), BODY),
        )
    )
)
def test_any_order_style_and_subset_is_recovered(case):
    order, present, bodies, styles, preamble = case
    parts = [preamble] if preamble else []
    expected = {}
    for i, (region, keep, body, style) in enumerate(zip(order, present, bodies, styles)):
        if keep:
            h = HEADINGS[region]
            parts.append(style.format(h=h, H=h.upper(), b=body, n=i + 1))
            expected[region] = body
    parsed = parse_report("\n\n".join(parts))
    assert {r: parsed.regions[r] for r in expected} == expected
    assert set(parsed.missing) == set(REGIONS) - set(expected)
    assert parsed.unparsed == preamble.strip()


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=400))
def test_never_raises_and_loses_no_words(text):
    parsed = parse_report(text)
    kept = " ".join([*parsed.regions.values(), parsed.unparsed])
    for word in re.findall(r"[A-Za-z]{4,}", text):  # a word is in a region, in unparsed, or was a heading
        assert word in kept or word.lower() in _ALIAS_WORDS


_ALIAS_WORDS = {w for alias in ALIASES for w in alias.split()}
