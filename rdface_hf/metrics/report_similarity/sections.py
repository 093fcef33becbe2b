"""The structured phenotype report: its regions, a robust parser and a "reads as normal" test.

A report (the paper's layout, which ``rdface report`` asks a vision-language model for
and renders landmark reports in) has six sections::

    Overall impression: ...
    Left eye: ...            (the patient's left eye, on the image's right)
    Right eye: ...
    Nose: ...
    Mouth and lips: ...
    Suggested diagnosis: ...

:func:`parse_report` copes with what models write instead: Markdown headings and bold
(``### Left Eye``, ``**Left eye:**``), numbered or bulleted headings, other names
(``Lips``, ``Nasal region``, ``Differential diagnosis``, ``Eyes`` for both eyes),
sections in any order, repeated or missing, everything on one line, and prose before,
between or after the sections. Text that belongs to no known section is kept, raw, in
``unparsed``; nothing is dropped.

This module is the report format shared by the reports stage and the
``report_similarity`` metric; it needs nothing but the standard library.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Canonical region keys, in report order, and the headings a report is written with.
REGIONS = ("impression", "left_eye", "right_eye", "nose", "mouth", "diagnosis")
HEADINGS = {
    "impression": "Overall impression",
    "left_eye": "Left eye",
    "right_eye": "Right eye",
    "nose": "Nose",
    "mouth": "Mouth and lips",
    "diagnosis": "Suggested diagnosis",
}
# Regions that describe the face (the diagnosis is a guess, not a description).
DESCRIPTIVE = REGIONS[:-1]

# Heading names -> regions ("eyes" fills both eyes). Matched case-insensitively, longest first.
ALIASES: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(
        (
            "overall impression",
            "overall facial impression",
            "general impression",
            "overall facial gestalt",
            "facial gestalt",
            "gestalt",
            "overall appearance",
            "general appearance",
            "overall assessment",
            "overall",
            "impression",
            "general",
            "face",
            "facial features",
            "overall face",
        ),
        ("impression",),
    ),
    **dict.fromkeys(
        ("left eye", "left eye region", "left periorbital region", "left periorbital", "left ocular region"),
        ("left_eye",),
    ),
    **dict.fromkeys(
        ("right eye", "right eye region", "right periorbital region", "right periorbital", "right ocular region"),
        ("right_eye",),
    ),
    **dict.fromkeys(
        (
            "eyes",
            "both eyes",
            "left and right eyes",
            "right and left eyes",
            "eye region",
            "eye",
            "periorbital region",
            "periorbital",
            "ocular region",
        ),
        ("left_eye", "right_eye"),
    ),
    **dict.fromkeys(("nose", "nasal region", "nasal", "nose and nasal bridge", "nasal features"), ("nose",)),
    **dict.fromkeys(
        (
            "mouth and lips",
            "mouth & lips",
            "mouth/lips",
            "lips/mouth",
            "lips and mouth",
            "lips & mouth",
            "mouth, lips",
            "mouth",
            "lips",
            "oral region",
            "perioral region",
            "mouth and philtrum",
            "lips and philtrum",
        ),
        ("mouth",),
    ),
    **dict.fromkeys(
        (
            "suggested diagnosis",
            "suggested diagnoses",
            "differential diagnosis",
            "differential diagnoses",
            "possible diagnosis",
            "possible diagnoses",
            "likely diagnosis",
            "suspected diagnosis",
            "diagnosis",
            "diagnoses",
            "differential",
            "suggested syndrome",
            "possible syndrome",
            "suspected syndrome",
            "syndrome",
        ),
        ("diagnosis",),
    ),
}
# Headings of sections outside the layout: their text goes to ``unparsed``.
# (Sub-labels inside a section, "Shape:", "Forehead:", stay in that section's text.)
OTHER_HEADINGS = (
    "note", "notes", "please note", "disclaimer", "caveat", "caveats", "limitation", "limitations",
    "recommendation", "recommendations", "comment", "comments", "conclusion", "important",
)  # fmt: skip


def _alternation(names) -> str:
    return "|".join(re.escape(n).replace(r"\ ", r"\s+") for n in sorted(names, key=len, reverse=True))


_KNOWN = _alternation(ALIASES)
_OTHER = _alternation(OTHER_HEADINGS)
_LEAD = r"^[ \t>]*(?:\#{1,6}[ \t]*)?(?:[-*+•][ \t]+)?(?:\*\*|__)?[ \t]*(?:\(?\d{1,2}[.)][ \t]*)?(?:\*\*|__)?[ \t]*"
_QUALIFIER = r"(?:[ \t]*\([^)\n]{0,60}\))?"
_TAIL = r"[ \t]*(?:\*\*|__)?[ \t]*(?::|[-–—](?=[ \t])|(?=[ \t]*(?:\n|$)))(?:[ \t]*(?:\*\*|__))?"
# A heading at the start of a line: ``Left eye:``, ``### Left Eye``, ``**Left eye:**``, ``2. Nose -``.
_LINE_HEADING = re.compile(_LEAD + rf"(?P<name>{_KNOWN}){_QUALIFIER}{_TAIL}", re.IGNORECASE | re.MULTILINE)
# A heading inside a paragraph (one-line reports): after a sentence end, and with a colon.
_INLINE_HEADING = re.compile(
    rf"(?<=[.;!?])[ \t]+(?:\*\*|__)?(?P<name>{_KNOWN}){_QUALIFIER}[ \t]*(?:\*\*|__)?[ \t]*:(?:[ \t]*(?:\*\*|__))?",
    re.IGNORECASE,
)
# Other sections: a known extra name with a colon, or a Markdown heading.
_OTHER_HEADING = re.compile(
    rf"{_LEAD}(?P<name>{_OTHER}){_QUALIFIER}[ \t]*(?:\*\*|__)?[ \t]*:(?:[ \t]*(?:\*\*|__))?"
    r"|^[ \t]*\#{1,6}[ \t]*(?P<md>[^\n]{1,80}?)[ \t]*$",
    re.IGNORECASE | re.MULTILINE,
)


@dataclass(frozen=True)
class ParsedReport:
    """A report split into :data:`REGIONS`; ``unparsed`` holds the rest, raw."""

    regions: dict[str, str]
    unparsed: str = ""
    found: tuple[str, ...] = field(default=())  # regions that had a heading

    @property
    def missing(self) -> tuple[str, ...]:
        return tuple(r for r in REGIONS if r not in self.found)

    @property
    def parsed(self) -> bool:
        """At least one section was recognised (else the whole text is in ``unparsed``)."""
        return bool(self.found)

    @property
    def complete(self) -> bool:
        return not self.missing

    def text(self, regions=DESCRIPTIVE) -> str:
        """The report in the canonical layout (only regions with text)."""
        return render_report(self.regions, regions)


def _region_of(name: str) -> tuple[str, ...]:
    return ALIASES[re.sub(r"\s+", " ", name.strip().lower())]


def _headings(text: str) -> list[tuple[int, int, tuple[str, ...]]]:
    """(start, end, regions) of every heading, in order; ``()`` for sections outside the layout."""
    found = [(m.start(), m.end(), _region_of(m.group("name"))) for m in _LINE_HEADING.finditer(text)]
    found += [(m.start(), m.end(), _region_of(m.group("name"))) for m in _INLINE_HEADING.finditer(text)]
    for m in _OTHER_HEADING.finditer(text):
        label = (m.group("name") or m.group("md") or "").strip(" \t*_")
        if re.fullmatch(rf"(?:\(?\d{{1,2}}[.)][ \t]*)?(?:{_KNOWN}){_QUALIFIER}[ \t]*:?", label, re.IGNORECASE):
            continue  # a known heading written as Markdown: matched above
        found.append((m.start(), m.end(), ()))
    found.sort(key=lambda h: (h[0], -h[1]))
    out: list[tuple[int, int, tuple[str, ...]]] = []
    for start, end, regions in found:
        if out and start < out[-1][1]:
            continue  # overlaps the heading before it
        out.append((start, end, regions))
    return out


def _clean(text: str) -> str:
    """A section's body without the leftovers of its heading's markup."""
    text = re.sub(r"^(?:[ \t]*(?:\*\*|__|:))+", "", text.strip())
    return "" if re.fullmatch(r"[\s*_:\-–—]*", text) else text.strip()


def parse_report(text: str | None) -> ParsedReport:
    """Split a report into regions. Never raises; see the module docstring."""
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    heads = _headings(text)
    parts: dict[str, list[str]] = {r: [] for r in REGIONS}
    unparsed: list[str] = []
    found: list[str] = []
    preamble = text[: heads[0][0]] if heads else text
    if preamble.strip():
        unparsed.append(preamble.strip())
    for i, (start, end, regions) in enumerate(heads):
        body = _clean(text[end : heads[i + 1][0] if i + 1 < len(heads) else len(text)])
        if not regions:
            unparsed.append(text[start:end].strip() + (" " + body if body else ""))
            continue
        for region in regions:
            if region not in found:
                found.append(region)
            if body:
                parts[region].append(body)
    return ParsedReport(
        regions={r: "\n".join(parts[r]) for r in REGIONS},
        unparsed="\n".join(unparsed),
        found=tuple(r for r in REGIONS if r in found),
    )


def render_report(regions: dict[str, str], order=REGIONS) -> str:
    """Regions as report text in the canonical layout (regions without text are left out)."""
    lines = [f"{HEADINGS[r]}: {regions[r].strip()}" for r in order if (regions.get(r) or "").strip()]
    return "\n".join(lines)


def report_regions(report: str | dict | None) -> dict[str, str]:
    """Region texts of a report given as text (parsed) or as a mapping of region -> text.

    Mapping keys may be canonical (``left_eye``) or headings (``Left eye``); unknown keys
    are refused. Missing regions are empty.
    """
    if report is None:
        return dict.fromkeys(REGIONS, "")
    if isinstance(report, str):
        return parse_report(report).regions
    if not isinstance(report, dict):
        raise TypeError(f"a report is text or a mapping of region -> text, got {type(report).__name__}")
    out = dict.fromkeys(REGIONS, "")
    for key, value in report.items():
        name = str(key).strip()
        if name in out:
            region = name
        else:
            try:
                (region,) = _region_of(name.replace("_", " "))
            except (KeyError, ValueError):
                raise ValueError(f"unknown report region {key!r}; regions are {', '.join(REGIONS)}") from None
        out[region] = "" if value is None else str(value).strip()
    return out


# --- does a region read as normal? -------------------------------------------------------

_NORMAL = re.compile(
    r"\b(?:normal|unremarkable|typical|symmetric(?:al)?|within\s+(?:the\s+)?(?:normal|reference)\s+(?:limits|range)"
    r"|no\s+(?:\w+\s+){0,2}?(?:abnormalit\w*|dysmorphi\w*|anomal\w*|findings?|features?\s+of\s+note)"
    r"|nothing\s+(?:abnormal|remarkable|of\s+note)|not\s+remarkable)\b",
    re.IGNORECASE,
)
_ABNORMAL = re.compile(
    r"\b(?:abnormal\w*|atypical|not\s+(?:normal|typical)|dysmorphic\s+(?:feature|appearance)\w*|wide\w*|narrow\w*"
    r"|short\w*|long\w*|thin\w*|thick\w*|broad\w*|flat\w*|depressed|prominent|small\w*|large\w*|full|bulbous"
    r"|(?:down|up)[\s-]?slant\w*|hyper\w+|hypo\w+|micro\w+|macro\w+|retrusion|deep[\s-]?set|ptosis|epicanth\w*"
    r"|upturned|anteverted|everted|tented|smooth\s+philtrum|asymmetr\w*|coloboma|strabismus|proptosis)\b",
    re.IGNORECASE,
)


_NEGATED = re.compile(r"\b(?:no|not|without|absent|absence\s+of)\s+(?:[\w-]+[\s,]+){0,3}?", re.IGNORECASE)


def reads_normal(text: str | None) -> bool:
    """Does a region's text say it is normal (and name no abnormal finding)?

    ``"Normal."``, ``"Unremarkable; no dysmorphic features"``, ``"Normal: measurements
    within the reference range (...)"`` are normal; ``"Normal shape but widely spaced"`` and
    empty text are not (an empty region is *missing*, which callers count apart). A finding
    after a negation (``"no hypertelorism"``) does not count as abnormal.
    """
    text = (text or "").strip()
    if not text or not _NORMAL.search(text):
        return False
    rest = _NORMAL.sub(" ", text)
    rest = re.sub(_NEGATED.pattern + rf"(?:{_ABNORMAL.pattern})", " ", rest, flags=re.IGNORECASE)
    return not _ABNORMAL.search(rest)
