"""The catalogue of dysmorphic features.

A feature (``"hypertelorism"``) is one signed direction of an **axis**
(``"telorism"``). An axis is either

- a **shape** axis: a smooth displacement field in the face frame
  (:mod:`.fields`) and, where MediaPipe has landmarks for it, a landmark
  measure (:mod:`.measures`) that the field changes; or
- an **appearance** axis: a change of the pixels (:mod:`.appearance`:
  eyebrows, synophrys, epicanthal folds, skin texture, the shading of a
  depressed nasal bridge) that no landmark measures.

Severity 1 is a clearly visible but plausible change.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from ..dataset.geometry import face_frame
from . import fields
from .measures import MEASURES, measure_all

Field = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Axis:
    """A facial dimension: a shape field or an appearance change, and what measures it."""

    name: str
    kind: str  # "shape" or "appearance"
    description: str
    field: Callable | None = None  # shape axes: (anchors, severity, points) -> displacements
    measure: str | None = None  # the landmark measure it changes, if MediaPipe has landmarks for it


def _shape(name: str, field, description: str | None = None) -> Axis:
    measure = name if name in MEASURES else None
    return Axis(name, "shape", description or MEASURES[name][1], field, measure)


AXES: dict[str, Axis] = {
    a.name: a
    for a in (
        _shape("telorism", fields.telorism),
        _shape("slant", fields.slant),
        _shape("fissure_length", fields.fissure),
        _shape("philtrum", fields.philtrum),
        _shape("mouth_width", fields.mouth_width),
        _shape("upper_lip", fields.upper_lip),
        _shape("jaw", fields.jaw),
        _shape("midface", fields.midface),
        _shape("bridge_width", fields.bridge_width),
        _shape("nose_length", fields.nose_length),
        _shape("cheeks", fields.cheeks),
        _shape("forehead", fields.forehead),
        _shape("face_length", fields.face_length),
        _shape("ear_position", fields.ear_position, "ear height (no MediaPipe landmark)"),
        Axis("eyebrows", "appearance", "eyebrow thickness and darkness"),
        Axis("synophrys", "appearance", "eyebrow hair across the glabella"),
        Axis("epicanthus", "appearance", "skin fold over the inner canthus"),
        Axis("skin_texture", "appearance", "coarse, mottled skin"),
        Axis("nasion_depth", "appearance", "shading of a depressed nasal bridge"),
    )
}


@dataclass(frozen=True)
class Feature:
    """A named dysmorphic feature: one signed direction of an axis."""

    name: str
    axis: str
    sign: float


FEATURES: dict[str, Feature] = {
    f.name: f
    for f in (
        Feature("hypertelorism", "telorism", 1.0),
        Feature("hypotelorism", "telorism", -1.0),
        Feature("upslanting palpebral fissures", "slant", 1.0),
        Feature("downslanting palpebral fissures", "slant", -1.0),
        Feature("short palpebral fissures", "fissure_length", -1.0),
        Feature("long philtrum", "philtrum", 1.0),
        Feature("short philtrum", "philtrum", -1.0),
        Feature("wide mouth", "mouth_width", 1.0),
        Feature("small mouth", "mouth_width", -1.0),
        Feature("thin upper lip", "upper_lip", -1.0),
        Feature("micrognathia", "jaw", -1.0),
        Feature("midface hypoplasia", "midface", -1.0),
        Feature("broad nasal bridge", "bridge_width", 1.0),
        Feature("depressed nasal bridge", "nasion_depth", 1.0),
        Feature("short nose", "nose_length", -1.0),
        Feature("full cheeks", "cheeks", 1.0),
        Feature("prominent forehead", "forehead", 1.0),
        Feature("long face", "face_length", 1.0),
        Feature("low-set ears", "ear_position", 1.0),
        Feature("thick eyebrows", "eyebrows", 1.0),
        Feature("sparse eyebrows", "eyebrows", -1.0),
        Feature("synophrys", "synophrys", 1.0),
        Feature("epicanthal folds", "epicanthus", 1.0),
        Feature("coarse skin texture", "skin_texture", 1.0),
    )
}


def axis_severities(severities: Mapping[str, float], kind: str | None = None) -> dict[str, float]:
    """Named feature severities -> signed severity per axis (of one ``kind``, or all)."""
    out: dict[str, float] = {}
    for name, sev in severities.items():
        if name not in FEATURES:
            raise KeyError(f"unknown feature {name!r}; known: {sorted(FEATURES)}")
        f = FEATURES[name]
        if kind is None or AXES[f.axis].kind == kind:
            out[f.axis] = out.get(f.axis, 0.0) + f.sign * float(sev)
    return out


def displacement_field(anchors: np.ndarray, severities: Mapping[str, float]) -> Field:
    """The combined displacement field of the named shape features on one face.

    ``anchors``: the undeformed (478, 2+) landmarks in face-frame coordinates.
    The returned function maps face-frame points (M, 2) to displacements (M, 2).
    """
    anchors = np.asarray(anchors, dtype=np.float64)[:, :2]
    terms = [(AXES[name], s) for name, s in axis_severities(severities, "shape").items() if s != 0.0]

    def field(p: np.ndarray) -> np.ndarray:
        p = np.asarray(p, dtype=np.float64).reshape(-1, 2)
        total = np.zeros_like(p)
        for axis, s in terms:
            total += axis.field(anchors, s, p)
        return total

    return field


def measure_features(points: np.ndarray) -> dict[str, float]:
    """Every landmark measure of (478, 2+) landmarks (pixels or normalised)."""
    return measure_all(points)


def apply_features(points: np.ndarray, severities: Mapping[str, float]) -> np.ndarray:
    """Landmarks (478, 2) after the shape features, in the same coordinates as given."""
    xy = np.asarray(points, dtype=np.float64)[:, :2]
    frame = face_frame(xy)
    f = frame.to_frame(xy)
    return frame.to_pixels(f + displacement_field(f, severities)(f))
