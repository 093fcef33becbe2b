"""Settings of ``rdface report`` (light: no torch)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Literal

from .._config import StageConfig, option, require
from .._results import StageResult
from ..dataset.folds import check_fold

DEFAULT_MODEL = "Qwen/Qwen2.5-VL-7B-Instruct"
LANDMARKS = "landmarks"
SPLITS = ("all", "train", "validation", "test")


@dataclass
class ReportConfig(StageConfig):
    """One report run (saved as ``report_config.json`` in the output folder)."""

    stage: ClassVar[str] = "report"
    output_files: ClassVar[tuple[str, ...]] = (
        "data/reports-*.parquet", "README.md", "reference_stats.json", "summary.json", "hpo_terms.json",
    )  # fmt: skip

    output_dir: str = option(help="the report folder O (a dataset; a run with the same settings resumes)", metavar="O")
    dataset: str | None = option(
        None, help="RDFace build folder or Hub dataset id: its images, or with --synthetic the reference", metavar="D"
    )
    synthetic: str | None = option(
        None, help="report on this synthetic set folder instead of the dataset's images", metavar="S"
    )
    split: Literal["all", "train", "validation", "test"] = option(
        "all", help="dataset images to report on: all, train, validation (needs --fold K) or test"
    )
    fold: str = option(
        "test",
        help="fold K, or 'test' for every non-test image: the training images that landmark z-scores are "
        "computed against (and the fold of --split train/validation)",
    )
    model: str = option(
        DEFAULT_MODEL,
        help="vision-language model id or folder (AutoModelForImageTextToText), or 'landmarks' for a report "
        "measured from landmarks with HPO terms",
    )
    revision: str | None = option(None, help="model revision (branch, tag or commit) on the Hub")
    z_threshold: float | None = option(
        None, help="landmarks: |z| that gives an HPO term (default: each term's, 2 as in HPO's definitions)"
    )
    pose_adjust: bool = option(
        True,
        help="landmarks: regress the head's yaw and pitch (from the 3-D landmarks) out of every measure, "
        "fitted on the training images (--no-pose-adjust: raw measures)",
    )
    shared_variation_adjust: bool = option(
        True,
        help="landmarks: correct each measure for what the face's other measures predict (ridge regression "
        "over within-condition differences of the training images; --no-shared-variation-adjust: off)",
    )
    shared_variation_ridge: float = option(
        0.5, help="landmarks: ridge penalty of that regression, per within-condition row (larger: milder)"
    )
    conditions: str = option("all", help="'all' or comma-separated condition abbreviations")
    batch_size: int = option(8, help="images per generation batch")
    max_new_tokens: int = option(512, help="most tokens a report may have")
    sample: bool = option(False, help="sample instead of greedy decoding")
    temperature: float = option(0.7, help="sampling temperature (with --sample)")
    top_p: float = option(0.9, help="nucleus sampling mass (with --sample)")
    seed: int = option(0, help="random seed (sampling)")
    dtype: Literal["auto", "bfloat16", "float16", "float32"] = option(
        "auto", help="model weights' dtype (auto: bfloat16 on a GPU, float32 on a CPU)"
    )
    format: Literal["parquet", "jsonl"] = option("parquet", help="report shards as parquet or JSON lines")
    landmarker: str | None = option(
        None,
        help="MediaPipe face_landmarker.task for synthetic images (default: $RDFACE_FACE_LANDMARKER or the cache)",
        run_only=True,
        aliases=("--face-landmarker", "--landmarker-model"),
    )
    overwrite: bool = option(False, help="start again in O (only a folder this command wrote)", run_only=True)
    progress: bool = option(True, help="progress bars on stderr", run_only=True)

    private: ClassVar[tuple[str, ...]] = ("landmarker",)

    @property
    def measured(self) -> bool:
        return self.model.strip().lower() == LANDMARKS

    def validate(self) -> None:
        require(bool(str(self.output_dir or "").strip()), "output_dir", "must name a folder")
        require(self.dataset is not None or self.synthetic is not None, "dataset", "or --synthetic S is required")
        require(
            not (self.measured and self.dataset is None),
            "dataset",
            "is required with --model landmarks: z-scores are computed against its training images",
        )
        require(bool(self.model.strip()), "model", "must name a model id, a folder or 'landmarks'")
        require(self.split in SPLITS, "split", f"must be one of {', '.join(SPLITS)}, got {self.split!r}")
        require(
            self.synthetic is None or self.split in ("all", "train"),
            "split",
            "does not apply to --synthetic (a synthetic set has one split): leave it out",
        )
        check_fold(self.fold)
        fold = self.fold
        require(
            self.split != "validation" or fold != "test",
            "split",
            "validation needs --fold K (a fold number)",
        )
        require(self.batch_size >= 1, "batch_size", f"must be at least 1, got {self.batch_size}")
        require(self.max_new_tokens >= 1, "max_new_tokens", f"must be at least 1, got {self.max_new_tokens}")
        require(self.temperature > 0, "temperature", f"must be positive, got {self.temperature}")
        require(0 < self.top_p <= 1, "top_p", f"must be in (0, 1], got {self.top_p}")
        require(self.z_threshold is None or self.z_threshold > 0, "z_threshold", "must be positive")
        require(
            math.isfinite(self.shared_variation_ridge) and self.shared_variation_ridge > 0,
            "shared_variation_ridge",
            f"must be a positive number, got {self.shared_variation_ridge}",
        )
        require(self.seed >= 0, "seed", f"must be non-negative, got {self.seed}")
        require(
            self.landmarker is None or Path(self.landmarker).expanduser().is_file(),
            "landmarker",
            f"{self.landmarker}: no such file (MediaPipe's face_landmarker.task)",
        )

    def generation(self) -> dict:
        """The generation settings recorded with every VLM report."""
        settings = {"max_new_tokens": self.max_new_tokens, "do_sample": self.sample, "seed": self.seed}
        if self.sample:
            settings.update(temperature=self.temperature, top_p=self.top_p)
        return settings


@dataclass(frozen=True)
class ReportResult(StageResult):
    """What a report run made."""

    out: Path
    model: str
    reports: int  # rows in the folder (including an earlier, resumed run's)
    new_reports: int  # made by this run
    unparsed: int  # reports in which no section was recognised (kept raw)
    incomplete: int  # reports missing at least one section
    no_face: int  # images without landmarks (landmark reports): rows with status no_face
    unreadable: int  # images that could not be decoded: rows with status unreadable
    seconds: float
