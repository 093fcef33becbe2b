"""The near-copy guard of ``rdface filter`` and ``rdface merge``: a synthetic image whose
face-identity embedding lies closer than a threshold to one of the fold's *training* images
(the generator's possible parents) is a near copy of a real child and is never kept.

Leak-free: only :meth:`~rdface_hf.dataset.facade.RDFaceDataset.training_split` is read (the
audit, ``rdface audit-synthetic``, is the tool that looks at every real image, test included).
The default threshold is calibrated on the same training images: the 1st percentile of their
distances to their nearest other training image.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._errors import InputError
from .._outputs import note
from ..dataset.geometry import NUM_LANDMARKS
from ..dataset.identity import (
    INSTALL_HINT,
    EmbeddingCache,
    FaceModelError,
    default_embedder,
    embed_faces,
    embed_rows,
    face_model_available,
)
from ..dataset.near_copies import DEFAULT_PERCENTILE, calibrated_threshold, nearest_real, quantiles, references
from .inputs import TrainingSplit

NEAR_COPY = "near_copy"
GUARD_COLUMNS = ("near_copy", "near_copy_distance", "nearest_training_id")


@dataclass
class Guard:
    """The guard's answer for every synthetic row."""

    near_copy: np.ndarray  # bool; False where no embedding
    distance: np.ndarray  # to the nearest training image (NaN: no embedding)
    nearest_id: list[str | None]
    threshold: float
    calibrated: bool
    training_nn: dict  # quantiles of training-to-nearest-other-training distances
    no_embedding: int
    embedder: str

    def summary(self) -> dict:
        return {
            "near_copies": int(self.near_copy.sum()),
            "threshold": round(self.threshold, 4),
            "threshold_source": f"{DEFAULT_PERCENTILE:g}st percentile of training-to-nearest-other-training distances"
            if self.calibrated
            else "--near-copy-threshold",
            "distance_to_nearest_training": quantiles(self.distance),
            "training_to_nearest_other_training": self.training_nn,
            "no_embedding": self.no_embedding,
            "embedder": self.embedder,
            "compared_with": "the fold's training images only",
        }


def guard_wanted(requested: bool) -> bool:
    """On when asked for (the default) and the face model is installed; a note when it is not."""
    if requested and not face_model_available():
        note(f"near-copy guard off: the face-recognition model is not installed ({INSTALL_HINT})")
        return False
    return bool(requested)


def run_guard(
    train: TrainingSplit,
    images: list[dict],
    points: np.ndarray,
    *,
    threshold: float | None = None,
    embedder=None,
    cache_root: str | None = None,
) -> Guard:
    """Embed the training split and the synthetic images (``points``: (N, 478, 3) normalised)."""
    try:
        embedder = embedder if embedder is not None else default_embedder()
    except FaceModelError as exc:
        raise InputError(str(exc)) from None
    cache = EmbeddingCache(cache_root, getattr(embedder, "digest", embedder.name))
    real = references(*(embed_rows(train.rows, embedder, cache=cache, mirror=m)[0] for m in (False, True)))
    try:
        calibrated, nn = calibrated_threshold(real)
    except ValueError as exc:
        if threshold is None:
            raise InputError(f"{train.dataset.source}, fold {train.fold}: {exc}; pass --near-copy-threshold") from None
        nn = np.full(len(real), np.nan)
        calibrated = float("nan")
    faces = [None if np.isnan(p).any() else p for p in points]
    synthetic, _ = embed_faces(images, faces, embedder, cache=cache)
    idx, dist = nearest_real(synthetic, real, k=1)
    limit = calibrated if threshold is None else float(threshold)
    ids = list(train.rows["image_id"])
    return Guard(
        near_copy=np.isfinite(dist[:, 0]) & (dist[:, 0] < limit),
        distance=np.where(np.isfinite(dist[:, 0]), dist[:, 0], np.nan),
        nearest_id=[ids[j] if j >= 0 else None for j in idx[:, 0]],
        threshold=limit,
        calibrated=threshold is None,
        training_nn=quantiles(nn),
        no_embedding=int((~np.isfinite(synthetic).all(1)).sum()),
        embedder=getattr(embedder, "name", type(embedder).__name__),
    )


def reasons(scores: np.ndarray, kept: np.ndarray, face: np.ndarray, near_copy: np.ndarray | None) -> list[str]:
    """Why each row is kept or not: kept, near_copy, no_face, no_prototype or not_selected."""
    out = []
    for i in range(len(kept)):
        if kept[i]:
            out.append("kept")
        elif near_copy is not None and near_copy[i]:
            out.append(NEAR_COPY)
        elif not face[i]:
            out.append("no_face")
        elif np.isnan(scores[i]):
            out.append("no_prototype")
        else:
            out.append("not_selected")
    return out


def guard_columns(scores, kept, face, guard: Guard | None) -> tuple[dict, str]:
    """The output's ``reason`` column, the guard's columns, and the card's sentence on the guard."""
    import datasets  # the filter's output schema (already loaded by the filter)

    near = None if guard is None else guard.near_copy
    extra = {"reason": (datasets.Value("string"), reasons(scores, kept, face, near))}
    if guard is None:
        return extra, " The near-copy guard did not run (no face-identity comparison with the training faces)."
    distance = [None if np.isnan(d) else float(d) for d in guard.distance]
    extra.update(
        near_copy=(datasets.Value("bool"), [bool(v) for v in guard.near_copy]),
        near_copy_distance=(datasets.Value("float32"), distance),
        nearest_training_id=(datasets.Value("string"), guard.nearest_id),
    )
    note = (
        f" Near-copy guard: {int(guard.near_copy.sum())} image(s) closer than {guard.threshold:.4g} (dlib "
        "face-identity distance) to one of the fold's training faces were not kept (`near_copy` True, `reason` "
        "near_copy): a generator can hand back a training child. The threshold is "
        f"{guard.summary()['threshold_source']}."
    )
    return extra, note


def _points_of(table, images: list[dict]) -> np.ndarray:
    """Landmarks of a set's rows: its ``landmarks`` column (a filtered set), else MediaPipe's."""
    from ..dataset.landmarks import detect_landmarks  # MediaPipe: only for an unfiltered set

    points = np.full((len(images), NUM_LANDMARKS, 3), np.nan, dtype=np.float32)
    if "landmarks" in table.column_names:
        for i, p in enumerate(table.column("landmarks").to_pylist()):
            if p is not None:
                points[i] = np.asarray(p, dtype=np.float32).reshape(NUM_LANDMARKS, 3)
        return points
    import io  # decoding: only for an unfiltered set

    from PIL import Image

    def decode(im):
        with Image.open(io.BytesIO(im["bytes"])) as opened:
            return np.asarray(opened.convert("RGB"))

    for i, face in enumerate(detect_landmarks([decode(im) for im in images], workers=1, progress=False)):
        if face is not None:
            points[i] = face.points
    return points


def merge_near_copies(chosen, train: TrainingSplit, allow: bool, where: str) -> dict | None:
    """The near copies among the rows a merge would write: the filter's ``near_copy`` column,
    else the guard run here (when the face model is installed). Refused unless ``allow``."""
    if chosen.num_rows == 0:
        return None
    if "near_copy" in chosen.column_names:
        flagged = sum(bool(v) for v in chosen.column("near_copy").to_pylist())
        record = {"near_copies": flagged, "source": "rdface filter's near-copy guard"}
    elif face_model_available():
        images = chosen.column("image").to_pylist()
        guard = run_guard(train, images, _points_of(chosen, images))
        record = {**guard.summary(), "source": "rdface merge (guard run at merge time)"}
        flagged = record["near_copies"]
    else:
        note(f"near copies not checked: the face-recognition model is not installed ({INSTALL_HINT})")
        return None
    if flagged and not allow:
        raise InputError(
            f"{where}: {flagged} image(s) are near copies of real training faces (face-identity distance below the "
            "guard's threshold): a generator handed back a training child. Drop them, or pass --allow-near-copies"
        )
    return {**record, "allowed": bool(allow)}
