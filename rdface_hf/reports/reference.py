"""Reference statistics of landmark z-scores, from the training images only.

Two steps, both fitted on the reference (training) faces and nothing else:

1. **Head pose.** A face turned or tilted towards the camera foreshortens some distances and
   shifts heights and slants, so a turned head reads as a finding. Every measure is regressed on
   the head's yaw and pitch (:func:`~rdface_hf.reports.measures.head_pose`, from MediaPipe's
   3-D landmarks) by least squares over the reference faces, and each face's measure is taken
   back to the reference's median pose: ``adjusted = value - slope . (pose - median pose)``.
   Faces without depth (2-D landmarks) are left as they are.
2. **Centre and spread.** RDFace holds patients, not a healthy population, so each adjusted
   measure's centre and spread are robust: the median and 1.4826 x the median absolute deviation
   (the standard deviation for normal data, barely moved by the tails that affected faces make).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .._errors import InputError
from .._results import StageResult
from .measures import MEASURES

MAD_TO_SD = 1.4826
MIN_REFERENCE = 5  # faces needed for reference statistics
MIN_POSE_FIT = 12  # faces with depth needed to fit the pose slopes (fewer: no pose adjustment)
POSE = ("yaw", "pitch")
Pose = tuple[float, float]
NO_POSE: Pose = (float("nan"), float("nan"))


def pose_slopes(values: np.ndarray, poses: np.ndarray) -> list[float]:
    """Least-squares slopes (per degree of yaw, of pitch) of ``values`` (N,) on ``poses`` (N, 2),
    with an intercept, over the rows where both are finite; zeros with too few rows or no spread."""
    ok = np.isfinite(values) & np.isfinite(poses).all(axis=1)
    if ok.sum() < MIN_POSE_FIT or not (np.ptp(poses[ok], axis=0) > 0).all():
        return [0.0, 0.0]
    x = np.column_stack([np.ones(int(ok.sum())), poses[ok]])
    coef = np.linalg.lstsq(x, values[ok], rcond=None)[0]
    return [float(coef[1]), float(coef[2])]


@dataclass(frozen=True)
class ReferenceStats(StageResult):
    """Pose slopes, centre and robust spread of every measure over the reference faces."""

    center: dict[str, float]
    scale: dict[str, float]
    faces: int  # reference images with landmarks
    images: int  # reference images in all
    pose_center: dict[str, float] = field(default_factory=dict)  # median yaw and pitch (empty: no adjustment)
    pose_slope: dict[str, list[float]] = field(default_factory=dict)  # measure -> [per deg yaw, per deg pitch]
    posed_faces: int = 0  # reference faces with a head pose (3-D landmarks)

    @classmethod
    def fit(
        cls,
        measurements: Sequence[dict[str, float] | None],
        poses: Sequence[Pose] | None = None,
        *,
        adjust_pose: bool = True,
    ) -> ReferenceStats:
        """``measurements``: one per reference image (``None``: no face); ``poses``: their
        (yaw, pitch), NaN without depth; ``adjust_pose=False`` keeps the raw measures."""
        poses = list(poses) if poses is not None else [NO_POSE] * len(measurements)
        if len(poses) != len(measurements):
            raise ValueError("one pose per measurement")
        present = [(m, p) for m, p in zip(measurements, poses) if m is not None]
        if len(present) < MIN_REFERENCE:
            raise InputError(
                f"only {len(present)} reference (training) image(s) have landmarks; "
                f"z-scores need at least {MIN_REFERENCE}"
            )
        pose = np.array([p for _, p in present], dtype=np.float64).reshape(-1, 2)
        posed = int(np.isfinite(pose).all(axis=1).sum())
        pose_center: dict[str, float] = {}
        slopes: dict[str, list[float]] = {}
        if adjust_pose and posed >= MIN_POSE_FIT:
            pose_center = dict(zip(POSE, np.median(pose[np.isfinite(pose).all(axis=1)], axis=0).tolist()))
            for name in MEASURES:
                slopes[name] = pose_slopes(np.array([m[name] for m, _ in present], dtype=np.float64), pose)
        stats = cls(center={}, scale={}, faces=len(present), images=len(measurements), pose_center=pose_center,
                    pose_slope=slopes, posed_faces=posed)  # fmt: skip
        adjusted = [stats.adjusted(m, p) for m, p in present]
        for name in MEASURES:
            values = np.array([a[name] for a in adjusted], dtype=np.float64)
            values = values[np.isfinite(values)]
            med = float(np.median(values)) if len(values) else float("nan")
            spread = MAD_TO_SD * float(np.median(np.abs(values - med))) if len(values) else 0.0
            if not spread > 0 and len(values) > 1:
                spread = float(np.std(values, ddof=1))
            stats.center[name], stats.scale[name] = med, spread
        return stats

    def adjusted(self, measurement: dict[str, float], pose: Pose = NO_POSE) -> dict[str, float]:
        """The measures taken back to the reference's median head pose (unchanged without a pose
        or without pose slopes)."""
        if not self.pose_slope or not np.isfinite(pose).all():
            return dict(measurement)
        dy, dp = pose[0] - self.pose_center["yaw"], pose[1] - self.pose_center["pitch"]
        out = dict(measurement)
        for name, (a, b) in self.pose_slope.items():
            if name in out:
                out[name] = out[name] - a * dy - b * dp
        return out

    def z_scores(self, measurement: dict[str, float], pose: Pose = NO_POSE) -> dict[str, float]:
        """z of each (pose-adjusted) measure; NaN where the reference has no spread or the value is missing."""
        adjusted = self.adjusted(measurement, pose)
        out = {}
        for name in MEASURES:
            value, scale = adjusted.get(name, float("nan")), self.scale[name]
            out[name] = (value - self.center[name]) / scale if scale > 0 and np.isfinite(value) else float("nan")
        return out
