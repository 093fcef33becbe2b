"""Which CSV columns a build publishes: the six standard ones, a short allow-list
of non-identifying fields, and what ``--keep-columns`` names.

Every other column is dropped (named on stderr and in ``build_config.json``).
A column whose name or values look identifying (a name, a birth date, a record
number, an address, a phone number, an e-mail address) is dropped even when it
is on the allow-list; ``--keep-columns`` publishes it, with a warning.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .._errors import InputError
from .release import REQUIRED_COLUMNS, RawRelease

# Published by default (matched case-insensitively): non-identifying fields of a photograph.
ALLOWED_COLUMNS = {
    "age": "age of the person shown (as given in the release)",
    "age_group": "age group of the person shown",
    "sex": "sex of the person shown",
    "source": "where the photograph was published (paper, foundation)",
}
# Published by default in a simulated release: the simulator's patient id names no person.
SIMULATED_COLUMNS = {"identity": "simulated patient id (a made-up face, not a person)"}

# Column-name parts that suggest a person's identity or contact details.
IDENTIFYING_WORDS = (
    "name",
    "initials",
    "birth",
    "born",
    "record",
    "address",
    "street",
    "postcode",
    "zipcode",
    "phone",
    "mobile",
    "email",
    "passport",
    "insurance",
    "socialsecurity",
    "patient",
    "contact",
    "ident",
    "guardian",
    "parent",
)
IDENTIFYING_TOKENS = ("dob", "mrn", "ssn", "nhs", "zip", "ip", "tel", "fax", "id", "dni", "nir", "pid")
IDENTIFYING_VALUES = (
    ("e-mail addresses", re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")),
    ("dates", re.compile(r"\b(1[89]|20)\d\d-[01]?\d-[0-3]?\d\b|\b[0-3]?\d[/.][01]?\d[/.](1[89]|20)?\d\d\b")),
    ("phone numbers", re.compile(r"(?<![\w.])\+?\d{1,4}(?:[ ().-]{1,2}\d{2,5}){2,5}(?![\w.])")),
)


def identifying_reason(column: str, values: list[str]) -> str | None:
    """Why ``column`` looks identifying (``None`` if it does not)."""
    flat = re.sub(r"[^a-z0-9]", "", column.lower())
    tokens = re.findall(r"[a-z]+|[0-9]+", re.sub(r"([a-z])([A-Z])", r"\1_\2", column).lower())
    words = [w for w in IDENTIFYING_WORDS if w in flat]
    words += [t for t in IDENTIFYING_TOKENS if t in tokens]
    if words:
        return f"its name ({', '.join(words)})"
    for what, pattern in IDENTIFYING_VALUES:
        digits = 9 if what == "phone numbers" else 0  # a phone number has at least 9 digits
        hits = [v for v in values if any(sum(c.isdigit() for c in m.group()) >= digits for m in pattern.finditer(v))]
        if hits:
            return f"values that look like {what} ({len(hits)} rows)"
    return None


def parse_column_list(text: str | None) -> tuple[str, ...]:
    """``"age, dob"`` -> ``("age", "dob")`` (duplicates and blanks removed)."""
    if not text:
        return ()
    return tuple(dict.fromkeys(c.strip() for c in str(text).split(",") if c.strip()))


@dataclass(frozen=True)
class ColumnPolicy:
    """The extra columns a build publishes and drops, and why."""

    published: tuple[str, ...]
    dropped: tuple[str, ...]
    identifying: dict[str, str] = field(default_factory=dict)  # column -> why it looks identifying

    def record(self) -> dict:
        """What ``build_config.json`` keeps about the columns (names only, no values)."""
        return {
            "published": [*REQUIRED_COLUMNS, *self.published],
            "dropped": list(self.dropped),
            "identifying": dict(sorted(self.identifying.items())),
        }

    def messages(self) -> list[str]:
        """At most two lines for stderr: what was dropped, what was kept although identifying."""
        lines = []
        if self.dropped:
            flagged = [c for c in self.dropped if c in self.identifying]
            why = (
                f"; {', '.join(map(repr, flagged))} look{'s' if len(flagged) == 1 else ''} identifying"
                if flagged
                else ""
            )
            lines.append(
                f"rdface build: note: not published: {len(self.dropped)} column(s) {list(self.dropped)} "
                f"(published: the standard columns and {', '.join(ALLOWED_COLUMNS)}; --keep-columns adds others{why}); "
                "listed in build_config.json"
            )
        kept = [c for c in self.published if c in self.identifying]
        if kept:
            detail = "; ".join(f"{c!r}: {self.identifying[c]}" for c in kept)
            lines.append(f"rdface build: warning: --keep-columns publishes columns that look identifying: {detail}")
        return lines


def column_policy(release: RawRelease, keep: tuple[str, ...] = ()) -> ColumnPolicy:
    """Decide, for every extra column of ``release``, whether it is published."""
    extras = release.extra_columns
    unknown = [c for c in keep if c not in release.columns]
    if unknown:
        raise InputError(
            f"--keep-columns names {unknown}, not columns of the CSV (its extra columns: {list(extras) or 'none'})"
        )
    allowed = {c.lower() for c in (*ALLOWED_COLUMNS, *(SIMULATED_COLUMNS if release.simulated else ()))}
    published, dropped, identifying = [], [], {}
    for column in extras:
        values = [row.values.get(column, "") for row in release.rows if row.problem is None]
        why = identifying_reason(column, [v for v in values if v])
        simulated_id = release.simulated and column in SIMULATED_COLUMNS
        if why and not simulated_id:
            identifying[column] = why
        if column in keep or (column.lower() in allowed and column not in identifying):
            published.append(column)
        else:
            dropped.append(column)
    return ColumnPolicy(tuple(published), tuple(dropped), identifying)


def describe(column: str) -> str:
    """The card's description of a published extra column."""
    for table in (ALLOWED_COLUMNS, SIMULATED_COLUMNS):
        for name, text in table.items():
            if name == column.lower():
                return text
    return "extra column of the release, published with --keep-columns"
