"""The bundled table of facial Human Phenotype Ontology terms (``hpo_terms.json``).

Each term has its HPO id, name and definition (copied verbatim from the HPO release the
table names), the report region it belongs to, a short phrase for report text, and
synonyms (HPO's exact synonyms and common clinical wording). Terms that a frontal
landmark measure can show also name that ``measure``, a ``direction`` (``high`` or
``low``) and a z-score ``threshold``: ``|z| >= threshold`` in that direction gives the term.
The others are there to annotate what a vision-language model writes (:func:`annotate`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

TABLE_FILE = "hpo_terms.json"
HPO_ID = re.compile(r"^HP:\d{7}$")


@dataclass(frozen=True)
class HpoTerm:
    id: str
    name: str
    definition: str
    region: str  # impression, eyes (both eyes), nose or mouth
    phrase: str
    synonyms: tuple[str, ...]
    measure: str | None = None
    direction: str | None = None  # "high" or "low"
    threshold: float | None = None

    @property
    def measured(self) -> bool:
        return self.measure is not None

    def fires(self, z: float, threshold: float | None = None) -> bool:
        """Does a z-score of its measure give this term (at ``threshold``, default its own)?"""
        if self.measure is None or z != z:  # NaN: no finding
            return False
        limit = self.threshold if threshold is None else threshold
        return z >= limit if self.direction == "high" else z <= -limit


@cache
def table() -> dict:
    """The raw table (source, licence note and terms)."""
    return json.loads(resources.files(__package__).joinpath(TABLE_FILE).read_text(encoding="utf-8"))


@cache
def terms() -> dict[str, HpoTerm]:
    """Terms by id, in table order."""
    out = {}
    for t in table()["terms"]:
        out[t["id"]] = HpoTerm(
            id=t["id"],
            name=t["name"],
            definition=t["definition"],
            region=t["region"],
            phrase=t["phrase"],
            synonyms=tuple(t["synonyms"]),
            measure=t.get("measure"),
            direction=t.get("direction"),
            threshold=t.get("threshold"),
        )
    return out


def measured_terms() -> list[HpoTerm]:
    return [t for t in terms().values() if t.measured]


def term_ids_for(name: str) -> list[str]:
    """Ids of the terms whose name or a synonym is ``name`` (case and hyphens ignored)."""
    key = _norm(name)
    return [t.id for t in terms().values() if key in {_norm(s) for s in (t.name, *t.synonyms)}]


def _norm(text: str) -> str:
    return re.sub(r"[\s\-]+", " ", text.strip().lower())


_NEGATION = r"(?:\bno\b|\bnot\b|\bwithout\b|\babsen(?:t|ce\s+of)\b|\bnegative\s+for\b|\brather\s+than\b)"


@cache
def _patterns() -> list[tuple[str, re.Pattern]]:
    out = []
    for t in terms().values():
        names = sorted({_norm(s) for s in (t.name, *t.synonyms)}, key=len, reverse=True)
        alternation = "|".join(re.escape(n).replace(r"\ ", r"[\s\-]+") for n in names)
        out.append((t.id, re.compile(rf"\b(?:{alternation})\b", re.IGNORECASE)))
    return out


def annotate(text: str | None) -> list[str]:
    """HPO ids whose name or synonym ``text`` mentions, unless negated in the same clause
    (``"no hypertelorism"``, ``"without a long philtrum"``). A dictionary match, not NLP:
    table order, each id once."""
    text = text or ""
    found = []
    for term_id, pattern in _patterns():
        for m in pattern.finditer(text):
            clause = re.split(r"[.;:!?\n]|\bbut\b|\bhowever\b", text[: m.start()])[-1]
            if not re.search(_NEGATION, clause, re.IGNORECASE):
                found.append(term_id)
                break
    return found
