"""Reports measured from landmarks: z-scores against reference statistics, HPO terms, text.

The reference is the training images of the dataset (a fold's training split, or every
non-test image), never its test images. RDFace holds patients, not a healthy population,
so each measure's centre and spread are robust: the median and 1.4826 x the median
absolute deviation (the standard deviation for normal data, barely moved by the tails
that affected faces make). A z-score beyond a term's threshold (2, as HPO's "more than two
standard deviations" definitions) gives the term.

The text follows the report layout of the vision-language reports (overall impression,
left eye, right eye, nose, mouth and lips, suggested diagnosis), so both kinds of report
compare with the same metric. A region with no finding reads ``Normal: measurements within the reference range.`` (the
values are in the ``measurements`` column, not in the text that the similarity metric reads).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .._errors import InputError
from .._results import StageResult
from ..metrics.report_similarity.sections import REGIONS, render_report
from .hpo import HpoTerm, measured_terms
from .measures import MEASURES, measure_face

MAD_TO_SD = 1.4826
MIN_REFERENCE = 5  # faces needed for reference statistics
DIAGNOSIS_TEXT = "Not assessed (a report measured from landmarks suggests no diagnosis)."


@dataclass(frozen=True)
class ReferenceStats(StageResult):
    """Centre and robust spread of every measure over the reference faces."""

    center: dict[str, float]
    scale: dict[str, float]
    faces: int  # reference images with landmarks
    images: int  # reference images in all

    @classmethod
    def fit(cls, measurements: Sequence[dict[str, float] | None]) -> ReferenceStats:
        present = [m for m in measurements if m is not None]
        if len(present) < MIN_REFERENCE:
            raise InputError(
                f"only {len(present)} reference (training) image(s) have landmarks; "
                f"z-scores need at least {MIN_REFERENCE}"
            )
        center, scale = {}, {}
        for name in MEASURES:
            values = np.array([m[name] for m in present], dtype=np.float64)
            values = values[np.isfinite(values)]
            med = float(np.median(values)) if len(values) else float("nan")
            spread = MAD_TO_SD * float(np.median(np.abs(values - med))) if len(values) else 0.0
            if not spread > 0 and len(values) > 1:
                spread = float(np.std(values, ddof=1))
            center[name], scale[name] = med, spread
        return cls(center=center, scale=scale, faces=len(present), images=len(measurements))

    def z_scores(self, measurement: dict[str, float]) -> dict[str, float]:
        """z of each measure; NaN where the reference has no spread or the value is missing."""
        out = {}
        for name in MEASURES:
            value, scale = measurement.get(name, float("nan")), self.scale[name]
            out[name] = (value - self.center[name]) / scale if scale > 0 and np.isfinite(value) else float("nan")
        return out


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


def landmark_report(points_px: np.ndarray, reference: ReferenceStats, threshold: float | None = None) -> LandmarkReport:
    """The measured report of one face ((478, 2+) landmarks in pixels)."""
    measurement = measure_face(points_px)
    z = reference.z_scores(measurement)
    fs = findings(z, threshold)
    regions = render_regions(z, fs)
    return LandmarkReport(
        regions=regions,
        text=render_report(regions),
        hpo_terms=[f.term.id for f in fs],
        measurements=measurement,
        z_scores=z,
    )
