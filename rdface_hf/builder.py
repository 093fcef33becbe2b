"""``rdface build``: the authors' raw release -> a validated Hub-layout dataset.

Output folder (the Hub file tree of the dataset repo)::

    OUT/
      README.md                  dataset card: gating, `configs` (default, fold_0..), statistics
      data/test-<hash>.parquet          the fixed test split (all real, never trained on)
      data/train-always-<hash>.parquet  images in every fold's training split
      data/cv-<k>-<hash>.parquet        cross-validation part k: fold k's validation split
      validation_report.csv      every CSV row (and unlisted file): accepted / warning / rejected, why
      build_config.json          the BuildConfig of this build

``datasets.load_dataset(OUT, "fold_k")`` gives train / validation / test.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import __version__, images, splits
from ._config import StageConfig, require
from ._errors import InputError
from ._io import atomic_output_dir, atomic_write_bytes, atomic_write_json, atomic_write_text, check_output_dir, file_sha256
from .landmarks import (
    NUM_LANDMARKS,
    check_landmarker_model,
    close_process_landmarkers,
    default_workers,
    process_pool,
    worker_landmarker,
)
from .release import REQUIRED_COLUMNS, RawRelease, ReleaseRow, read_release, resolve_image_path, unlisted_files

ACCEPTED, WARNING, REJECTED = "accepted", "warning", "rejected"
REPORT_NAME = "validation_report.csv"
REPORT_COLUMNS = ("image_name", "disease_abbr", "status", "reason", "row", "image_id")
CONFIG_NAME = "build_config.json"
# BuildConfig fields that do not change the dataset (and may hold local paths).
RUN_ONLY = ("raw", "out", "landmarker_model", "workers", "overwrite", "progress")


@dataclass
class BuildConfig(StageConfig):
    """Configuration of one build (saved as ``build_config.json``)."""

    raw: str
    out: str
    test_fraction: float = 0.25
    folds: int = 5
    seed: int = 42
    face_check: bool = True  # reject images with no face found
    landmarks: bool = True  # run the landmarker at all (face_check needs it)
    landmarker_model: str | None = None  # path; else RDFACE_FACE_LANDMARKER / cache / download
    near_duplicate_distance: int = images.NEAR_DUPLICATE_DISTANCE
    max_pixels: int = images.MAX_PIXELS
    workers: int | None = None
    overwrite: bool = False
    progress: bool = True

    def validate(self) -> None:
        self.raw, self.out = str(self.raw), str(self.out)
        require(0.0 < self.test_fraction <= 0.5, f"--test-fraction must be in (0, 0.5], got {self.test_fraction}")
        require(2 <= self.folds <= 20, f"--folds must be between 2 and 20, got {self.folds}")
        require(self.seed >= 0, f"--seed must be non-negative, got {self.seed}")
        require(0 <= self.near_duplicate_distance <= 32, "near_duplicate_distance must be in 0..32")
        require(self.max_pixels > 0, "max_pixels must be positive")
        require(self.workers is None or self.workers >= 1, f"--workers must be at least 1, got {self.workers}")
        require(self.landmarks or not self.face_check, "the face check needs landmarks (use --no-face-check with --no-landmarks)")

    def save(self, path, **provenance) -> Path:
        """Save what determines the dataset (no local paths: the file is published)."""
        data = {k: v for k, v in self.to_dict().items() if k not in RUN_ONLY}
        return atomic_write_json(path, {"stage": type(self).__name__, **data, "provenance": provenance})


@dataclass
class RowResult:
    """What the build learnt about one CSV row."""

    row: ReleaseRow
    status: str = ACCEPTED
    reasons: list[str] = field(default_factory=list)
    file_sha256: str | None = None
    pixel_sha256: str | None = None
    phash: int | None = None
    png: bytes | None = None
    landmarks: np.ndarray | None = None
    face_box: np.ndarray | None = None
    image_id: str | None = None

    def reject(self, reason: str) -> None:
        self.status, self.reasons = REJECTED, [reason]

    def warn(self, reason: str) -> None:
        if self.status != REJECTED:
            self.status = WARNING
            self.reasons.append(reason)


@dataclass(frozen=True)
class BuildResult:
    out: Path
    accepted: int
    rejected: int
    warnings: int
    conditions: int
    partitions: dict[str, int]
    folds_without_validation: tuple[int, ...] = ()


# --- per-image work (runs in worker processes) --------------------------------


def process_image_file(job: tuple[str, str | None, int]) -> dict:
    """Read, check, normalise and landmark one file; a plain dict crosses processes."""
    path, model, max_pixels = job
    out: dict = {"reject": None, "warnings": []}
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        out["reject"] = f"cannot read file ({exc.strerror or exc})"
        return out
    out["file_sha256"] = hashlib.sha256(data).hexdigest()
    try:
        clean = images.load_clean(data, max_pixels=max_pixels)
    except images.ImageRejected as exc:
        out["reject"] = str(exc)
        return out
    if min(clean.width, clean.height) < images.MIN_SIDE:
        out["warnings"].append(f"small image ({clean.width}x{clean.height} px, under {images.MIN_SIDE} px)")
    if clean.greyscale:
        out["warnings"].append(f"greyscale source (mode {clean.source_mode})")
    out["warnings"].extend(clean.notes)
    out["pixel_sha256"] = images.pixel_sha256(clean.pixels)
    out["phash"] = images.perceptual_hash(clean.pixels)
    out["png"] = images.encode_png(clean.pixels)
    out["face"] = None
    if model is not None:
        face = worker_landmarker(model).detect(clean.pixels)
        if face is not None:
            out["face"] = (face.points, face.box)
    return out


def _process_all(jobs: list[tuple[str, str | None, int]], workers: int, progress: bool) -> list[dict]:
    from tqdm.auto import tqdm

    bar = dict(total=len(jobs), desc="images", unit="img", disable=not progress)
    if workers <= 1 or len(jobs) < 8:
        try:
            return [process_image_file(j) for j in tqdm(jobs, **bar)]
        finally:
            close_process_landmarkers()
    with process_pool(workers) as pool:
        return list(tqdm(pool.map(process_image_file, jobs, chunksize=4), **bar))


# --- cross-row checks -----------------------------------------------------------


def _resolve_duplicates(results: list[RowResult]) -> None:
    """Same pixels: label conflict across conditions, duplicate within one."""
    by_pixels: dict[str, list[RowResult]] = defaultdict(list)
    for r in results:
        if r.status != REJECTED and r.pixel_sha256:
            by_pixels[r.pixel_sha256].append(r)
    for rows in by_pixels.values():
        if len(rows) < 2:
            continue
        rows.sort(key=lambda r: r.row.number)
        if len({r.row.disease_abbr for r in rows}) > 1:
            for r in rows:
                others = ", ".join(f"{o.row.disease_abbr}/{o.row.image_name}" for o in rows if o is not r)
                r.reject(f"label conflict: same pixels filed under another condition ({others})")
        else:
            first = rows[0]
            for r in rows[1:]:
                r.reject(f"duplicate of {first.row.disease_abbr}/{first.row.image_name} (row {first.row.number})")


def _near_duplicate_groups(kept: list[RowResult], max_distance: int) -> list[int]:
    """Union-find over perceptual-hash neighbours; warns each member."""
    parent = list(range(len(kept)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j, dist in images.near_duplicate_pairs([r.phash for r in kept], max_distance):
        a, b = kept[i], kept[j]
        a.warn(f"near-duplicate of {b.row.disease_abbr}/{b.row.image_name} (perceptual hash distance {dist})")
        b.warn(f"near-duplicate of {a.row.disease_abbr}/{a.row.image_name} (perceptual hash distance {dist})")
        parent[find(i)] = find(j)
    return [find(i) for i in range(len(kept))]


# --- the stage --------------------------------------------------------------------


def _check_rows(release: RawRelease) -> tuple[list[RowResult], list[tuple[int, str]]]:
    """Row-level checks that need no decoding; returns results and (index, path) jobs."""
    results, todo = [], []
    for row in release.rows:
        result = RowResult(row=row)
        results.append(result)
        if row.problem:
            result.reject(row.problem)
            continue
        try:
            path = resolve_image_path(release, row)
            is_dir, is_file = (path.is_dir(), path.is_file()) if path is not None else (False, False)
        except (OSError, ValueError) as exc:  # a name too long for the file system, a NUL byte, ...
            result.reject(f"invalid path ({type(exc).__name__}: {getattr(exc, 'strerror', None) or exc})")
            continue
        if path is None:
            result.reject(f"path leaves rd_images/{row.disease_abbr}/")
        elif is_dir:
            result.reject(f"not a file but a folder: {path.relative_to(release.root.resolve())}")
        elif not is_file:
            result.reject(f"file missing: {path.relative_to(release.root.resolve())}")
        else:
            todo.append((len(results) - 1, str(path)))
    return results, todo


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


def build_dataset(config: BuildConfig) -> BuildResult:
    """Validate a raw release and write the Hub-layout dataset folder."""
    from .card import render_dataset_card

    release = read_release(config.raw)
    check_output_dir(config.out, overwrite=config.overwrite, inputs=(config.raw,))  # before any slow work
    model = str(check_landmarker_model(config.landmarker_model)) if config.landmarks else None
    results, todo = _check_rows(release)
    workers = config.workers or default_workers()
    processed = _process_all([(p, model, config.max_pixels) for _, p in todo], workers, config.progress)
    for (index, _), out in zip(todo, processed):
        _apply_processed(results[index], out, config.face_check if model else None)
    _resolve_duplicates(results)

    kept = [r for r in results if r.status != REJECTED]
    groups = _near_duplicate_groups(kept, config.near_duplicate_distance)  # adds warnings: before the report
    extra = [(p, "not listed in disease_images.csv") for p in unlisted_files(release)]
    report_rows = _report_rows(release, results, extra)
    if not kept:
        reasons = Counter(_reason_kind(r["reason"]) for r in report_rows)
        summary = ", ".join(f"{n} {reason}" for reason, n in reasons.most_common(4))
        raise InputError(f"no image of {config.raw} was accepted ({len(report_rows)} rows: {summary}); nothing written")
    names = [r.row.values["disease_name"] for r in kept]
    class_index = {name: i for i, name in enumerate(dict.fromkeys(names))}  # order of first appearance
    class_names, labels = list(class_index), [class_index[n] for n in names]
    partition = splits.assign_partitions(
        [r.image_id for r in kept], names, groups,
        test_fraction=config.test_fraction, folds=config.folds, seed=config.seed,
    )
    with atomic_output_dir(config.out, overwrite=config.overwrite, inputs=(config.raw,)) as tmp:
        shard_sizes, shard_files = _write_shards(tmp, release, kept, labels, groups, partition, class_names, config.folds)
        atomic_write_text(tmp / REPORT_NAME, _report_csv(report_rows))
        provenance = {"rdface_hf_version": __version__, "landmarker_sha256": file_sha256(model) if model else None}
        config.save(tmp / CONFIG_NAME, **provenance)
        stats = _statistics(kept, labels, class_names, partition, report_rows, config)
        stats["extra_columns"] = list(release.extra_columns)
        stats["build_config"].update(provenance)
        card = render_dataset_card(stats=stats, config=config, shard_files=shard_files, simulated=(release.root / "phenotypes.json").is_file())
        atomic_write_text(tmp / "README.md", str(card))
    counts = Counter(r["status"] for r in report_rows)
    return BuildResult(
        out=Path(config.out), accepted=counts[ACCEPTED], rejected=counts[REJECTED], warnings=counts[WARNING],
        conditions=len(class_names), partitions=shard_sizes,
        folds_without_validation=tuple(k for k in range(config.folds) if not shard_sizes.get(f"cv-{k}")),
    )


# --- writers -------------------------------------------------------------------------


def dataset_features(class_names: list[str], extra_columns: tuple[str, ...]):
    from datasets import Array2D, ClassLabel, Features, Image, List, Value

    columns = {
        "image": Image(),
        "image_id": Value("string"),
        "condition": ClassLabel(names=class_names),
        **{c: Value("string") for c in REQUIRED_COLUMNS},
        **{c: Value("string") for c in extra_columns},
        "source_sha256": Value("string"),
        "landmarks": Array2D(shape=(NUM_LANDMARKS, 3), dtype="float32"),
        "face_box": List(Value("float32"), length=4),
        "near_duplicate_group": Value("string"),
        "partition": Value("string"),
        "warnings": Value("string"),
    }
    return Features(columns)


def _write_shards(tmp: Path, release, kept, labels, groups, partition, class_names, folds) -> tuple[dict[str, int], dict[str, str]]:
    """Write one parquet shard per non-empty partition; returns sizes and file names.

    Shard names carry a hash of their bytes (``data/test-1a2b3c4d.parquet``):
    ``datasets`` caches a local folder by its card's file patterns, so a
    rebuild with other content must not reuse the same names.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq
    from datasets import Dataset

    features = dataset_features(class_names, release.extra_columns)
    group_rep: dict[int, str] = {}
    group_size = Counter(groups)
    for r, g in sorted(zip(kept, groups), key=lambda x: x[0].image_id):
        group_rep.setdefault(g, r.image_id)
    (tmp / "data").mkdir()
    names = [splits.partition_name(p) for p in [splits.TEST, splits.ALWAYS_TRAIN, *range(folds)]]
    sizes, files = {}, {}
    for name in names:
        rows = [i for i, p in enumerate(partition) if splits.partition_name(int(p)) == name]
        rows.sort(key=lambda i: (labels[i], kept[i].image_id))
        columns = {k: [] for k in features}
        for i in rows:
            r = kept[i]
            columns["image"].append({"bytes": r.png, "path": f"{r.image_id}.png"})
            columns["image_id"].append(r.image_id)
            columns["condition"].append(labels[i])
            for c in (*REQUIRED_COLUMNS, *release.extra_columns):
                columns[c].append(r.row.values.get(c) or None)
            columns["source_sha256"].append(r.file_sha256)
            columns["landmarks"].append(r.landmarks)
            columns["face_box"].append(None if r.face_box is None else [float(v) for v in r.face_box])
            columns["near_duplicate_group"].append(group_rep[groups[i]] if group_size[groups[i]] > 1 else None)
            columns["partition"].append(name)
            columns["warnings"].append("; ".join(r.reasons) or None)
        sizes[name] = len(rows)
        if rows:  # an empty shard is not written: datasets cannot read a split of none
            table = Dataset.from_dict(columns, features=features).with_format("arrow")[:]
            sink = pa.BufferOutputStream()
            pq.write_table(table, sink)
            data = sink.getvalue().to_pybytes()
            files[name] = f"data/{name}-{hashlib.sha256(data).hexdigest()[:8]}.parquet"
            atomic_write_bytes(tmp / files[name], data)
    return sizes, files


def _report_rows(release: RawRelease, results: list[RowResult], extra: list[tuple[Path, str]]) -> list[dict]:
    rows = []
    for r in results:
        rows.append({
            "image_name": r.row.image_name, "disease_abbr": r.row.disease_abbr, "status": r.status,
            "reason": "; ".join(r.reasons), "row": r.row.number, "image_id": r.image_id if r.status != REJECTED else "",
        })
    images_dir = release.images_dir.resolve()
    for path, reason in extra:
        rel = path.resolve().relative_to(images_dir) if path.resolve().is_relative_to(images_dir) else Path(path.name)
        abbr = rel.parts[0] if len(rel.parts) > 1 else ""
        rows.append({"image_name": "/".join(rel.parts[1:]) or rel.name, "disease_abbr": abbr, "status": REJECTED,
                     "reason": reason, "row": "", "image_id": ""})
    return rows


def _reason_kind(reason: str) -> str:
    """A reason without its particulars: 'file missing: rd_images/A/x.png' -> 'file missing'."""
    return reason.split(" (")[0].split(":")[0]


def _report_csv(rows: list[dict]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=REPORT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def _statistics(kept, labels, class_names, partition, report_rows, config: BuildConfig) -> dict:
    per_condition = Counter(labels)
    histogram = Counter(per_condition.values())
    status = Counter(r["status"] for r in report_rows)
    reasons = Counter(
        _reason_kind(reason) for r in report_rows if r["status"] != ACCEPTED for reason in r["reason"].split("; ") if reason
    )
    parts = Counter(splits.partition_name(int(p)) for p in partition)
    fold_rows = []
    for k in range(config.folds):
        val = parts.get(f"cv-{k}", 0)
        fold_rows.append({"fold": k, "train": len(kept) - parts.get("test", 0) - val, "validation": val, "test": parts.get("test", 0)})
    return {
        "images": len(kept),
        "conditions": len(class_names),
        "rows": len(report_rows),
        "images_per_condition": dict(sorted(histogram.items())),
        "min_per_condition": min(per_condition.values(), default=0),
        "max_per_condition": max(per_condition.values(), default=0),
        "singleton_conditions": histogram.get(1, 0),
        "status": dict(status),
        "reasons": dict(reasons.most_common(12)),
        "partitions": dict(parts),
        "folds": fold_rows,
        "with_landmarks": sum(r.landmarks is not None for r in kept),
        "near_duplicate_images": sum(1 for r in kept if any(x.startswith("near-duplicate") for x in r.reasons)),
        "rdface_hf_version": __version__,
        "build_config": {k: v for k, v in config.to_dict().items() if k not in RUN_ONLY},
    }
