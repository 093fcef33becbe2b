"""``rdface filter``: score a synthetic set against one fold's real training faces, keep the best.

Leak-free by construction: prototypes come from
:meth:`~rdface_hf.dataset.facade.RDFaceDataset.training_split` alone (fold K's
train split, or every non-test image with ``--fold test``), so the test split
never influences a score, and the output is byte-identical whatever the test
images are. Every input row comes out, scored, with a ``kept`` flag; images
without a face (and of conditions without a training face) are rejected and
counted, never dropped.

Output folder::

    data/train-*.parquet     the synthetic set, every row, plus `landmarks`, `score`, `kept`
                             and the score's components (`score_<name>`)
    README.md                its card (load with datasets.load_dataset(O, split="train"))
    generation_config.json   the generator's config, copied from the input set
    filter_config.json       this run's settings and provenance (dataset digest of the training split)
    filter_summary.json/.csv/.md   counts and score quantiles per condition
    score_histogram.png      scores of kept and rejected images
    kept_rejected.png        per condition: the best kept and worst rejected images, with scores
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from .._errors import InputError
from .._io import file_sha256
from .._outputs import atomic_output_dir, note
from ..dataset.geometry import has_face, in_pixels
from ..dataset.landmarks import Landmarker, resolve_landmarker_model
from ..dataset.synthetic import GENERATION_CONFIG, SyntheticSet
from .config import FilterConfig, FilterResult
from .detect import Detected, synthetic_landmarks
from .inputs import (
    TrainingSplit,
    clean_table,
    content_keys,
    foreign_parents,
    leaky_rows,
    open_dataset,
    open_synthetic,
    quiet_datasets,
    read_labels,
    read_rows,
    set_digest,
    training_split,
)
from .near_copy import guard_columns, guard_wanted, run_guard
from .report import histogram, kept_rejected, per_condition, write_summary
from .scores import LandmarkScorer, Paper5ptScorer
from .select import select
from .write import write_scored_set


def compute_scores(
    config: FilterConfig, train: TrainingSplit, images: list[dict], labels: np.ndarray, detected: Detected
) -> dict[str, np.ndarray]:
    """``score`` (NaN: rejected, no face or no prototype) and its components, one value per row."""
    face = has_face(detected.points)
    num_classes = len(train.dataset.class_names)
    if config.score == "embedding":
        try:  # torch and transformers: imported only for this score
            from .embedding import EmbeddingScorer, load_backbone
        except ImportError as exc:
            msg = f"--score embedding needs torch and transformers ({exc}): pip install 'rdface_hf[train]'"
            raise InputError(msg) from None

        backbone = load_backbone(config.embedding_model, revision=config.embedding_revision)
        fit = backbone.embed(train.rows["image"], batch_size=config.batch_size, progress=config.progress)
        scorer = EmbeddingScorer.fit(fit, train.labels, num_classes)
        rows = np.flatnonzero(face)
        emb = backbone.embed([images[i] for i in rows], batch_size=config.batch_size, progress=config.progress)
        out = {"score": np.full(len(labels), np.nan)}
        if len(rows):
            out["score"][rows] = scorer.score(emb, labels[rows])["score"]
        return out
    cls = LandmarkScorer if config.score == "landmarks" else Paper5ptScorer
    # Small matrices (a few hundred rows): one BLAS thread is as fast, and many times faster
    # than two on a busy machine (OpenBLAS threads spin against other processes).
    with threadpool_limits(1):
        try:
            scorer = cls.fit(train.pixel_points, train.labels, num_classes)
        except ValueError as exc:
            raise InputError(
                f"{config.dataset}: cannot fit {config.score} prototypes on fold {config.fold}: {exc}"
            ) from None
        out = scorer.score(in_pixels(detected.points, detected.sizes), labels)
    out["score"][~face] = np.nan
    return out


def _overall(config: FilterConfig, labels, scores, kept, face, train: TrainingSplit, mismatched: int, guard) -> dict:
    return {
        "score": config.score,
        "mode": config.mode,
        "fold": str(config.fold),
        "threshold": config.threshold,
        "top_n": config.keep_per_condition if config.mode == "top-n-per-condition" else config.top_n,
        "images": len(labels),
        "kept": int(kept.sum()),
        "rejected": int((~kept).sum()),
        "no_face": int((~face).sum()),
        "no_prototype": int((face & np.isnan(scores)).sum()),
        "image_id_mismatch": mismatched,
        "training_images": len(train.labels),
        "training_faces": int(has_face(train.points).sum()),
        "near_copies": None if guard is None else int(guard.near_copy.sum()),
        "near_copy_guard": None if guard is None else guard.summary(),
    }


def _check_provenance(synthetic: SyntheticSet, table, config: FilterConfig, train: TrainingSplit) -> None:
    """Notes (not errors: the filter's scores are leak-free) on rows that merge will refuse."""
    foreign = foreign_parents(table.column("parent_ids").to_pylist(), set(train.rows["image_id"]))
    if foreign:
        note(
            f"{synthetic.path}: {foreign} image(s) were made from real images outside fold {config.fold}'s "
            "training split (parent_ids); 'rdface merge' will refuse them for this fold"
        )
    trained_on = table.column("trained_on").to_pylist()
    generators = table.column("generator").to_pylist()
    leaks = leaky_rows(trained_on, generators, config.fold, train.dataset.num_folds, str(synthetic.path))
    if leaks:
        shown = ", ".join(f"{n} trained on {tag}" for tag, n in sorted(leaks.items()))
        note(
            f"{synthetic.path}: {shown}: their generators saw images outside fold {config.fold}'s training "
            "split; 'rdface merge' will refuse them for this fold"
        )


def filter_synthetic(config: FilterConfig, *, landmarker: Landmarker | None = None) -> FilterResult:
    """Run the filter (see the module docstring); ``landmarker`` replaces MediaPipe (tests)."""
    start = time.perf_counter()
    SyntheticSet(config.synthetic)  # a bad set is refused before the dataset loads
    dataset = open_dataset(config.dataset)
    with quiet_datasets():
        train = training_split(dataset, config.fold)
        synthetic = open_synthetic(config.synthetic, dataset.class_names)
    table = read_rows(synthetic)
    labels = read_labels(table, len(dataset.class_names), str(synthetic.path))
    table, mismatched = clean_table(table, dataset, config.fold, str(synthetic.path))  # no held-out image, no metadata
    images = table.column("image").to_pylist()
    keys = content_keys(images)
    _check_provenance(synthetic, table, config, train)
    inputs = [p for p in (config.dataset, config.synthetic) if Path(p).exists()]
    wanted = guard_wanted(config.reject_near_copies)
    owner = FilterConfig.owner()
    with atomic_output_dir(config.output_dir, owner=owner, overwrite=config.overwrite, inputs=inputs) as tmp:
        detected = synthetic_landmarks(
            images, keys, landmarker=landmarker, model_path=config.face_landmarker,
            cache_root=config.landmark_cache, workers=config.workers, progress=config.progress,
        )  # fmt: skip
        scoring_start = time.perf_counter()
        scores = compute_scores(config, train, images, labels, detected)
        guard = run_guard(train, images, detected.points, threshold=config.near_copy_threshold) if wanted else None
        selectable = scores["score"] if guard is None else np.where(guard.near_copy, np.nan, scores["score"])
        kept = select(
            selectable, labels, mode=config.mode, threshold=config.threshold,
            top_n=config.keep_per_condition if config.mode == "top-n-per-condition" else config.top_n,
        )  # fmt: skip
        scoring_seconds = time.perf_counter() - scoring_start
        face = has_face(detected.points)
        overall = _overall(config, labels, scores["score"], kept, face, train, mismatched, guard)
        near = None if guard is None else guard.near_copy
        rows = per_condition(labels, scores["score"], kept, face, dataset.class_names, dataset.abbreviations, near)
        extra, card_note = guard_columns(scores["score"], kept, face, guard)
        write_scored_set(tmp, config, dataset, synthetic, table, detected.points, scores, kept, extra, card_note)
        if (synthetic.path / GENERATION_CONFIG).is_file():
            (tmp / GENERATION_CONFIG).write_bytes((synthetic.path / GENERATION_CONFIG).read_bytes())
        write_summary(tmp, overall, rows)
        _plot(tmp, config, scores["score"], kept, overall)
        kept_rejected(tmp / "kept_rejected.png", images, labels, scores["score"], kept, face, dataset.abbreviations)
        provenance = _provenance(config, train, synthetic, landmarker)
        config.save(tmp / config.config_file(), **provenance, near_copy_guard=overall["near_copy_guard"])
    return FilterResult(
        out=Path(config.output_dir).absolute(), score=config.score, mode=config.mode, fold=str(config.fold),
        images=overall["images"], kept=overall["kept"], rejected=overall["rejected"], no_face=overall["no_face"],
        near_copies=None if guard is None else int(guard.near_copy.sum()),
        cached_landmarks=detected.cached, per_condition=rows, seconds=time.perf_counter() - start,
        scoring_seconds=scoring_seconds,
    )  # fmt: skip


def _plot(folder: Path, config: FilterConfig, scores: np.ndarray, kept: np.ndarray, overall: dict) -> None:
    rule = f"score >= {config.threshold:g}" if config.mode == "threshold" else f"{config.mode} {overall['top_n']}"
    title = f"rdface filter: {config.score} score, fold {config.fold}, {rule}"
    histogram(folder / "score_histogram.png", scores, kept, score_name=config.score, title=title,
              no_face=overall["no_face"])  # fmt: skip


def _provenance(config: FilterConfig, train: TrainingSplit, synthetic: SyntheticSet, landmarker) -> dict:
    model = "custom" if landmarker is not None else file_sha256(resolve_landmarker_model(config.face_landmarker))
    return {
        "dataset": train.dataset.repo_id or Path(train.dataset.root).name,
        "training_split_digest": train.digest(),
        "training_fold": str(train.fold),
        "synthetic_digest": set_digest(synthetic.path),
        "landmarker_sha256": model,
    }
