"""The paper's structured prompt: a clinical geneticist describes the face, region by region.

The prompt is one constant text for every image: it never holds a condition's name, an
abbreviation, a gene or any other label, so a report cannot echo the answer
(:func:`check_prompt` proves it for a dataset's names).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from .._errors import InputError
from ..metrics.report_similarity.sections import HEADINGS, REGIONS

SYSTEM_PROMPT = (
    "You are an experienced clinical geneticist specialising in dysmorphology. You describe facial "
    "features objectively, in standard dysmorphology terms (Human Phenotype Ontology wording where it fits)."
)

USER_PROMPT = (
    "Examine the face of the child in this photograph and write a structured dysmorphology report. "
    "Use exactly these six sections, in this order, each on its own line and starting with its heading "
    "followed by a colon:\n"
    + "\n".join(f"{HEADINGS[r]}:" for r in REGIONS)
    + "\nLeft and right are the patient's own (the patient's left eye is on the right side of the image). "
    "For each region describe shape, size, spacing and position, and name any dysmorphic feature; if a "
    "region looks typical, write 'Normal'. Under 'Suggested diagnosis', name the syndromes these features "
    "suggest, or write 'Uncertain'. Do not add other sections."
)


def messages(system: str = SYSTEM_PROMPT, user: str = USER_PROMPT) -> list[dict]:
    """The chat for one image, in the format of ``processor.apply_chat_template``."""
    return [
        {"role": "system", "content": [{"type": "text", "text": system}]},
        {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": user}]},
    ]


def prompt_text() -> str:
    """The whole prompt as recorded with each report."""
    return f"[system] {SYSTEM_PROMPT}\n[user] <image> {USER_PROMPT}"


def check_prompt(labels: Iterable[str], text: str | None = None) -> None:
    """Refuse a prompt that names any of ``labels`` (condition names, abbreviations, genes)."""
    text = prompt_text() if text is None else text
    leaked = sorted(
        {
            str(lab)
            for lab in labels
            if str(lab).strip() and re.search(rf"(?<!\w){re.escape(str(lab).strip())}(?!\w)", text, re.IGNORECASE)
        }
    )
    if leaked:
        raise InputError(f"the report prompt names label(s) {leaked[:5]}: it must not give the answer away")
