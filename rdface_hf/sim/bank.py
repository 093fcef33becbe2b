"""The identity bank: prepared source portraits, the shape space and backdrop photos.

Source portraits are real photographs available offline: scikit-image's
``astronaut`` (Eileen Collins, public domain) and matplotlib's
``grace_hopper`` (public domain), or the photos of ``--identities DIR``. A
folder with at least 3 usable faces replaces the built-in pair; a smaller one
is pooled with it. Portraits are numbered in that order (built-ins first, then
the folder's photos by file name); no file name reaches a release.

The bank is built once per process (MediaPipe runs here, never in the
workers) and is picklable.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image
from threadpoolctl import threadpool_limits

from .._errors import InputError
from ..dataset.geometry import INNER_LIPS, IRIS_CENTRES, mirror_index
from ..dataset.images import ImageRejected, load_clean
from ..dataset.landmarks import FaceLandmarker, landmark_groups, resolve_landmarker_model
from .portraits import Portrait, prepare
from .shape_space import ShapeSpace, lfw_shapes, shape_space

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}
MIN_MEMBERS = 3  # a folder patient is a composite of at least this many portraits
FEW_PORTRAITS = 20  # fewer portraits than this: a warning
EXTRA_CONTROL = (1, 2, 0, 17, 152, 10, 168, 6, *IRIS_CENTRES, 132, 361, 172, 397, 122, 351, 205, 425, 50, 280)
GLASSES_BAND = (-1.15, 1.15, -0.47, 0.42)  # face-frame box of Grace Hopper's spectacles
BACKDROP_SIDE = 160


@dataclass(frozen=True)
class IdentityBank:
    """Everything a worker needs to render patients (picklable, no MediaPipe)."""

    portraits: tuple[Portrait, ...]
    space: ShapeSpace
    mirror: np.ndarray  # (478,) left-right counterpart of each landmark
    control: np.ndarray  # landmark indices that drive the warps
    backdrops: tuple[np.ndarray, ...]  # small face-free photos for blurred backgrounds
    builtin: bool  # True when the built-in pair is in the pool

    @property
    def members_per_patient(self) -> int:
        return min(len(self.portraits), MIN_MEMBERS)


def builtin_photos() -> list[tuple[np.ndarray, dict]]:
    """The package-shipped public-domain portraits and how to use them."""
    import matplotlib.cbook  # heavy imports stay out of the rendering workers
    from skimage import data as skimage_data

    with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as fh:
        hopper = np.asarray(Image.open(fh).convert("RGB"))
    return [
        (np.asarray(skimage_data.astronaut()), {}),
        (hopper, {"hair_donor": False, "occluders": (GLASSES_BAND,)}),  # a uniform cap; spectacles
    ]


def folder_photos(folder: str | os.PathLike) -> tuple[list[tuple[str, np.ndarray]], list[str]]:
    """Every readable image in ``folder`` (sorted by name), as RGB arrays, and the
    files passed over, each with its reason. Images go through the builder's checks
    (decompression bombs, truncation, EXIF orientation)."""
    out, skipped = [], []
    for path in sorted(Path(folder).iterdir()):
        if path.is_dir():
            continue
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            skipped.append(f"{path.name} (not an image file)")
            continue
        try:
            out.append((path.name, load_clean(path.read_bytes()).pixels))
        except OSError as exc:  # a dangling link, no permission
            skipped.append(f"{path.name} (cannot read: {exc.strerror or exc})")
        except ImageRejected as exc:
            skipped.append(f"{path.name} ({exc})")
    return out, skipped


def _landmarks3d(found) -> np.ndarray:
    """(478, 3): pixels, and depth in pixels."""
    return np.concatenate([found.pixels(), found.points[:, 2:3].astype(np.float64) * found.width], axis=1)


def _folder_portraits(folder: str, landmarker, start: int) -> list[Portrait]:
    photos, skipped = folder_photos(folder)
    out = []
    for name, image in photos:
        found = landmarker.detect(image)
        if found is None:
            skipped.append(f"{name} (no face found)")
            continue
        out.append(prepare(start + len(out), image, _landmarks3d(found)))
    if not out:
        raise InputError(f"--identities {folder}: no face found in any of its {len(photos)} image file(s)")
    for reason in skipped:  # nothing is dropped silently
        print(f"rdface simulate: warning: --identities: skipped {reason}", file=sys.stderr)
    return out


def control_indices() -> np.ndarray:
    groups = landmark_groups()
    idx = set(EXTRA_CONTROL)
    for name in ("face_oval", "left_eye", "right_eye", "left_eyebrow", "right_eyebrow", "lips", "nose"):
        idx.update(int(i) for i in groups[name])
    idx -= set(INNER_LIPS)  # an open mouth never has to map onto a closed one
    return np.array(sorted(idx), dtype=np.int64)


def backdrop_photos() -> tuple[np.ndarray, ...]:
    """Face-free photos shipped with scikit-image and scikit-learn, shrunk (blurred backgrounds)."""
    from skimage import data as skimage_data  # heavy imports stay out of the rendering workers
    from sklearn.datasets import load_sample_image

    photos = [skimage_data.coffee(), skimage_data.chelsea(), skimage_data.rocket(), skimage_data.brick(),
              skimage_data.grass(), skimage_data.gravel(), load_sample_image("china.jpg"),
              load_sample_image("flower.jpg")]  # fmt: skip
    out = []
    for im in photos:
        rgb = np.repeat(im[..., None], 3, axis=2) if im.ndim == 2 else im[..., :3]
        k = BACKDROP_SIDE / max(rgb.shape[:2])
        out.append(cv2.resize(np.ascontiguousarray(rgb), None, fx=k, fy=k, interpolation=cv2.INTER_AREA))
    return tuple(out)


@lru_cache(maxsize=1)
def _cached_space(model: str) -> ShapeSpace:
    with FaceLandmarker(model) as lm, threadpool_limits(1):  # many tiny SVDs: BLAS threads only get in the way
        return shape_space(lfw_shapes(lm))


@lru_cache(maxsize=4)
def _cached_bank(identities: str | None, model: str, fingerprint: tuple = ()) -> IdentityBank:
    portraits: list[Portrait] = []
    with FaceLandmarker(model) as lm:
        folder = [] if identities is None else _folder_portraits(identities, lm, 0)
        if len(folder) < MIN_MEMBERS:
            for image, options in builtin_photos():
                portraits.append(prepare(len(portraits), image, _landmarks3d(lm.detect(image)), **options))
        portraits += [_renumber(p, len(portraits) + i) for i, p in enumerate(folder)]
    mirror = mirror_index(portraits[0].shape[:, :2])
    return IdentityBank(tuple(portraits), _cached_space(model), mirror, control_indices(), backdrop_photos(),
                        len(folder) < MIN_MEMBERS)  # fmt: skip


def _renumber(p: Portrait, index: int) -> Portrait:
    return replace(p, index=index)


def build_bank(
    identities: str | os.PathLike | None = None, model_path: str | os.PathLike | None = None
) -> IdentityBank:
    """The identity bank (cached per process and folder contents)."""
    model = str(resolve_landmarker_model(model_path))
    ident = None if identities is None else str(Path(identities).resolve())
    return _cached_bank(ident, model, _folder_fingerprint(ident))


def _folder_fingerprint(folder: str | None) -> tuple:
    """Names, sizes and mtimes: a changed identities folder is not served from the cache."""
    if folder is None:
        return ()
    return tuple(
        (p.name, st.st_size, st.st_mtime_ns) for p in sorted(Path(folder).iterdir()) if p.is_file() for st in [p.stat()]
    )
