"""Face-identity embeddings: a pretrained face-recognition model, offline, on a CPU.

The default :class:`DlibEmbedder` is dlib's ResNet (``dlib_face_recognition_resnet_model_v1.dat``,
128-D, 99.38 % on LFW, CC0), shipped by the ``face-recognition-models`` package. Faces are
aligned from the MediaPipe landmarks the build (or the filter) already has: five points, the
eye corners and the base of the nose, in the layout of dlib's 5-point model, go through
``dlib.get_face_chip`` (150 px, padding 0.25), so every face MediaPipe found gets an embedding
and dlib's own detector is not needed. The 68-point predictor is never used (its training data
forbids commercial use).

Anything with ``embed(image, face) -> (128,) float32 | None`` stands in (:class:`FaceEmbedder`).
Distances are Euclidean; dlib calls two faces the same person below 0.6.

dlib is imported lazily: the package works without it, and a stage that needs it says
``pip install 'rdface_hf[face]'`` in one line.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
from PIL import Image
from tqdm.auto import tqdm

from .._errors import RDFaceError
from .._io import atomic_write_bytes
from .landmarks import FaceLandmarks, _as_rgb_array, cache_dir

EMBEDDING_DIM = 128
SAME_PERSON = 0.6  # dlib's rule: below this distance, the same person
RESNET_FILE = "dlib_face_recognition_resnet_model_v1.dat"
INSTALL_HINT = "pip install 'rdface_hf[face]'"
# MediaPipe indices of dlib's 5 points: image-right eye outer/inner corner, image-left eye
# outer/inner corner, base of the nose (checked against dlib's 5-point predictor).
FIVE_POINTS = (263, 362, 33, 133, 2)
MIN_EYE_DISTANCE_PX = 8.0  # smaller faces cannot be aligned (status "face_too_small")
CHIP_SIZE, CHIP_PADDING = 150, 0.25
ALIGNMENT_VERSION = b"mediapipe-5pt-v1"
STATUSES = ("ok", "no_face", "face_too_small", "bad_image")


class FaceModelError(RDFaceError):
    """dlib or the face-recognition model is missing or unreadable."""


@runtime_checkable
class FaceEmbedder(Protocol):
    """Anything that turns one face into an identity embedding (a row of floats), or ``None``."""

    name: str

    def embed(self, image: np.ndarray | Image.Image, face: FaceLandmarks | None) -> np.ndarray | None: ...


def face_model_available() -> bool:
    """dlib and the model files are installed (without importing either)."""
    try:
        return importlib.util.find_spec("dlib") is not None and _models_dir() is not None
    except (ImportError, ValueError):
        return False


def _models_dir() -> Path | None:
    spec = importlib.util.find_spec("face_recognition_models")  # never imported: it needs pkg_resources
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "models"
    return folder if (folder / RESNET_FILE).is_file() else None


def resolve_face_model(path: str | os.PathLike | None = None) -> Path:
    """The ResNet model file: ``path``, or the one ``face-recognition-models`` ships."""
    if path:
        found = Path(path).expanduser()
        if not found.is_file():
            raise FaceModelError(f"face-recognition model not found: {found}")
        return found
    folder = _models_dir()
    if folder is None:
        raise FaceModelError(f"the face-recognition model is not installed: {INSTALL_HINT}")
    return folder / RESNET_FILE


def five_points(face: FaceLandmarks) -> np.ndarray:
    """(5, 2) pixel positions in dlib's 5-point layout."""
    return face.pixels()[list(FIVE_POINTS)]


def mirror_face(image: np.ndarray, face: FaceLandmarks | None) -> tuple[np.ndarray, FaceLandmarks | None]:
    """The image mirrored left-right and its face: points mirrored, the eyes' roles swapped
    (the five points stay in dlib's layout)."""
    flipped = np.ascontiguousarray(image[:, ::-1])
    if face is None:
        return flipped, None
    pts = face.points.copy()
    pts[:, 0] = 1.0 - pts[:, 0]
    a, b = list(FIVE_POINTS[:2]), list(FIVE_POINTS[2:4])
    pts[a + b] = pts[b + a]
    box = np.array([1.0 - face.box[2], face.box[1], 1.0 - face.box[0], face.box[3]], dtype=np.float32)
    return flipped, FaceLandmarks(points=pts, box=box, width=face.width, height=face.height)


def face_status(image: np.ndarray, face: FaceLandmarks | None) -> str:
    """Why a face cannot be embedded, or ``ok``."""
    if face is None or not np.isfinite(face.points).all():
        return "no_face"
    pts = five_points(face)
    if np.linalg.norm(pts[0] - pts[2]) < MIN_EYE_DISTANCE_PX or min(image.shape[:2]) < 16:
        return "face_too_small"
    return "ok"


class DlibEmbedder:
    """dlib's ResNet on faces aligned from MediaPipe landmarks (see the module docstring)."""

    name = "dlib-resnet-v1"

    def __init__(self, model_path: str | os.PathLike | None = None) -> None:
        try:
            import dlib  # optional (rdface_hf[face]): the package works without it
        except ImportError:
            raise FaceModelError(f"face identity needs dlib: {INSTALL_HINT}") from None
        self.model_path = resolve_face_model(model_path)
        try:
            self._net = dlib.face_recognition_model_v1(str(self.model_path))
        except RuntimeError as exc:
            raise FaceModelError(f"cannot load the face-recognition model {self.model_path}: {exc}") from None
        self._dlib = dlib
        self.digest = hashlib.sha256(self.model_path.read_bytes() + ALIGNMENT_VERSION).hexdigest()

    def chip(self, image: np.ndarray, face: FaceLandmarks) -> np.ndarray:
        """The aligned 150x150 face chip."""
        dlib = self._dlib
        pts = five_points(face)
        (x0, y0), (x1, y1) = pts.min(0), pts.max(0)
        rect = dlib.rectangle(int(x0), int(y0), int(np.ceil(x1)), int(np.ceil(y1)))
        shape = dlib.full_object_detection(rect, [dlib.point(int(np.rint(x)), int(np.rint(y))) for x, y in pts])
        return np.asarray(dlib.get_face_chip(image, shape, size=CHIP_SIZE, padding=CHIP_PADDING))

    def embed(self, image: np.ndarray | Image.Image, face: FaceLandmarks | None) -> np.ndarray | None:
        arr = _as_rgb_array(image)
        if face_status(arr, face) != "ok":
            return None
        return np.asarray(self._net.compute_face_descriptor(self.chip(arr, face)), dtype=np.float32)

    def embed_many(self, images: Sequence, faces: Sequence[FaceLandmarks | None]) -> list[np.ndarray | None]:
        """One batched forward pass over the faces that can be embedded."""
        arrays = [_as_rgb_array(im) for im in images]
        ok = [i for i, (a, f) in enumerate(zip(arrays, faces)) if face_status(a, f) == "ok"]
        out: list[np.ndarray | None] = [None] * len(arrays)
        if ok:
            chips = [self.chip(arrays[i], faces[i]) for i in ok]
            for i, vec in zip(ok, self._net.compute_face_descriptor(chips)):
                out[i] = np.asarray(vec, dtype=np.float32)
        return out


def default_embedder(model_path: str | os.PathLike | None = None) -> DlibEmbedder:
    return DlibEmbedder(model_path)


# --- cache ---------------------------------------------------------------------------------


def content_key(image_bytes: bytes, face: FaceLandmarks | None) -> str:
    """sha256 of the image bytes and of the landmarks that align it."""
    h = hashlib.sha256(hashlib.sha256(image_bytes).digest())
    if face is not None:
        h.update(np.ascontiguousarray(face.points, dtype=np.float32).tobytes())
    return h.hexdigest()


class EmbeddingCache:
    """Embeddings by content key, in a folder per embedder (``<cache>/face_identity/<digest[:16]>``);
    entries are ``(129,)`` float32 ``.npy`` files (the last value 1.0 with an embedding)."""

    def __init__(self, root: str | os.PathLike | None, digest: str) -> None:
        self.folder = (Path(root) if root else cache_dir() / "face_identity") / digest[:16]

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.npy"

    def get(self, key: str) -> tuple[bool, np.ndarray | None]:
        """``(cached, embedding or None)``."""
        try:
            entry = np.load(self._path(key), allow_pickle=False)
        except (OSError, ValueError, EOFError):
            return False, None
        if entry.shape != (EMBEDDING_DIM + 1,) or entry.dtype != np.float32:
            return False, None
        return True, (entry[:EMBEDDING_DIM].copy() if entry[EMBEDDING_DIM] == 1.0 else None)

    def put(self, key: str, embedding: np.ndarray | None) -> None:
        entry = np.zeros(EMBEDDING_DIM + 1, dtype=np.float32)
        if embedding is not None:
            entry[:EMBEDDING_DIM], entry[EMBEDDING_DIM] = embedding, 1.0
        buf = io.BytesIO()
        np.save(buf, entry, allow_pickle=False)
        atomic_write_bytes(self._path(key), buf.getvalue())


def _decode(image) -> tuple[np.ndarray | None, bytes]:
    """An image cell (PIL, array, or ``{"bytes": ...}``) as RGB and its bytes."""
    try:
        if isinstance(image, dict):
            raw = image.get("bytes") or Path(image["path"]).read_bytes()
            with Image.open(io.BytesIO(raw)) as im:
                return _as_rgb_array(im), raw
        arr = _as_rgb_array(image)
        return arr, arr.tobytes() + str(arr.shape).encode()
    except (OSError, ValueError, TypeError, KeyError, Image.DecompressionBombError):
        return None, b""


def embed_faces(
    images: Sequence,
    faces: Sequence[FaceLandmarks | np.ndarray | None],
    embedder: FaceEmbedder,
    *,
    cache: EmbeddingCache | None = None,
    batch_size: int = 32,
    mirror: bool = False,
) -> tuple[np.ndarray, list[str]]:
    """``(N, 128)`` float32 embeddings (NaN rows without one) and a status per row (:data:`STATUSES`).

    A face is a :class:`FaceLandmarks` or stored normalised points (a build's ``landmarks``).
    ``mirror``: embed each image's mirror image instead (a flipped copy of it lies near that)."""
    out = np.full((len(images), EMBEDDING_DIM), np.nan, dtype=np.float32)
    status = ["bad_image"] * len(images)
    todo: list[tuple[int, str, np.ndarray, FaceLandmarks]] = []
    for i, (image, face) in enumerate(zip(images, faces)):
        arr, raw = _decode(image)
        if arr is None:
            continue
        if face is not None and not isinstance(face, FaceLandmarks):
            face = face_from_points(face, arr.shape[1], arr.shape[0])
        if mirror:
            arr, face = mirror_face(arr, face)
            raw += b"\0mirror"
        status[i] = face_status(arr, face)
        if status[i] != "ok":
            continue
        key = content_key(raw, face)
        hit, vec = cache.get(key) if cache is not None else (False, None)
        if hit and vec is not None:
            out[i] = vec
        else:
            todo.append((i, key, arr, face))
    many = getattr(embedder, "embed_many", None)
    # a bar on a terminal (tqdm's disable=None), none in logs: embedding takes a while on a CPU
    bar = tqdm(total=len(todo), desc="face identity", unit="face", disable=None if len(todo) > batch_size else True)
    for start in range(0, len(todo), batch_size):
        part = todo[start : start + batch_size]
        bar.update(len(part))
        arrs, fs = [t[2] for t in part], [t[3] for t in part]
        vecs = many(arrs, fs) if many else [embedder.embed(a, f) for a, f in zip(arrs, fs)]
        for (i, key, _, _), vec in zip(part, vecs):
            if vec is None:
                status[i] = "no_face"
            else:
                out[i] = vec
            if cache is not None:
                cache.put(key, vec)
    bar.close()
    return out, status


def face_from_points(points: np.ndarray | None, width: int, height: int) -> FaceLandmarks | None:
    """A :class:`FaceLandmarks` from stored normalised points (``None`` or NaN: no face)."""
    if points is None:
        return None
    pts = np.asarray(points, dtype=np.float32).reshape(-1, 3)
    if pts.shape[0] <= max(FIVE_POINTS) or not np.isfinite(pts[list(FIVE_POINTS)]).all():
        return None
    box = np.concatenate([pts[:, :2].min(0), pts[:, :2].max(0)]).astype(np.float32)
    return FaceLandmarks(points=pts, box=box, width=int(width), height=int(height))


def nearest(queries: np.ndarray, references: np.ndarray, k: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``(Q, k)`` and Euclidean distances ``(Q, k)`` of each query's nearest references
    (NaN rows on either side never match: distance inf, index -1)."""
    q_ok, r_ok = np.isfinite(queries).all(1), np.isfinite(references).all(1)
    k = max(1, min(k, int(r_ok.sum()) or 1))
    idx = np.full((len(queries), k), -1, dtype=np.int64)
    dist = np.full((len(queries), k), np.inf)
    if q_ok.any() and r_ok.any():
        q, r = queries[q_ok].astype(np.float64), references[r_ok].astype(np.float64)
        d2 = (q**2).sum(1)[:, None] + (r**2).sum(1)[None, :] - 2 * q @ r.T
        d = np.sqrt(np.clip(d2, 0, None))
        order = np.argsort(d, axis=1, kind="stable")[:, :k]
        idx[q_ok] = np.flatnonzero(r_ok)[order]
        dist[q_ok] = np.take_along_axis(d, order, axis=1)
    return idx, dist


def embed_rows(
    rows, embedder: FaceEmbedder, *, cache: EmbeddingCache | None = None, mirror: bool = False
) -> tuple[np.ndarray, list[str]]:
    """Embeddings of a build's rows (a ``datasets.Dataset`` with ``image`` and ``landmarks``),
    aligned from their stored landmarks."""
    import datasets  # the dataset core's own dependency; kept out of this module's import

    if len(rows) == 0:
        return np.zeros((0, EMBEDDING_DIM), dtype=np.float32), []
    raw = rows.select_columns(["image", "landmarks"]).cast_column("image", datasets.Image(decode=False))
    points = [None if p is None else np.asarray(p, dtype=np.float32) for p in raw["landmarks"]]
    return embed_faces(raw["image"], points, embedder, cache=cache, mirror=mirror)
