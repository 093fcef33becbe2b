"""``rdface build``: the authors' raw release -> a validated Hub-layout dataset.

The output folder's layout is documented once, on
:class:`~rdface_hf.dataset.facade.RDFaceDataset`. The work is split by what it
holds: :mod:`.release` reads the CSV, :mod:`.checks` checks rows and images,
:mod:`.splits` assigns the test split and folds, :mod:`.shards` writes the
parquet files, :mod:`.report` the validation report and :mod:`.card` the card.
"""

from __future__ import annotations

import hashlib
import sys
from collections import Counter
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from .._config import StageConfig, option, require
from .._errors import InputError, RDFaceError
from .._io import atomic_write_text, file_sha256
from .._outputs import Owner, atomic_output_dir
from .._parallel import default_workers, parallel_map
from .._results import StageResult
from .._version import __version__
from . import images, splits
from .build_files import AGREEMENT_FILE, BUILD_FILES, CARD_FILE, CONFIG_FILE, REPORT_FILE
from .card import pretty_name, render_agreement, render_dataset_card
from .checks import (
    ACCEPTED,
    REJECTED,
    WARNING,
    Naming,
    RowResult,
    check_rows,
    near_duplicate_groups,
    process_image_file,
    resolve_duplicates,
)
from .columns import column_policy, parse_column_list
from .files import lookalike_hints, scan_images, unlisted_entries
from .landmarks import Landmarker, check_landmarker_model, close_process_landmarkers
from .release import CSV_NAME, read_release
from .report import reason_kind, report_csv, report_rows, statistics
from .shards import write_shards

FACE_SCAN = 4  # faces the landmarker looks for, to warn about group photos


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
        help="output dataset folder (new, empty, or an earlier build with --overwrite)",
        positional=True,
        flag="--output-dir",
        run_only=True,
        metavar="OUT",
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
        flag="--landmarker",
        aliases=("--face-landmarker",),
        metavar="PATH",
    )
    max_faces: int | None = option(
        None, help="reject images with more faces than this (default: keep them, warn, use the largest)"
    )
    keep_columns: str | None = option(
        None,
        help="extra CSV columns to publish besides the standard ones and age, age_group, sex, source (comma-separated)",
        metavar="A,B",
    )
    anonymize_names: bool = option(False, help="publish image_id in place of image_name (file names can identify)")
    near_duplicate_distance: int = option(
        images.NEAR_DUPLICATE_DISTANCE, help="perceptual-hash distance (of 64 bits) of a near-duplicate"
    )
    max_pixels: int = option(images.MAX_PIXELS, help="larger images are refused (decompression bombs)")
    workers: int | None = option(None, help="worker processes (default: all cores)", run_only=True)
    overwrite: bool = option(False, help="replace OUT if an earlier 'rdface build' wrote it", run_only=True)
    progress: bool = option(True, help="progress bars on stderr", run_only=True)

    def validate(self) -> None:
        self.raw, self.out = str(self.raw), str(self.out)
        if not self.landmarks:
            self.face_check = False  # no landmarks, no face check
        if isinstance(self.keep_columns, (list, tuple)):
            self.keep_columns = ",".join(map(str, self.keep_columns))
        self.keep_columns = ",".join(parse_column_list(self.keep_columns)) or None
        require(0.0 < self.test_fraction <= 0.5, "test_fraction", f"must be in (0, 0.5], got {self.test_fraction}")
        require(2 <= self.folds <= 20, "folds", f"must be between 2 and 20, got {self.folds}")
        require(self.seed >= 0, "seed", f"must be non-negative, got {self.seed}")
        require(0 <= self.near_duplicate_distance <= 32, "near_duplicate_distance", "must be in 0..32")
        require(self.max_pixels > 0, "max_pixels", "must be positive")
        require(self.max_faces is None or self.max_faces >= 1, "max_faces", f"must be at least 1, got {self.max_faces}")
        require(self.workers is None or self.workers >= 1, "workers", f"must be at least 1, got {self.workers}")

    @classmethod
    def owner(cls) -> Owner:
        """An earlier build: its ``build_config.json`` (``"stage": "build"``, or ``"BuildConfig"``
        from older versions) and nothing a build does not write."""
        return Owner(CONFIG_FILE, (cls.stage, cls.__name__), files=BUILD_FILES)

    @property
    def face_scan(self) -> int:
        """How many faces the landmarker looks for (one more than ``max_faces`` allows)."""
        return max(FACE_SCAN, (self.max_faces or 0) + 1)

    @property
    def kept_columns(self) -> tuple[str, ...]:
        return parse_column_list(self.keep_columns)

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
    dropped_columns: tuple[str, ...] = ()


def _apply_processed(result: RowResult, out: dict, config: BuildConfig, face_check: bool | None) -> None:
    """Fold a worker's answer into the row; ``face_check`` is None without landmarks."""
    if out["reject"]:
        result.reject(out["reject"])
        return
    result.file_sha256, result.pixel_sha256 = out["file_sha256"], out["pixel_sha256"]
    result.phash, result.png = out["phash"], out["png"]
    result.image_id = "rdf-" + out["file_sha256"][:16]
    faces, face = out.get("faces", 0), out.get("face")
    if config.max_faces is not None and faces > config.max_faces:
        result.reject(f"{_faces_text(faces, config)} (--max-faces {config.max_faces})")
        return
    if faces > 1:
        result.warn(f"{_faces_text(faces, config)}, the largest is used")
    if face is not None:
        result.landmarks, result.face_box = face
    elif face_check:
        result.reject("no face found")
        return
    elif face_check is False:
        result.warn("no face found (kept: --no-face-check)")
    for w in out["warnings"]:
        result.warn(w)


def _faces_text(n: int, config: BuildConfig) -> str:
    return f"{'at least ' if n >= config.face_scan else ''}{n} faces"


def _inputs_digest(release, results: list[RowResult]) -> str:
    """sha256 over the CSV and every image file a row names (in row order): the build's input."""
    h = hashlib.sha256(file_sha256(release.root / CSV_NAME).encode())
    for r in results:
        h.update(f"\n{r.row.number}:{r.file_sha256 or '-'}".encode())
    return h.hexdigest()


def _process_rows(
    config: BuildConfig, release, landmarker: Landmarker | None, naming: Naming
) -> tuple[list[RowResult], str | None]:
    """Check every row and process its image; returns the results and the model path."""
    model = None
    if config.landmarks and landmarker is None:
        model = str(check_landmarker_model(config.landmarker_model))
    detector = landmarker if config.landmarks and landmarker is not None else model
    results, todo = check_rows(release, naming)
    workers = 1 if landmarker is not None else (config.workers or default_workers())
    try:
        processed = parallel_map(
            process_image_file,
            [(p, detector, config.max_pixels, config.face_scan) for _, p in todo],
            workers=workers,
            desc="images",
            progress=config.progress,
            serial_cleanup=close_process_landmarkers,
        )
    except BrokenProcessPool:
        raise RDFaceError("a worker process died (out of memory?); try fewer --workers") from None
    for (index, _), out in zip(todo, processed):
        _apply_processed(results[index], out, config, config.face_check if detector is not None else None)
    resolve_duplicates(results, naming)
    return results, model


def _stray_entries(release, results: list[RowResult], anonymize: bool) -> list:
    """Entries of ``rd_images/`` that no row names, with hints for near-miss names."""
    extra = unlisted_entries(release, scan_images(release))
    missing = [(i, r.row) for i, r in enumerate(results) if r.reasons and r.reasons[0].startswith("file missing")]
    row_hints, file_hints = lookalike_hints(missing, extra, show_paths=not anonymize)
    for i, hint in row_hints.items():
        results[i].reasons[0] += f" ({hint})"
    return [
        (entry, reason + (f" ({file_hints[j]})" if j in file_hints else "")) for j, (entry, reason) in enumerate(extra)
    ]


def _refuse_empty(config: BuildConfig, rows: list[dict]) -> None:
    reasons = Counter(reason_kind(r["reason"]) for r in rows)
    summary = ", ".join(f"{n} {reason}" for reason, n in reasons.most_common(4))
    raise InputError(f"no image of {config.raw} was accepted ({len(rows)} rows: {summary}); nothing written")


def build_dataset(config: BuildConfig, *, landmarker: Landmarker | None = None) -> BuildResult:
    """Validate a raw release and write the Hub-layout dataset folder.

    ``landmarker``: detect faces with this object (in this process) instead of
    MediaPipe's model in worker processes. The output folder is checked and
    locked before the slow work (a second build of the same OUT stops at
    once) and appears only when complete.
    """
    release = read_release(config.raw)
    policy = column_policy(release, config.kept_columns)
    naming = Naming(anonymize=config.anonymize_names)
    with atomic_output_dir(config.out, owner=config.owner(), overwrite=config.overwrite, inputs=(config.raw,)) as tmp:
        results, model = _process_rows(config, release, landmarker, naming)
        kept = [r for r in results if r.status != REJECTED]
        groups = near_duplicate_groups(kept, config.near_duplicate_distance, naming)  # warns: before the report
        rows = report_rows(release, results, _stray_entries(release, results, config.anonymize_names),
                           anonymize=config.anonymize_names)  # fmt: skip
        if not kept:
            _refuse_empty(config, rows)
        class_names, sizes = _write_build(tmp, config, release, results, kept, groups, rows, policy, model)
    for line in policy.messages():
        print(line, file=sys.stderr)
    counts = Counter(r["status"] for r in rows)
    return BuildResult(
        out=Path(config.out),
        accepted=counts[ACCEPTED],
        rejected=counts[REJECTED],
        warnings=counts[WARNING],
        conditions=len(class_names),
        partitions=sizes,
        folds_without_validation=tuple(k for k in range(config.folds) if not sizes.get(f"cv-{k}")),
        dropped_columns=policy.dropped,
    )


def _write_build(tmp: Path, config: BuildConfig, release, results, kept, groups, rows, policy, model):
    """Split, then write shards, report, config, agreement and card into ``tmp``."""
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
    sizes, files = write_shards(
        tmp, kept, labels, groups, partition, class_names, config.folds,
        columns=policy.published, anonymize=config.anonymize_names,
    )  # fmt: skip
    atomic_write_text(tmp / REPORT_FILE, report_csv(rows))
    provenance = {
        "rdface_hf_version": __version__,
        "landmarker_sha256": file_sha256(model) if model else None,
        "inputs_sha256": _inputs_digest(release, results),
        "columns": policy.record(),
    }
    config.save(tmp / CONFIG_FILE, **provenance)
    stats = statistics(kept, labels, class_names, partition, rows, config)
    stats["extra_columns"] = list(policy.published)
    stats["columns"] = policy.record()
    stats["build_config"].update(provenance)
    pretty = pretty_name(release.simulated)
    atomic_write_text(tmp / AGREEMENT_FILE, render_agreement(pretty))
    card = render_dataset_card(stats=stats, config=config, shard_files=files, simulated=release.simulated)
    atomic_write_text(tmp / CARD_FILE, str(card))
    return class_names, sizes
