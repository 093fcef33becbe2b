"""What the audit reads and embeds: every real image (test included) and the synthetic set."""

from __future__ import annotations

import io
from dataclasses import dataclass

import datasets
import numpy as np
from PIL import Image

from .._errors import InputError
from ..dataset.facade import RDFaceDataset, parse_fold
from ..dataset.identity import EmbeddingCache, FaceModelError, default_embedder, embed_faces, embed_rows
from ..dataset.landmarks import Landmarker, detect_landmarks
from ..dataset.near_copies import alterations, references
from ..dataset.synthetic import SyntheticSet


@dataclass
class Reals:
    """Every real image of the dataset: ids, roles (training / validation / test for the fold), embeddings."""

    rows: datasets.Dataset  # images not decoded
    ids: list[str]
    roles: list[str]
    refs: np.ndarray  # (N, 2, 128): each image and its mirror image


def make_embedder(embedder=None):
    try:
        embedder = embedder if embedder is not None else default_embedder()
    except FaceModelError as exc:
        raise InputError(str(exc)) from None
    return embedder, EmbeddingCache(None, getattr(embedder, "digest", embedder.name))


def real_images(dataset: RDFaceDataset, fold: str, embedder, cache) -> Reals:
    parts = dataset.default()
    rows = datasets.concatenate_datasets([parts[s] for s in ("train", "test") if s in parts])
    rows = rows.cast_column("image", datasets.Image(decode=False))
    if len(rows) == 0:
        raise InputError(f"{dataset.source} has no real images")
    training = set(dataset.image_ids(dataset.training_split(fold)))
    test = set(dataset.image_ids(parts["test"])) if "test" in parts else set()
    ids = list(rows["image_id"])
    roles = ["training" if i in training else "test" if i in test else "validation" for i in ids]
    views = [embed_rows(rows, embedder, cache=cache, mirror=m)[0] for m in (False, True)]
    return Reals(rows, ids, roles, references(*views))


def _decode(image: dict) -> np.ndarray | None:
    try:
        with Image.open(io.BytesIO(image["bytes"])) as im:
            return np.asarray(im.convert("RGB"))
    except Exception:  # a damaged image is a row status, never a crash
        return None


def synthetic_rows(path: str, class_names: list[str]) -> datasets.Dataset:
    synthetic = SyntheticSet(path)
    synthetic.check_classes(class_names)
    if len(synthetic) == 0:
        raise InputError(f"{path} is an empty synthetic set (no images)")
    return synthetic.dataset.cast_column("image", datasets.Image(decode=False))


def detect(pixels: list, landmarker: Landmarker | None, model: str | None, workers, progress) -> list:
    """Faces of decoded images (``None`` for an undecodable one or without a face)."""
    ok = [i for i, p in enumerate(pixels) if p is not None]
    found = (
        [landmarker.detect(pixels[i]) for i in ok]
        if landmarker is not None
        else detect_landmarks([pixels[i] for i in ok], model_path=model, workers=workers, progress=progress)
    )
    out: list = [None] * len(pixels)
    for i, face in zip(ok, found):
        out[i] = face
    return out


def embed_synthetic(rows: datasets.Dataset, embedder, cache, landmarker, config) -> tuple[np.ndarray, list[str]]:
    """Embeddings and statuses of the synthetic images (faces found by MediaPipe, or a stand-in)."""
    images = rows["image"]
    pixels = [_decode(im) for im in images]
    faces = detect(pixels, landmarker, config.face_landmarker, config.workers, config.progress)
    arrays = [p if p is not None else np.zeros((1, 1, 3), np.uint8) for p in pixels]
    emb, status = embed_faces(arrays, faces, embedder, cache=cache)
    status = ["bad_image" if p is None else s for p, s in zip(pixels, status)]
    emb[[s == "bad_image" for s in status]] = np.nan
    return emb, status


def altered_copy_distances(reals: Reals, count: int, embedder, landmarker, config) -> dict[str, np.ndarray]:
    """Distances from real images (``count``, evenly spaced) to their own altered copies
    (NaN where MediaPipe finds no face in the copy)."""
    if count <= 0:
        return {}
    picks = np.unique(np.linspace(0, len(reals.ids) - 1, min(count, len(reals.ids))).astype(int))
    copies, owner, kinds = [], [], []
    for i in picks:
        px = _decode(reals.rows[int(i)]["image"])
        for name, copy in ({} if px is None else alterations(px, seed=int(i))).items():
            copies.append(copy)
            owner.append(int(i))
            kinds.append(name)
    faces = detect(copies, landmarker, config.face_landmarker, config.workers, config.progress)
    vecs, _ = embed_faces(copies, faces, embedder)
    d = np.linalg.norm(reals.refs[owner, 0].astype(np.float64) - vecs, axis=1) if copies else np.zeros(0)
    kinds_arr = np.asarray(kinds)
    return {k: d[kinds_arr == k] for k in dict.fromkeys(kinds)}


def fold_ok(dataset: RDFaceDataset, fold: str) -> None:
    k = parse_fold(fold)
    if k is not None and k >= dataset.num_folds:
        raise InputError(f"{dataset.source} has no fold {k} (it has {dataset.num_folds} folds)")
