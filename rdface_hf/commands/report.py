"""``rdface report``: phenotype reports of dataset or synthetic images (VLM or measured)."""

from __future__ import annotations

from ..reports.config import ReportConfig

NAME = "report"
CONFIG = ReportConfig
HELP = "phenotype reports of faces: a vision-language model's, or measured from landmarks with HPO terms"
DESCRIPTION = (
    HELP + ". The output folder O loads with datasets.load_dataset(O) (split train); compare report sets with "
    "the report_similarity and hpo_similarity evaluate modules."
)


def run(config: ReportConfig) -> int:
    from ..reports.run import make_reports  # torch: kept out of the CLI's start-up

    result = make_reports(config)
    notes = []
    if result.unparsed:
        notes.append(f"{result.unparsed} with no recognisable section (kept raw)")
    if result.incomplete:
        notes.append(f"{result.incomplete} missing a section")
    if result.no_face:
        notes.append(f"{result.no_face} without a face")
    if result.unreadable:
        notes.append(f"{result.unreadable} unreadable images (rows with status unreadable)")
    print(
        f"wrote {result.new_reports} reports with {result.model} into {result.out} "
        f"({result.reports} in the folder; {', '.join(notes) or 'all complete'}) in {result.seconds:.1f} s"
    )
    return 0
