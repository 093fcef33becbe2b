"""Reports measured from landmarks: z-scores against reference statistics, HPO terms, text.

The reference is the training images of the dataset (a fold's training split, or every
non-test image), never its test images (:mod:`.reference`: the head pose regressed out of
every measure, the variation measures share within a condition corrected, then robust centre
and spread). A z-score beyond a term's threshold (2, as
HPO's "more than two standard deviations" definitions) gives the term.

The text follows the report layout of the vision-language reports (overall impression,
left eye, right eye, nose, mouth and lips, suggested diagnosis), so both kinds of report
compare with the same metric. A region with no finding reads ``Normal: measurements within the reference range.`` (the
values are in the ``measurements`` column, not in the text that the similarity metric reads).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..metrics.report_similarity.sections import REGIONS, render_report
from .hpo import HpoTerm, measured_terms
from .measures import MEASURES, head_pose, measure_face
from .reference import MAD_TO_SD, MIN_REFERENCE, ReferenceStats

__all__ = ["MAD_TO_SD", "MIN_REFERENCE", "LandmarkReport", "ReferenceStats", "findings", "landmark_report"]
DIAGNOSIS_TEXT = "Not assessed (a report measured from landmarks suggests no diagnosis)."


@dataclass(frozen=True)
class Finding:
    term: HpoTerm
    measure: str
    z: float


def findings(z: dict[str, float], threshold: float | None = None) -> list[Finding]:
    """The HPO terms that the z-scores give (table order); ``threshold`` overrides the table's."""
    return [
        Finding(t, t.measure, z[t.measure])
        for t in measured_terms()
        if t.fires(z.get(t.measure, float("nan")), threshold)
    ]


def _zs(z: float) -> str:
    return f"z = {z:+.1f}"


def _describe(f: Finding, side: str | None = None) -> str:
    measure = MEASURES[f.measure].description
    where = f" ({side} eye)" if side else ""
    return f"{f.term.phrase.capitalize()}{where}: {measure} {_zs(f.z)} ({f.term.name}, {f.term.id})."


NORMAL_TEXT = "Normal: measurements within the reference range."


def _eye_text(side: str, fs: list[Finding], z: dict[str, float]) -> str:
    """An eye: the bilateral findings, with this eye's own value where it has one."""
    parts = []
    for f in fs:
        own = f"{f.measure}_{side}"
        value = z.get(own, f.z) if own in MEASURES else f.z
        parts.append(_describe(Finding(f.term, own if own in MEASURES else f.measure, value), side))
    return " ".join(parts) if parts else NORMAL_TEXT


def render_regions(z: dict[str, float], fs: list[Finding]) -> dict[str, str]:
    """Text of every report region for one face."""
    by_region: dict[str, list[Finding]] = {r: [] for r in ("impression", "eyes", "nose", "mouth")}
    for f in fs:
        by_region[f.term.region].append(f)
    regions = {
        "left_eye": _eye_text("left", by_region["eyes"], z),
        "right_eye": _eye_text("right", by_region["eyes"], z),
        "nose": " ".join(_describe(f) for f in by_region["nose"]) or NORMAL_TEXT,
        "mouth": " ".join(_describe(f) for f in by_region["mouth"]) or NORMAL_TEXT,
        "diagnosis": DIAGNOSIS_TEXT,
    }
    overall = " ".join(_describe(f) for f in by_region["impression"])
    named = [f.term.name.lower() for f in fs]
    if named:
        summary = f"Measured facial findings: {', '.join(named)}."
        regions["impression"] = summary + (" " + overall if overall else "")
    else:
        regions["impression"] = "Normal: no facial measurement outside the reference range."
    return {r: regions[r] for r in REGIONS}


@dataclass(frozen=True)
class LandmarkReport:
    regions: dict[str, str]
    text: str
    hpo_terms: list[str]
    measurements: dict[str, float]
    z_scores: dict[str, float]
    pose: tuple[float, float]  # head yaw and pitch, degrees (NaN without 3-D landmarks)


def landmark_report(points_px: np.ndarray, reference: ReferenceStats, threshold: float | None = None) -> LandmarkReport:
    """The measured report of one face ((478, 2+) landmarks in pixels; with MediaPipe's depth as a
    third column, the head pose is regressed out as the reference says)."""
    measurement = measure_face(points_px)
    pose = head_pose(points_px)
    z = reference.z_scores(measurement, pose)
    fs = findings(z, threshold)
    regions = render_regions(z, fs)
    return LandmarkReport(
        regions=regions,
        text=render_report(regions),
        hpo_terms=[f.term.id for f in fs],
        measurements=measurement,
        z_scores=z,
        pose=pose,
    )
