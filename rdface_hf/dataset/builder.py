"""``rdface build``: the authors' raw release -> a validated Hub-layout dataset.

The output folder's layout is documented once, on
:class:`~rdface_hf.dataset.facade.RDFaceDataset`. The work is split by what it
holds: :mod:`.release` reads the CSV, :mod:`.checks` checks rows and images,
:mod:`.splits` assigns the test split and folds, :mod:`.shards` writes the
parquet files, :mod:`.report` the validation report and :mod:`.card` the card.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from .. import __version__
from .._config import StageConfig, option, require
from .._errors import InputError
from .._io import atomic_write_text, file_sha256
from .._outputs import atomic_output_dir, check_output_dir
from .._parallel import default_workers, parallel_map
from .._results import StageResult
from . import images, splits
from .card import render_dataset_card
from .checks import (
    ACCEPTED,
    REJECTED,
    WARNING,
    RowResult,
    check_rows,
    near_duplicate_groups,
    process_image_file,
    resolve_duplicates,
)
from .landmarks import Landmarker, check_landmarker_model, close_process_landmarkers
from .release import CSV_NAME, read_release, unlisted_files
from .report import REPORT_NAME, reason_kind, report_csv, report_rows, statistics
from .shards import write_shards

CONFIG_NAME = "build_config.json"


@dataclass
class BuildConfig(StageConfig):
    """Configuration of one build (saved, without local paths, as ``build_config.json``)."""

    stage: ClassVar[str] = "build"
    private: ClassVar[tuple[str, ...]] = ("raw", "out", "landmarker_model", "workers", "overwrite", "progress")

    raw: str = option(
        help="raw release folder (rd_images/<abbr>/<image>, disease_images.csv)",
        positional=True,
        run_only=True,
        metavar="RAW",
    )
    out: str = option(
        help="output dataset folder (must not exist, or be empty)", positional=True, run_only=True, metavar="OUT"
    )
    test_fraction: float = option(0.25, help="fraction of the images of each condition in the fixed test split")
    folds: int = option(5, help="cross-validation folds")
    seed: int = option(42, help="split seed")
    face_check: bool = option(True, help="reject images where no face is found (--no-face-check keeps them)")
    landmarks: bool = option(True, help="run the face landmarker (--no-landmarks implies --no-face-check)")
    landmarker_model: str | None = option(
        None,
        help="face_landmarker.task (default: $RDFACE_FACE_LANDMARKER, cache)",
        run_only=True,
        aliases=("--landmarker",),
        metavar="PATH",
    )
    near_duplicate_distance: int = option(
        images.NEAR_DUPLICATE_DISTANCE, help="perceptual-hash distance (of 64 bits) of a near-duplicate"
    )
    max_pixels: int = option(images.MAX_PIXELS, help="larger images are refused (decompression bombs)")
    workers: int | None = option(None, help="worker processes (default: all cores)", run_only=True)
    overwrite: bool = option(False, help="replace OUT if it exists", run_only=True)
    progress: bool = option(True, help="progress bars (--no-progress hides them)", run_only=True)

    def validate(self) -> None:
        self.raw, self.out = str(self.raw), str(self.out)
        if not self.landmarks:
            self.face_check = False  # no landmarks, no face check
        require(0.0 < self.test_fraction <= 0.5, "test_fraction", f"must be in (0, 0.5], got {self.test_fraction}")
        require(2 <= self.folds <= 20, "folds", f"must be between 2 and 20, got {self.folds}")
        require(self.seed >= 0, "seed", f"must be non-negative, got {self.seed}")
        require(0 <= self.near_duplicate_distance <= 32, "near_duplicate_distance", "must be in 0..32")
        require(self.max_pixels > 0, "max_pixels", "must be positive")
        require(self.workers is None or self.workers >= 1, "workers", f"must be at least 1, got {self.workers}")

    def published(self) -> dict:
        """What determines the dataset (no local paths: the file is published)."""
        return {k: v for k, v in self.to_dict().items() if k not in self.private}


@dataclass(frozen=True)
class BuildResult(StageResult):
    out: Path
    accepted: int
    rejected: int
    warnings: int
    conditions: int
    partitions: dict[str, int]
    folds_without_validation: tuple[int, ...] = ()


def _apply_processed(result: RowResult, out: dict, face_check: bool | None) -> None:
    """Fold a worker's answer into the row; ``face_check`` is None without landmarks."""
    if out["reject"]:
        result.reject(out["reject"])
        return
    result.file_sha256, result.pixel_sha256 = out["file_sha256"], out["pixel_sha256"]
    result.phash, result.png = out["phash"], out["png"]
    result.image_id = "rdf-" + out["file_sha256"][:16]
    face = out.get("face")
    if face is not None:
        result.landmarks, result.face_box = face
    elif face_check:
        result.reject("no face found")
        return
    elif face_check is False:
        result.warn("no face found (kept: --no-face-check)")
    for w in out["warnings"]:
        result.warn(w)


def _inputs_digest(release, results: list[RowResult]) -> str:
    """sha256 over the CSV and every image file a row names (in row order): the build's input."""
    h = hashlib.sha256(file_sha256(release.root / CSV_NAME).encode())
    for r in results:
        h.update(f"\n{r.row.number}:{r.file_sha256 or '-'}".encode())
    return h.hexdigest()


def _process_rows(config: BuildConfig, release, landmarker: Landmarker | None) -> tuple[list[RowResult], str | None]:
    """Check every row and process its image; returns the results and the model path."""
    model = None
    if config.landmarks and landmarker is None:
        model = str(check_landmarker_model(config.landmarker_model))
    detector = landmarker if config.landmarks and landmarker is not None else model
    results, todo = check_rows(release)
    workers = 1 if landmarker is not None else (config.workers or default_workers())
    processed = parallel_map(
        process_image_file,
        [(p, detector, config.max_pixels) for _, p in todo],
        workers=workers,
        desc="images",
        progress=config.progress,
        serial_cleanup=close_process_landmarkers,
    )
    for (index, _), out in zip(todo, processed):
        _apply_processed(results[index], out, config.face_check if detector is not None else None)
    resolve_duplicates(results)
    return results, model


def build_dataset(config: BuildConfig, *, landmarker: Landmarker | None = None) -> BuildResult:
    """Validate a raw release and write the Hub-layout dataset folder.

    ``landmarker``: detect faces with this object (in this process) instead of
    MediaPipe's model in worker processes.
    """
    release = read_release(config.raw)
    owner = config.owner()
    check_output_dir(config.out, owner=owner, overwrite=config.overwrite, inputs=(config.raw,))  # before slow work
    results, model = _process_rows(config, release, landmarker)
    kept = [r for r in results if r.status != REJECTED]
    groups = near_duplicate_groups(kept, config.near_duplicate_distance)  # adds warnings: before the report
    extra = [(p, "not listed in disease_images.csv") for p in unlisted_files(release)]
    rows = report_rows(release, results, extra)
    if not kept:
        reasons = Counter(reason_kind(r["reason"]) for r in rows)
        summary = ", ".join(f"{n} {reason}" for reason, n in reasons.most_common(4))
        raise InputError(f"no image of {config.raw} was accepted ({len(rows)} rows: {summary}); nothing written")
    names = [r.row.values["disease_name"] for r in kept]
    class_index = {name: i for i, name in enumerate(dict.fromkeys(names))}  # order of first appearance
    class_names, labels = list(class_index), [class_index[n] for n in names]
    partition = splits.assign_partitions(
        [r.image_id for r in kept],
        names,
        groups,
        test_fraction=config.test_fraction,
        folds=config.folds,
        seed=config.seed,
    )
    with atomic_output_dir(config.out, owner=owner, overwrite=config.overwrite, inputs=(config.raw,)) as tmp:
        sizes, files = write_shards(tmp, release, kept, labels, groups, partition, class_names, config.folds)
        atomic_write_text(tmp / REPORT_NAME, report_csv(rows))
        provenance = {
            "rdface_hf_version": __version__,
            "landmarker_sha256": file_sha256(model) if model else None,
            "inputs_sha256": _inputs_digest(release, results),
        }
        config.save(tmp / CONFIG_NAME, **provenance)
        stats = statistics(kept, labels, class_names, partition, rows, config)
        stats["extra_columns"] = list(release.extra_columns)
        stats["build_config"].update(provenance)
        simulated = (release.root / "phenotypes.json").is_file()
        card = render_dataset_card(stats=stats, config=config, shard_files=files, simulated=simulated)
        atomic_write_text(tmp / "README.md", str(card))
    counts = Counter(r["status"] for r in rows)
    return BuildResult(
        out=Path(config.out),
        accepted=counts[ACCEPTED],
        rejected=counts[REJECTED],
        warnings=counts[WARNING],
        conditions=len(class_names),
        partitions=sizes,
        folds_without_validation=tuple(k for k in range(config.folds) if not sizes.get(f"cv-{k}")),
    )
