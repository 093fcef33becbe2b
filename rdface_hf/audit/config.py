"""Settings of ``rdface audit-synthetic`` (light: no dlib, no image code)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from .._config import StageConfig, option, require
from .._results import StageResult
from ..dataset.folds import check_fold


@dataclass
class AuditConfig(StageConfig):
    """Settings of one audit (saved as ``audit_config.json`` beside its output)."""

    stage: ClassVar[str] = "audit"
    private: ClassVar[tuple[str, ...]] = ("output_dir", "overwrite", "face_landmarker", "workers", "progress")

    synthetic: str = option(help="the synthetic set to audit (any folder written by a generator, filter or merge)")
    dataset: str = option(help="RDFace build folder or Hub dataset id: every real image is compared, test included")
    output_dir: str = option(help="output folder O: per-image rows, summary, histogram", metavar="O", run_only=True)
    fold: str = option(
        "test",
        help="fold K whose training split the generator could have seen (nearest real images are labelled "
        "training / validation / test); 'test': every non-test image. Every real image is compared either way",
    )
    threshold: float | None = option(
        None,
        help="face-identity distance below which an image is a near copy (default: calibrated on the dataset, "
        "the --percentile of real-to-nearest-other-real distances)",
    )
    percentile: float = option(1.0, help="percentile of real-to-nearest-other-real distances that calibrates")
    same_person: float = option(0.6, help="dlib's same-person rule, reported for reference (not the flag)")
    neighbours: int = option(3, help="nearest real faces listed per synthetic image")
    altered_copies: int = option(
        100, help="real images whose altered copies (flip, crop, re-compression, colour jitter) are measured"
    )
    include_faces: bool = option(
        False, help="write contact_sheet.png of the closest pairs even when the dataset is not simulated (gated)"
    )
    pairs: int = option(16, help="closest synthetic-real pairs on the contact sheet")
    face_landmarker: str | None = option(
        None, help="face_landmarker.task (default: $RDFACE_FACE_LANDMARKER, then the cache)", run_only=True
    )
    workers: int | None = option(None, help="landmark worker processes (default: all cores)", run_only=True)
    progress: bool = option(True, help="show progress bars", run_only=True)
    overwrite: bool = option(False, help="replace O if this command wrote it before", run_only=True)

    def validate(self) -> None:
        for name in ("dataset", "synthetic", "output_dir"):
            require(bool(str(getattr(self, name) or "").strip()), name, "must be given")
        check_fold(self.fold)
        for name in ("threshold", "same_person"):
            value = getattr(self, name)
            ok = value is None or (math.isfinite(float(value)) and float(value) > 0)
            require(ok, name, f"must be a positive distance, got {value}")
        require(0 <= float(self.percentile) <= 100, "percentile", f"must be 0..100, got {self.percentile}")
        require(int(self.neighbours) >= 1, "neighbours", f"must be at least 1, got {self.neighbours}")
        require(int(self.altered_copies) >= 0, "altered_copies", f"must be 0 or more, got {self.altered_copies}")
        require(int(self.pairs) >= 1, "pairs", f"must be at least 1, got {self.pairs}")
        require(self.workers is None or self.workers >= 1, "workers", f"must be at least 1, got {self.workers}")


@dataclass(frozen=True)
class AuditResult(StageResult):
    """What an audit found (also in ``summary.json``)."""

    out: Path
    images: int
    embedded: int
    near_copies: int
    same_person: int
    threshold: float
    contact_sheet: bool
    seconds: float
