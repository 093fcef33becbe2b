"""MediaPipe face landmarks (478 3-D points), face boxes and Procrustes alignment.

The Face Landmarker bundle is resolved, in this order, from

1. an explicit ``model_path`` argument,
2. the ``RDFACE_FACE_LANDMARKER`` environment variable,
3. the user cache (``$RDFACE_CACHE`` or ``~/.cache/rdface_hf``),
4. a download from Google's official URL, checked against a pinned sha256
   (skipped when ``HF_HUB_OFFLINE`` / ``RDFACE_OFFLINE`` is set).

Landmarks are returned as MediaPipe gives them: ``x`` and ``y`` normalised by
the image width and height (0..1), ``z`` in roughly the scale of ``x`` (depth,
smaller is nearer the camera). Boxes are ``[x_min, y_min, x_max, y_max]`` of
the landmarks, in the same normalised coordinates. No face is a result
(``None``), never an exception.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import tempfile
import threading
import urllib.request
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
from PIL import Image

from .._errors import RDFaceError
from .._io import file_sha256
from .._parallel import parallel_map
from .geometry import NUM_LANDMARKS  # noqa: F401  (re-exported: the table lives in geometry.py)

LANDMARKER_ENV = "RDFACE_FACE_LANDMARKER"
LANDMARKER_URL = (
    "https://storage.googleapis.com/mediapipe-models/face_landmarker/face_landmarker/float16/1/face_landmarker.task"
)
LANDMARKER_SHA256 = "64184e229b263107bc2b804c6625db1341ff2bb731874b0bcc2fe6544e0bc9ff"
LANDMARKER_FILENAME = "face_landmarker.task"


class LandmarkerModelError(RDFaceError):
    """The face landmarker bundle cannot be found, fetched or verified."""


def cache_dir() -> Path:
    """The user cache folder of rdface_hf (``$RDFACE_CACHE`` overrides)."""
    if os.environ.get("RDFACE_CACHE"):
        return Path(os.environ["RDFACE_CACHE"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "rdface_hf"


def _offline() -> bool:
    flags = ("HF_HUB_OFFLINE", "RDFACE_OFFLINE")
    return any(os.environ.get(f, "").strip().lower() in {"1", "true", "yes", "on"} for f in flags)


def download_landmarker(dest: Path, url: str = LANDMARKER_URL, sha256: str = LANDMARKER_SHA256) -> Path:
    """Fetch the bundle to ``dest`` atomically, refusing a wrong checksum."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".face_landmarker.", dir=dest.parent)
    os.close(fd)
    try:
        with urllib.request.urlopen(url, timeout=60) as resp, open(tmp, "wb") as fh:
            shutil.copyfileobj(resp, fh)
        got = file_sha256(Path(tmp))
        if got != sha256:
            raise LandmarkerModelError(f"downloaded face landmarker has sha256 {got}, expected {sha256}")
        os.replace(tmp, dest)
    except OSError as exc:
        raise LandmarkerModelError(
            f"could not download the face landmarker ({exc}); set {LANDMARKER_ENV} to a local face_landmarker.task"
        ) from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return dest


def resolve_landmarker_model(model_path: str | os.PathLike | None = None, *, download: bool = True) -> Path:
    """Return the path of the face landmarker bundle (see module docstring)."""
    for source, candidate in (("argument", model_path), (LANDMARKER_ENV, os.environ.get(LANDMARKER_ENV))):
        if candidate:
            path = Path(candidate).expanduser()
            if not path.is_file():
                raise LandmarkerModelError(f"face landmarker from {source} not found: {path}")
            return path
    cached = cache_dir() / LANDMARKER_FILENAME
    if cached.is_file():
        if file_sha256(cached) == LANDMARKER_SHA256:
            return cached
        cached.unlink()  # a corrupt cache entry is re-fetched, never used
    if not download or _offline():
        raise LandmarkerModelError(
            f"no face landmarker model: set {LANDMARKER_ENV} to the path of face_landmarker.task "
            f"(offline, nothing cached at {cached})"
        )
    return download_landmarker(cached)


def check_landmarker_model(model_path: str | os.PathLike | None = None) -> Path:
    """Resolve the bundle and open it once, so that a wrong file is one clear
    error here rather than a crash in every worker process."""
    path = resolve_landmarker_model(model_path)
    FaceLandmarker(path).close()
    return path


@dataclass(frozen=True)
class FaceLandmarks:
    """One detected face: 478x3 landmarks and their box, both normalised."""

    points: np.ndarray  # (478, 3) float32: x, y in 0..1 of width/height, z relative depth
    box: np.ndarray  # (4,) float32: x_min, y_min, x_max, y_max (normalised)
    width: int
    height: int
    blendshapes: dict[str, float] | None = None

    def pixels(self) -> np.ndarray:
        """(478, 2) float64 landmark positions in pixels."""
        return self.points[:, :2].astype(np.float64) * np.array([self.width, self.height], dtype=np.float64)

    def box_pixels(self) -> np.ndarray:
        return self.box.astype(np.float64) * np.array([self.width, self.height] * 2, dtype=np.float64)


@runtime_checkable
class Landmarker(Protocol):
    """Anything that finds one face's landmarks: :class:`FaceLandmarker`, or a
    stand-in that a stage or a test passes instead."""

    def detect(self, image: np.ndarray | Image.Image | str | os.PathLike) -> FaceLandmarks | None: ...


def _as_rgb_array(image: np.ndarray | Image.Image | str | os.PathLike) -> np.ndarray:
    if isinstance(image, (str, os.PathLike)):
        with Image.open(image) as im:
            image = im.convert("RGB")
    if isinstance(image, Image.Image):
        image = np.asarray(image.convert("RGB"))
    arr = np.asarray(image)
    if arr.ndim == 2:
        arr = np.repeat(arr[:, :, None], 3, axis=2)
    if arr.ndim != 3 or arr.shape[2] not in (3, 4):
        raise ValueError(f"expected an RGB image array, got shape {arr.shape}")
    return np.ascontiguousarray(arr[:, :, :3], dtype=np.uint8)


@contextlib.contextmanager
def _native_stderr_silenced():
    """Hide the C++ log lines MediaPipe prints while it builds its graph
    (``W0000 ... inference_feedback_manager``); Python errors still raise."""
    if os.environ.get("RDFACE_VERBOSE_MEDIAPIPE"):
        yield
        return
    try:
        saved = os.dup(2)
    except OSError:  # no usable fd 2
        yield
        return
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


_OPEN: weakref.WeakSet = weakref.WeakSet()


def _close_open_landmarkers() -> None:
    """Close the landmarkers a script left open while MediaPipe's worker threads still run;
    at interpreter teardown MediaPipe's own ``__del__`` fails ("Exception ignored in __del__")."""
    for landmarker in list(_OPEN):
        with contextlib.suppress(Exception):  # exiting: nothing left to report to
            landmarker.close()


_HOOKED: list[bool] = []


def _register_open(landmarker) -> None:
    if not _HOOKED:
        # threading's exit hooks run before the thread pools MediaPipe dispatches through shut down
        # (atexit hooks would run after them, too late)
        register = getattr(threading, "_register_atexit", atexit.register)
        with contextlib.suppress(RuntimeError):  # already shutting down
            register(_close_open_landmarkers)
        _HOOKED.append(True)
    _OPEN.add(landmarker)


class FaceLandmarker:
    """MediaPipe Face Landmarker in image mode; use as a context manager.

    >>> with FaceLandmarker() as lm:            # doctest: +SKIP
    ...     face = lm.detect("photo.jpg")        # FaceLandmarks or None
    """

    def __init__(
        self,
        model_path: str | os.PathLike | None = None,
        *,
        blendshapes: bool = False,
        min_detection_confidence: float = 0.5,
        num_faces: int = 1,
    ) -> None:
        # mediapipe (TFLite, about 1 s): kept out of the CLI's start-up
        from mediapipe.tasks.python import vision
        from mediapipe.tasks.python.core.base_options import BaseOptions

        self.model_path = resolve_landmarker_model(model_path)
        options = vision.FaceLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(self.model_path)),
            running_mode=vision.RunningMode.IMAGE,
            num_faces=max(1, int(num_faces)),
            min_face_detection_confidence=min_detection_confidence,
            min_face_presence_confidence=min_detection_confidence,
            output_face_blendshapes=blendshapes,
        )
        self._blendshapes = blendshapes
        self.num_faces = max(1, int(num_faces))
        self._task = None
        with _native_stderr_silenced():
            try:
                self._task = vision.FaceLandmarker.create_from_options(options)
            except (RuntimeError, ValueError, OSError) as exc:
                raise LandmarkerModelError(f"cannot load face landmarker {self.model_path}: {exc}") from None
        _register_open(self)

    def detect(self, image: np.ndarray | Image.Image | str | os.PathLike) -> FaceLandmarks | None:
        """One face (the largest, when made with ``num_faces`` > 1), or ``None``."""
        faces = self.detect_all(image)
        return faces[0] if faces else None

    def detect_all(self, image: np.ndarray | Image.Image | str | os.PathLike) -> list[FaceLandmarks]:
        """Up to ``num_faces`` faces, the largest (by landmark box area) first."""
        import mediapipe as mp  # already loaded by __init__; kept out of the CLI's start-up

        arr = _as_rgb_array(image)
        result = self._task.detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=arr))
        faces = []
        for k, landmarks in enumerate(result.face_landmarks or []):
            pts = np.array([(p.x, p.y, p.z) for p in landmarks], dtype=np.float32)
            box = np.concatenate([pts[:, :2].min(axis=0), pts[:, :2].max(axis=0)]).astype(np.float32)
            shapes = None
            if self._blendshapes and result.face_blendshapes and k < len(result.face_blendshapes):
                shapes = {c.category_name: float(c.score) for c in result.face_blendshapes[k]}
            h, w = arr.shape[:2]
            faces.append(FaceLandmarks(points=pts, box=box, width=w, height=h, blendshapes=shapes))
        area = [float((f.box[2] - f.box[0]) * (f.box[3] - f.box[1])) for f in faces]
        return [faces[i] for i in sorted(range(len(faces)), key=lambda i: -area[i])]  # stable: ties keep order

    def close(self) -> None:
        task, self._task = getattr(self, "_task", None), None
        if task is not None:
            task.close()

    def __enter__(self) -> FaceLandmarker:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:  # close before interpreter teardown, not during it
        try:  # noqa: SIM105 - at teardown the contextlib module may already be gone
            self.close()
        except Exception:
            pass


# --- process-pool batch API -------------------------------------------------


_PROCESS_LANDMARKERS: dict[tuple[str, bool, int], FaceLandmarker] = {}


def close_process_landmarkers() -> None:
    """Close the landmarkers :func:`worker_landmarker` made in this process.

    Call it after in-process (serial) work: MediaPipe cannot close a task
    during interpreter teardown. Pool workers end without teardown.
    """
    while _PROCESS_LANDMARKERS:
        _PROCESS_LANDMARKERS.popitem()[1].close()


def worker_landmarker(model_path: str, blendshapes: bool = False, num_faces: int = 1) -> FaceLandmarker:
    """One landmarker per process (and per model and settings), created on first use."""
    key = (str(model_path), bool(blendshapes), int(num_faces))
    if key not in _PROCESS_LANDMARKERS:
        _PROCESS_LANDMARKERS[key] = FaceLandmarker(model_path, blendshapes=blendshapes, num_faces=num_faces)
    return _PROCESS_LANDMARKERS[key]


def _detect_one(args: tuple[str, bool, object]) -> FaceLandmarks | None:
    model_path, blendshapes, image = args
    return worker_landmarker(model_path, blendshapes).detect(image)


def detect_landmarks(
    images: Iterable[np.ndarray | Image.Image | str | os.PathLike],
    *,
    model_path: str | os.PathLike | None = None,
    workers: int | None = None,
    blendshapes: bool = False,
    progress: bool = True,
    chunksize: int = 4,
) -> list[FaceLandmarks | None]:
    """Detect one face per image over a process pool; ``None`` where no face.

    Results are in input order and do not depend on ``workers``.
    """
    model = str(resolve_landmarker_model(model_path))
    jobs = [(model, blendshapes, im) for im in images]
    return parallel_map(
        _detect_one,
        jobs,
        workers=workers,
        chunksize=chunksize,
        desc="landmarks",
        progress=progress,
        serial_cleanup=close_process_landmarkers,
    )


# --- landmark groups ---------------------------------------------------------


def _group(connections: Sequence) -> np.ndarray:
    idx = sorted({c.start for c in connections} | {c.end for c in connections})
    return np.array(idx, dtype=np.int64)


@lru_cache(maxsize=1)
def landmark_groups() -> dict[str, np.ndarray]:
    """Indices of the named MediaPipe landmark groups (eyes, brows, lips, ...).

    ``left``/``right`` are the subject's, as MediaPipe names them.
    """
    from mediapipe.tasks.python.vision import FaceLandmarksConnections as C  # mediapipe: kept out of start-up

    return {
        "left_eye": _group(C.FACE_LANDMARKS_LEFT_EYE),
        "right_eye": _group(C.FACE_LANDMARKS_RIGHT_EYE),
        "left_eyebrow": _group(C.FACE_LANDMARKS_LEFT_EYEBROW),
        "right_eyebrow": _group(C.FACE_LANDMARKS_RIGHT_EYEBROW),
        "left_iris": _group(C.FACE_LANDMARKS_LEFT_IRIS),
        "right_iris": _group(C.FACE_LANDMARKS_RIGHT_IRIS),
        "lips": _group(C.FACE_LANDMARKS_LIPS),
        "nose": _group(C.FACE_LANDMARKS_NOSE),
        "face_oval": _group(C.FACE_LANDMARKS_FACE_OVAL),
    }
