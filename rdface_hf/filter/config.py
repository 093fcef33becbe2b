"""Settings of ``rdface filter`` and ``rdface merge`` (light: no torch, no image code)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Literal

from .._config import StageConfig, option, require
from .._results import StageResult
from ..dataset.folds import check_fold

SCORES = ("landmarks", "paper5pt", "embedding")
MODES = ("threshold", "top-n-per-condition", "global-top-n")
DEFAULT_TOP_N_PER_CONDITION = 10


def _check_threshold(value: float | None, field: str) -> None:
    if value is not None:
        ok = math.isfinite(float(value)) and float(value) > 0
        require(ok, field, f"must be a positive face-identity distance (dlib: 0.6 is the same person), got {value}")


@dataclass
class FilterConfig(StageConfig):
    """Settings of one filter run (saved as ``filter_config.json`` beside its output)."""

    stage: ClassVar[str] = "filter"
    # Where and how a run happens, not what it makes: left out of the saved config (so the
    # output does not depend on them; pass them again when rerunning with --config).
    private: ClassVar[tuple[str, ...]] = (
        "output_dir", "overwrite", "landmark_cache", "face_landmarker", "workers", "progress", "batch_size",
    )  # fmt: skip

    dataset: str = option(help="RDFace build folder or Hub dataset id (prototypes come from its training split)")
    synthetic: str = option(help="the synthetic set to score (a folder written by 'rdface generate' or any generator)")
    output_dir: str = option(help="output folder O: the scored set, summary, histogram", metavar="O", run_only=True)
    fold: str = option(
        "0", help="fold K (prototypes from fold K's train split), or 'test' (every non-test image: the final set)"
    )
    score: Literal["landmarks", "paper5pt", "embedding"] = option(
        "landmarks",
        help="landmarks: 478-point shape and 32 facial measures against the condition's prototype (likelihood "
        "ratio, margin, regions, identity factored out); paper5pt: the RDFace paper's 5-point cosine; embedding: "
        "cosine to the condition's image-embedding centroid",
    )
    mode: Literal["threshold", "top-n-per-condition", "global-top-n"] = option(
        "top-n-per-condition",
        help="threshold: keep scores >= --threshold; top-n-per-condition: the best --top-n of each condition; "
        "global-top-n: the best --top-n overall (the paper's selection)",
    )
    threshold: float | None = option(
        None, help="keep scores >= this (required with --mode threshold; a floor in the top-n modes)"
    )
    top_n: int | None = option(
        None,
        help=f"images to keep: per condition (top-n-per-condition, default {DEFAULT_TOP_N_PER_CONDITION}) "
        "or in all (global-top-n, required)",
    )
    embedding_model: str = option(
        "facebook/dinov2-small",
        help="embedding: any transformers vision backbone (Hub id or local folder); frozen, never trained",
    )
    embedding_revision: str | None = option(None, help="embedding: the model's revision (branch, tag or commit)")
    batch_size: int = option(32, help="embedding: images per forward pass", run_only=True)
    reject_near_copies: bool = option(
        True,
        help="never keep a near copy of a training face (face-identity distance below --near-copy-threshold to "
        "any of the fold's training images); runs when the face model is installed (rdface_hf[face]), a note "
        "says when it is not",
    )
    near_copy_threshold: float | None = option(
        None,
        help="face-identity distance below which an image is a near copy (default: the 1st percentile of the "
        "training images' distances to their nearest other training image)",
    )
    landmark_cache: str | None = option(
        None,
        help="folder of cached landmarks keyed by image content hash (default: $RDFACE_CACHE/filter_landmarks)",
        run_only=True,
    )
    face_landmarker: str | None = option(
        None,
        help="face_landmarker.task (default: $RDFACE_FACE_LANDMARKER, then the cache)",
        run_only=True,
        flag="--landmarker",
        aliases=("--landmarker-model",),
        metavar="PATH",
    )
    workers: int | None = option(None, help="landmark worker processes (default: all cores)", run_only=True)
    progress: bool = option(True, help="progress bars on stderr", run_only=True)
    overwrite: bool = option(False, help="replace O if this command wrote it before", run_only=True)

    def validate(self) -> None:
        for name in ("dataset", "synthetic", "output_dir"):
            require(bool(str(getattr(self, name) or "").strip()), name, "must be given")
        check_fold(self.fold)
        require(self.score in SCORES, "score", f"must be one of {', '.join(SCORES)}, got {self.score!r}")
        require(self.mode in MODES, "mode", f"must be one of {', '.join(MODES)}, got {self.mode!r}")
        if self.threshold is not None:
            require(math.isfinite(float(self.threshold)), "threshold", f"must be a finite number, got {self.threshold}")
        require(
            self.mode != "threshold" or self.threshold is not None, "threshold", "is required with --mode threshold"
        )
        require(self.mode != "global-top-n" or self.top_n is not None, "top_n", "is required with --mode global-top-n")
        require(self.top_n is None or int(self.top_n) >= 1, "top_n", f"must be at least 1, got {self.top_n}")
        require(
            self.top_n is None or self.mode != "threshold",
            "top_n",
            "applies to the top-n modes only (with --mode threshold, every score >= --threshold is kept)",
        )
        require(self.batch_size >= 1, "batch_size", f"must be at least 1, got {self.batch_size}")
        _check_threshold(self.near_copy_threshold, "near_copy_threshold")
        require(self.workers is None or self.workers >= 1, "workers", f"must be at least 1, got {self.workers}")

    @property
    def keep_per_condition(self) -> int | None:
        """Images kept per condition in ``top-n-per-condition`` mode."""
        if self.mode != "top-n-per-condition":
            return None
        return int(self.top_n) if self.top_n is not None else DEFAULT_TOP_N_PER_CONDITION


@dataclass
class MergeConfig(StageConfig):
    """Settings of ``rdface merge`` (saved as ``merge_config.json`` beside its output)."""

    stage: ClassVar[str] = "merge"
    private: ClassVar[tuple[str, ...]] = ("output_dir", "overwrite")

    dataset: str = option(help="RDFace build folder or Hub dataset id (the real training split comes from it)")
    synthetic: str = option(help="a set written by 'rdface filter' (its kept images are merged)")
    output_dir: str = option(
        help="output folder O: real training split + kept synthetic images", metavar="O", run_only=True
    )
    fold: str = option("0", help="fold K (its train split), or 'test' (every non-test image: the final model)")
    unfiltered: bool = option(
        False, help="merge every image of a set that 'rdface filter' did not score (no 'kept' column)"
    )
    allow_near_copies: bool = option(
        False, help="merge images that the filter's near-copy guard flagged (near copies of real training faces)"
    )
    overwrite: bool = option(False, help="replace O if this command wrote it before", run_only=True)

    def validate(self) -> None:
        for name in ("dataset", "synthetic", "output_dir"):
            require(bool(str(getattr(self, name) or "").strip()), name, "must be given")
        check_fold(self.fold)


@dataclass(frozen=True)
class FilterResult(StageResult):
    """What a filter run did (also written as ``filter_summary.json``)."""

    out: Path
    score: str
    mode: str
    fold: str
    images: int
    kept: int
    rejected: int
    no_face: int
    near_copies: int | None  # rejected by the near-copy guard (None: the guard did not run)
    cached_landmarks: int  # landmarks read from the cache (the rest were detected)
    per_condition: list[dict]  # one row per condition: images, no_face, kept, score quantiles
    seconds: float
    scoring_seconds: float  # scores alone (landmarks ready)


@dataclass(frozen=True)
class MergeResult(StageResult):
    """What a merge wrote."""

    out: Path
    fold: str
    real: int
    synthetic: int
    skipped_synthetic: int  # rows of the set that were not kept by the filter
