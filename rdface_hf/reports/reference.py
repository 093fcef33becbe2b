"""Reference statistics of landmark z-scores, from the training images only.

Three steps, all fitted on the reference (training) faces and nothing else:

1. **Head pose.** A face turned or tilted towards the camera foreshortens some distances and
   shifts heights and slants, so a turned head reads as a finding. Every measure is regressed on
   the head's yaw and pitch (:func:`~rdface_hf.reports.measures.head_pose`, from MediaPipe's
   3-D landmarks) by least squares over the reference faces, and each face's measure is taken
   back to the reference's median pose: ``adjusted = value - slope . (pose - median pose)``.
   Faces without depth (2-D landmarks) are left as they are.
2. **Individual variation shared between measures.** Faces differ in build (a wider face has a
   wider mouth and wider-set eyes), and that variation, not a syndrome, is most of what a single
   measure's spread holds. Within a condition, the faces share the condition's features, so the
   differences between faces of one condition are this individual variation (and pose,
   expression and landmark noise) alone. Each measure is regressed on the other measures by ridge
   regression over those within-condition differences of the reference faces (standardised
   measures, conditions with two or more reference faces, penalty ``ridge`` x the number of
   rows), and each face's measure is corrected by what its other measures predict:
   ``adjusted = value - scale . sum_j coef_j . (other_j - mean_j) / scale_j``. What a face's
   other measures say about its build is taken out; the ridge keeps a feature of one region from
   being read into another. Fitted from the training images' labels only (never a test image).
3. **Centre and spread.** RDFace holds patients, not a healthy population, so each adjusted
   measure's centre and spread are robust: the median and 1.4826 x the median absolute deviation
   (the standard deviation for normal data, barely moved by the tails that affected faces make).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from .._errors import InputError
from .._results import StageResult
from .measures import MEASURES

MAD_TO_SD = 1.4826
MIN_REFERENCE = 5  # faces needed for reference statistics
MIN_POSE_FIT = 12  # faces with depth needed to fit the pose slopes (fewer: no pose adjustment)
MIN_NOISE_FIT = 12  # within-condition rows needed to fit the shared-variation regression (fewer: none)
NOISE_RIDGE = 0.5  # ridge penalty of that regression, per within-condition row
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


def within_condition_rows(values: np.ndarray, conditions: Sequence) -> np.ndarray:
    """Deviations of each face from its condition's mean (conditions with two or more faces),
    scaled by sqrt(n / (n - 1)) so that every row has the variance of one face; (R, K)."""
    labels = np.asarray([str(c) for c in conditions])
    rows = []
    for label in dict.fromkeys(labels.tolist()):
        block = values[labels == label]
        if len(block) >= 2:
            rows.append((block - block.mean(axis=0)) * np.sqrt(len(block) / (len(block) - 1)))
    return np.vstack(rows) if rows else np.zeros((0, values.shape[1]))


def shared_variation(values: np.ndarray, conditions: Sequence, ridge: float = NOISE_RIDGE) -> np.ndarray | None:
    """Ridge coefficients (K, K), zero diagonal, predicting each standardised measure from the
    others over the within-condition rows of ``values`` (N, K); ``None`` with too few rows."""
    rows = within_condition_rows(values, conditions)
    if len(rows) < MIN_NOISE_FIT:
        return None
    k = values.shape[1]
    coef = np.zeros((k, k))
    penalty = ridge * len(rows) * np.eye(k - 1)
    for i in range(k):
        others = [j for j in range(k) if j != i]
        x = rows[:, others]
        coef[i, others] = np.linalg.solve(x.T @ x + penalty, x.T @ rows[:, i])
    return coef


@dataclass(frozen=True)
class ReferenceStats(StageResult):
    """Pose slopes, the shared-variation regression, centre and robust spread of every measure
    over the reference faces."""

    center: dict[str, float]
    scale: dict[str, float]
    faces: int  # reference images with landmarks
    images: int  # reference images in all
    pose_center: dict[str, float] = field(default_factory=dict)  # median yaw and pitch (empty: no adjustment)
    pose_slope: dict[str, list[float]] = field(default_factory=dict)  # measure -> [per deg yaw, per deg pitch]
    posed_faces: int = 0  # reference faces with a head pose (3-D landmarks)
    noise_mean: dict[str, float] = field(default_factory=dict)  # pose-adjusted mean (empty: no correction)
    noise_scale: dict[str, float] = field(default_factory=dict)  # and standard deviation, per measure
    noise_coef: dict[str, dict[str, float]] = field(default_factory=dict)  # measure -> {other measure: coef}
    noise_rows: int = 0  # within-condition rows the regression was fitted on

    @classmethod
    def fit(
        cls,
        measurements: Sequence[dict[str, float] | None],
        poses: Sequence[Pose] | None = None,
        *,
        adjust_pose: bool = True,
        conditions: Sequence | None = None,
        adjust_noise: bool = True,
        ridge: float = NOISE_RIDGE,
    ) -> ReferenceStats:
        """``measurements``: one per reference image (``None``: no face); ``poses``: their
        (yaw, pitch), NaN without depth; ``conditions``: their condition labels (without them,
        no shared-variation correction); ``adjust_pose=False`` / ``adjust_noise=False`` keep the
        raw measures."""
        poses = list(poses) if poses is not None else [NO_POSE] * len(measurements)
        if len(poses) != len(measurements):
            raise ValueError("one pose per measurement")
        if conditions is not None and len(conditions) != len(measurements):
            raise ValueError("one condition per measurement")
        labels = list(conditions) if conditions is not None else [None] * len(measurements)
        present = [(m, p) for m, p in zip(measurements, poses) if m is not None]
        present_labels = [c for m, c in zip(measurements, labels) if m is not None]
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
        if adjust_noise and conditions is not None:
            stats = stats._with_noise_fit([stats.adjusted(m, p) for m, p in present], present_labels, ridge)
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

    def _with_noise_fit(self, adjusted: list[dict[str, float]], labels: list, ridge: float) -> ReferenceStats:
        """These statistics plus the shared-variation regression, fitted on the pose-adjusted
        measures of the reference faces whose every measure is finite."""
        values = np.array([[a.get(n, float("nan")) for n in MEASURES] for a in adjusted], dtype=np.float64)
        # measures that vary over the reference (finite on most faces, some spread) take part; a
        # measure that does not (a degenerate or unmeasurable one) is left as it is
        usable = np.isfinite(values).mean(axis=0) >= 0.5
        spread = np.array([np.nanstd(c) if ok else 0.0 for c, ok in zip(values.T, usable)])
        usable &= spread > 0
        names = [n for n, ok in zip(MEASURES, usable) if ok]
        values = values[:, usable]
        finite = np.isfinite(values).all(axis=1)
        values, labels = values[finite], [c for c, ok in zip(labels, finite) if ok]
        if len(names) < 2 or not len(values):
            return self
        mean, scale = values.mean(axis=0), values.std(axis=0)
        if not (scale > 0).all():
            return self
        coef = shared_variation((values - mean) / scale, labels, ridge)
        if coef is None:
            return self
        return replace(
            self,
            noise_mean=dict(zip(names, mean.tolist())),
            noise_scale=dict(zip(names, scale.tolist())),
            noise_coef={n: {o: float(c) for o, c in zip(names, row) if o != n} for n, row in zip(names, coef)},
            noise_rows=len(within_condition_rows(values, labels)),
        )

    def adjusted(self, measurement: dict[str, float], pose: Pose = NO_POSE) -> dict[str, float]:
        """The measures taken back to the reference's median head pose (unchanged without a pose
        or without pose slopes), then corrected for the variation they share (unchanged without
        that regression; a missing other measure counts as average)."""
        out = dict(measurement)
        if self.pose_slope and np.isfinite(pose).all():
            dy, dp = pose[0] - self.pose_center["yaw"], pose[1] - self.pose_center["pitch"]
            for name, (a, b) in self.pose_slope.items():
                if name in out:
                    out[name] = out[name] - a * dy - b * dp
        if self.noise_coef:
            std = {}
            for name, mean in self.noise_mean.items():
                value = out.get(name, float("nan"))
                std[name] = (value - mean) / self.noise_scale[name] if np.isfinite(value) else 0.0
            posed = dict(out)
            for name, coef in self.noise_coef.items():
                if name in posed and np.isfinite(posed[name]):
                    predicted = sum(c * std[o] for o, c in coef.items())
                    out[name] = posed[name] - self.noise_scale[name] * predicted
        return out

    def z_scores(self, measurement: dict[str, float], pose: Pose = NO_POSE) -> dict[str, float]:
        """z of each adjusted measure (pose, then shared variation); NaN where the reference has no
        spread or the value is missing."""
        adjusted = self.adjusted(measurement, pose)
        out = {}
        for name in MEASURES:
            value, scale = adjusted.get(name, float("nan")), self.scale[name]
            out[name] = (value - self.center[name]) / scale if scale > 0 and np.isfinite(value) else float("nan")
        return out
