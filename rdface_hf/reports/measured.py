"""``--model landmarks``: reports measured from landmarks, no vision-language model.

Dataset images use the landmarks stored by ``rdface build``; synthetic images are
measured afresh with the same detector (MediaPipe's face landmarker). The reference
statistics (head-pose slopes, the shared-variation regression, robust centre and spread) come
from the dataset's training images only and are saved beside the reports (``reference_stats.json``), with a digest of
the reference image ids.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from .._io import atomic_write_json
from .config import ReportConfig
from .hpo import table, terms
from .inputs import Source, reference_faces
from .landmark_report import ReferenceStats, landmark_report
from .measures import head_pose, measure_face, to_pixels
from .rows import base_row, empty_row
from .writer import ReportWriter

MODEL_NAME = "landmarks"


def _measure(points: np.ndarray | None) -> dict[str, float] | None:
    if points is None:
        return None
    try:
        return measure_face(points)
    except ValueError:  # degenerate landmarks: treated as no face
        return None


def fit_reference(config: ReportConfig, source: Source) -> tuple[ReferenceStats, dict[str, Any]]:
    """Reference statistics from the dataset's training images, and their record."""
    faces, ids, conditions = reference_faces(source.dataset, config.fold)
    poses = [head_pose(f) if f is not None else (float("nan"), float("nan")) for f in faces]
    stats = ReferenceStats.fit(
        [_measure(f) for f in faces], poses, adjust_pose=config.pose_adjust, conditions=conditions,
        adjust_noise=config.shared_variation_adjust, ridge=config.shared_variation_ridge,
    )  # fmt: skip
    record = {
        "fold": str(config.fold),
        "reference": "training images: "
        + (
            "every non-test image"
            if str(config.fold).strip().lower() == "test"
            else f"fold {config.fold}'s train split"
        ),
        "images": stats.images,
        "faces": stats.faces,
        "image_ids_sha256": hashlib.sha256("\n".join(sorted(ids)).encode()).hexdigest(),
        "pose": (
            f"yaw and pitch regressed out of every measure (least squares over {stats.posed_faces} "
            "training faces with 3-D landmarks), measures taken back to their median pose"
            if stats.pose_slope
            else "not adjusted"
        ),
        "pose_center": stats.pose_center,
        "pose_slope": stats.pose_slope,
        "shared_variation": (
            f"each measure corrected by what the other measures predict (ridge {config.shared_variation_ridge:g} "
            f"per row, fitted on {stats.noise_rows} within-condition differences of training faces)"
            if stats.noise_coef
            else "not adjusted"
        ),
        "shared_variation_mean": stats.noise_mean,
        "shared_variation_scale": stats.noise_scale,
        "shared_variation_coef": stats.noise_coef,
        "statistic": "median and 1.4826 x median absolute deviation (of the adjusted measures)",
        "center": stats.center,
        "scale": stats.scale,
        "hpo_table": table()["source"],
    }
    return stats, record


def _points(row: dict[str, Any], detector) -> np.ndarray | None:
    if row["image"] is None:
        return None
    if detector is None:
        width, height = row["image"].size
        return to_pixels(row["landmarks"], width, height)
    face = detector.detect(row["image"].convert("RGB"))
    if face is None:
        return None
    return face.points.astype(np.float64) * np.array([face.width, face.height, face.width], dtype=np.float64)


def _row(reference: ReferenceStats, points: np.ndarray | None, threshold: float | None) -> dict[str, Any]:
    measurement = _measure(points)
    if measurement is None:
        return empty_row("no_face")
    report = landmark_report(points, reference, threshold)
    z = report.z_scores
    values = {
        k: {"value": round(v, 6), "z": round(z[k], 3) if np.isfinite(z[k]) else None}
        for k, v in report.measurements.items()
    }
    for name, angle in zip(("head_yaw", "head_pitch"), report.pose):  # degrees; z: not a finding
        values[name] = {"value": round(angle, 3) if np.isfinite(angle) else None, "z": None}
    return {
        "status": "ok",
        "regions": report.regions,
        "text": report.text,
        "raw_text": report.text,
        "unparsed": "",
        "missing_regions": [],
        "hpo_terms": report.hpo_terms,
        "hpo_names": [terms()[t].name for t in report.hpo_terms],
        "measurements": json.dumps(values, sort_keys=True),
    }


def landmark_reports(
    config: ReportConfig, source: Source, todo: list[int], writer: ReportWriter, bar, prepared, reference_file: Path
) -> None:
    """Write a measured report for every row of ``todo``; ``prepared``: :func:`fit_reference`'s."""
    reference, record = prepared
    atomic_write_json(reference_file, record)
    settings = {
        "reference": record["reference"],
        "z_threshold": config.z_threshold or "per term (table)",
        "pose_adjust": bool(reference.pose_slope),
        "shared_variation_adjust": bool(reference.noise_coef),
    }
    provenance = {"model": MODEL_NAME, "model_revision": "", "prompt": "", "generation": json.dumps(settings)}
    detector = None
    if source.kind == "synthetic":
        from ..dataset.landmarks import FaceLandmarker  # mediapipe: only synthetic images are detected afresh

        detector = FaceLandmarker(config.landmarker)
    try:
        for batch in source.batches(todo, max(config.batch_size, 32)):
            for row in batch:
                cols = (
                    empty_row("unreadable", row["error"])
                    if row["image"] is None
                    else _row(reference, _points(row, detector), config.z_threshold)
                )
                writer.add({**base_row(source, row), **cols, **provenance})
            bar.update(len(batch))
    finally:
        if detector is not None:
            detector.close()
