"""Simulated patients: base faces, a landmark shape space and per-image identities.

Base faces are real photographs available offline: scikit-image's
``astronaut`` (Eileen Collins, public domain), matplotlib's ``grace_hopper``
(public domain) and any folder passed as ``--identities``. Each is resampled
into a **canonical frame** (eyes level, fixed inter-ocular distance) together
with its 478 MediaPipe landmarks.

The **shape space** is a PCA of the Procrustes-aligned landmarks that
MediaPipe finds on scikit-image's LFW subset (the first 100 of its images are
25x25 grey faces; about 91 give landmarks after bicubic upscaling).

An :class:`Identity` is one simulated individual: a landmark-aligned morph of
two base faces, shape-space coefficients, pose, lighting, skin tone and a
background, all drawn from a seeded generator.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import matplotlib.cbook
import numpy as np
from PIL import Image
from scipy import ndimage
from skimage import data as skimage_data

from .._errors import InputError
from ..dataset.images import ImageRejected, load_clean
from ..dataset.landmarks import FaceLandmarker, landmark_groups, resolve_landmarker_model
from ..dataset.procrustes import generalized_procrustes
from .features import FaceFrame, face_frame, in_face_frame
from .warp import sample_image

# Canonical placement of a face in a square image of side S.
EYE_CENTRE = (0.5, 0.40)  # fractions of S
IOD_FRACTION = 0.26  # inter-ocular distance / S
SHAPE_COMPONENTS = 10
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}
EXTRA_CONTROL = (1, 2, 0, 17, 152, 10, 168, 6, 468, 473, 132, 361, 172, 397, 122, 351, 205, 425, 50, 280)
# Inner-lip contour: left out of the warp controls, so an open mouth never has to
# map onto a closed one (that would fold the warp).
INNER_LIPS = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308, 191, 80, 81, 82, 13, 312, 311, 310, 415)


def canonical_frame(size: int) -> FaceFrame:
    return FaceFrame(centre=np.array(EYE_CENTRE) * size, iod=IOD_FRACTION * size, angle=0.0)


@dataclass(frozen=True)
class BaseFace:
    """A real face photo resampled into the canonical frame."""

    name: str
    texture: np.ndarray  # (S, S, 3) uint8
    landmarks: np.ndarray  # (478, 2) pixels in ``texture``
    shape: np.ndarray  # (478, 2) face-frame coordinates


@dataclass(frozen=True)
class ShapeSpace:
    """Principal modes of face-shape variation, in face-frame units."""

    components: np.ndarray  # (k, 478, 2), unit norm
    sds: np.ndarray  # (k,) standard deviation of each coefficient


@dataclass(frozen=True)
class IdentityBank:
    """Everything a worker needs to render faces (picklable, no MediaPipe)."""

    faces: tuple[BaseFace, ...]
    space: ShapeSpace
    control: np.ndarray  # landmark indices that drive the warps
    oval: np.ndarray  # face-oval landmark indices (the face mask)
    size: int


@dataclass(frozen=True)
class Identity:
    """One simulated individual (all ground truth, JSON-serialisable)."""

    base: tuple[str, str]
    morph: float  # weight of base[1]
    shape_coefficients: tuple[float, ...]  # in units of each mode's SD
    roll_degrees: float
    scale: float
    shift: tuple[float, float]  # fractions of the image side
    light_angle: float  # radians
    light_strength: float
    brightness: float
    gamma: float
    skin_tone: tuple[float, float, float]  # RGB multipliers on the face
    background: tuple[tuple[tuple[int, int, int], ...], ...]  # 3x3 grid of colours, smoothly blended

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        return {k: _round(v) for k, v in d.items()}


def _round(v):
    if isinstance(v, float):
        return round(v, 6)
    if isinstance(v, (list, tuple)):
        return [_round(x) for x in v]
    return v


# --- base faces ------------------------------------------------------------------


def _to_canonical(image: np.ndarray, landmarks: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Resample a photo so its face sits in the canonical frame."""
    src, can = face_frame(landmarks), canonical_frame(size)
    ratio = src.iod / can.iod
    img = image.astype(np.float32)
    if ratio > 1.25:  # anti-alias before shrinking
        img = ndimage.gaussian_filter(img, sigma=(0.45 * ratio, 0.45 * ratio, 0))
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
    q = np.stack([xx, yy], axis=-1).reshape(-1, 2)
    src_xy = src.to_pixels(can.to_frame(q)).reshape(size, size, 2)
    tex = np.clip(np.rint(sample_image(img, src_xy)), 0, 255).astype(np.uint8)
    return tex, can.to_pixels(src.to_frame(landmarks))


def builtin_photos() -> list[tuple[str, np.ndarray]]:
    """The package-shipped public-domain face photos."""
    with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as fh:
        hopper = np.asarray(Image.open(fh).convert("RGB"))
    return [("astronaut", np.asarray(skimage_data.astronaut())), ("grace_hopper", hopper)]


def folder_photos(folder: str | os.PathLike) -> tuple[list[tuple[str, np.ndarray]], list[str]]:
    """Every readable image in ``folder`` (sorted by name), as RGB arrays,
    and the files passed over, each with its reason. Images go through the
    builder's checks (decompression bombs, truncation, EXIF orientation)."""
    out, skipped = [], []
    for path in sorted(Path(folder).iterdir()):
        if path.is_dir():
            continue
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            skipped.append(f"{path.name} (not an image file)")
            continue
        try:
            out.append((f"dir:{path.name}", load_clean(path.read_bytes()).pixels))
        except OSError as exc:  # a dangling link, no permission
            skipped.append(f"{path.name} (cannot read: {exc.strerror or exc})")
        except ImageRejected as exc:
            skipped.append(f"{path.name} ({exc})")
    return out, skipped


def make_base_faces(photos, size: int, landmarker) -> list[BaseFace]:
    faces = []
    for name, image in photos:
        found = landmarker.detect(image)
        if found is None:
            continue
        tex, lm = _to_canonical(image, found.pixels(), size)
        faces.append(BaseFace(name=name, texture=tex, landmarks=lm, shape=in_face_frame(lm)))
    return faces


# --- shape space ------------------------------------------------------------------


def lfw_shapes(landmarker, count: int = 100, upscale: int = 200) -> np.ndarray:
    """(M, 478, 2) face-frame landmarks of the LFW subset faces MediaPipe finds."""
    shapes = []
    for face in skimage_data.lfw_subset()[:count]:
        im = Image.fromarray(np.clip(np.rint(face * 255), 0, 255).astype(np.uint8)).resize(
            (upscale, upscale), Image.BICUBIC
        )
        found = landmarker.detect(np.asarray(im.convert("RGB")))
        if found is not None:
            shapes.append(in_face_frame(found.pixels()))
    return np.stack(shapes)


def mirror_index(shape: np.ndarray) -> np.ndarray:
    """For each landmark, its left-right counterpart (nearest to the mirrored point)."""
    f = in_face_frame(shape)
    mirrored = f * np.array([-1.0, 1.0])
    return ((mirrored[:, None, :] - f[None, :, :]) ** 2).sum(-1).argmin(axis=1)


def symmetrise(shapes: np.ndarray, mirror: np.ndarray) -> np.ndarray:
    """Average each face-frame shape with its mirror image: removes yaw and roll."""
    flipped = shapes[:, mirror] * np.array([-1.0, 1.0])
    return 0.5 * (shapes + flipped)


def smooth_deviations(shapes: np.ndarray, degree: int = 4) -> np.ndarray:
    """Project each shape's deviation from the mean onto smooth polynomials.

    Landmarks found on 25-pixel faces are noisy point by point; only their
    smooth part (proportions) is kept, which also keeps every warp fold-free.
    """
    mean = shapes.mean(axis=0)
    x, y = mean[:, 0], mean[:, 1] - 0.5
    basis = np.stack([x**i * y**j for i in range(degree + 1) for j in range(degree + 1 - i)], axis=1)
    dev = (shapes - mean).transpose(1, 0, 2).reshape(len(mean), -1)
    coef, *_ = np.linalg.lstsq(basis, dev, rcond=None)
    smooth = (basis @ coef).reshape(len(mean), len(shapes), 2).transpose(1, 0, 2)
    return mean + smooth


def shape_space(shapes: np.ndarray, k: int = SHAPE_COMPONENTS) -> ShapeSpace:
    """PCA of Procrustes-aligned, symmetrised, smoothed shapes, in face-frame units.

    Symmetrising keeps identity (proportions) and drops head turn, which a 2-D
    warp of a frontal photo cannot render without folding.
    """
    aligned, mean = generalized_procrustes(shapes)
    frame = face_frame(mean)
    aligned = np.stack([frame.to_frame(a) for a in aligned])
    aligned = smooth_deviations(symmetrise(aligned, mirror_index(aligned.mean(axis=0))))
    flat = aligned.reshape(len(aligned), -1)
    centred = flat - flat.mean(axis=0)
    _, sing, vt = np.linalg.svd(centred, full_matrices=False)
    k = min(k, len(sing))
    sds = sing[:k] / np.sqrt(max(1, len(flat) - 1))
    comps = vt[:k].reshape(k, -1, 2)
    # fix each mode's sign so the space does not depend on the SVD's sign choice
    signs = np.sign(comps.reshape(k, -1)[np.arange(k), np.abs(comps.reshape(k, -1)).argmax(axis=1)])
    return ShapeSpace(components=comps * signs[:, None, None], sds=sds)


def control_indices() -> np.ndarray:
    groups = landmark_groups()
    idx = set(EXTRA_CONTROL)
    for name in ("face_oval", "left_eye", "right_eye", "left_eyebrow", "right_eyebrow", "lips", "nose"):
        idx.update(int(i) for i in groups[name])
    idx -= set(INNER_LIPS)
    return np.array(sorted(idx), dtype=np.int64)


@lru_cache(maxsize=1)
def _cached_space(model: str) -> ShapeSpace:
    with FaceLandmarker(model) as lm:
        return shape_space(lfw_shapes(lm))


@lru_cache(maxsize=8)
def _cached_bank(size: int, identities: str | None, model: str, fingerprint: tuple = ()) -> IdentityBank:
    photos = builtin_photos()
    with FaceLandmarker(model) as lm:
        faces = make_base_faces(photos, size, lm)
        if identities is not None:
            extra, skipped = folder_photos(identities)
            found = make_base_faces(extra, size, lm)
            if not found:
                raise InputError(f"--identities {identities}: no face found in any of its {len(extra)} image file(s)")
            used = {f.name for f in found}
            skipped += [f"{name[4:]} (no face found)" for name, _ in extra if name not in used]
            for reason in skipped:  # nothing is dropped silently
                print(f"rdface simulate: warning: --identities: skipped {reason}", file=sys.stderr)
            faces += found
    oval = np.asarray(landmark_groups()["face_oval"], dtype=np.int64)
    return IdentityBank(faces=tuple(faces), space=_cached_space(model), control=control_indices(), oval=oval, size=size)


def build_bank(
    size: int, identities: str | os.PathLike | None = None, model_path: str | os.PathLike | None = None
) -> IdentityBank:
    """The identity bank for images of side ``size`` (cached per process)."""
    model = str(resolve_landmarker_model(model_path))
    ident = None if identities is None else str(Path(identities).resolve())
    return _cached_bank(int(size), ident, model, _folder_fingerprint(ident))


def _folder_fingerprint(folder: str | None) -> tuple:
    """Names, sizes and mtimes: a changed identities folder is not served from the cache."""
    if folder is None:
        return ()
    return tuple(
        (p.name, st.st_size, st.st_mtime_ns) for p in sorted(Path(folder).iterdir()) if p.is_file() for st in [p.stat()]
    )


# --- identities ---------------------------------------------------------------------


def _colour(rng: np.random.Generator) -> tuple[int, int, int]:
    hue_mix = rng.dirichlet([1.0, 1.0, 1.0])
    level = rng.uniform(50, 235)
    c = level * (0.7 + 0.6 * hue_mix)
    return tuple(int(v) for v in np.clip(np.rint(c), 0, 255))


def _backdrop(rng: np.random.Generator) -> tuple:
    """A soft, out-of-focus backdrop: a 3x3 grid of related colours."""
    base = np.array(_colour(rng), dtype=np.float64)
    grid = base * rng.uniform(0.45, 1.5, size=(3, 3, 1)) + rng.normal(0.0, 20.0, size=(3, 3, 3))
    grid = np.clip(np.rint(grid), 0, 255).astype(int)
    return tuple(tuple(tuple(int(v) for v in cell) for cell in row) for row in grid)


def sample_identity(rng: np.random.Generator, bank: IdentityBank, spread: float) -> Identity:
    """Draw one individual; ``spread`` (about 0.5..1.5) scales shape and pose variation."""
    n = len(bank.faces)
    a = int(rng.integers(n))
    b = int((a + 1 + rng.integers(n - 1)) % n) if n > 1 else a
    k = len(bank.space.sds)
    coeffs = np.clip(rng.normal(0.0, spread, k), -2.5 * spread, 2.5 * spread)
    warmth = rng.uniform(-1.0, 1.0)
    dark = rng.uniform(0.82, 1.08)
    tone = dark * np.array([1.0 + 0.07 * warmth, 1.0, 1.0 - 0.09 * warmth])
    return Identity(
        base=(bank.faces[a].name, bank.faces[b].name),
        morph=float(rng.uniform(0.0, 1.0)) if n > 1 else 0.0,
        shape_coefficients=tuple(float(c) for c in coeffs),
        roll_degrees=float(np.clip(rng.normal(0.0, 4.0 * spread), -12, 12)),
        scale=float(np.exp(np.clip(rng.normal(0.0, 0.05 * spread), -0.12, 0.12))),
        shift=tuple(float(v) for v in np.clip(rng.normal(0.0, 0.025 * spread, 2), -0.06, 0.06)),
        light_angle=float(rng.uniform(0.0, 2 * np.pi)),
        light_strength=float(rng.uniform(0.0, 0.25)),
        brightness=float(rng.uniform(0.88, 1.1)),
        gamma=float(rng.uniform(0.85, 1.15)),
        skin_tone=tuple(float(v) for v in tone),
        background=_backdrop(rng),
    )


def face_by_name(bank: IdentityBank, name: str) -> BaseFace:
    for f in bank.faces:
        if f.name == name:
            return f
    raise KeyError(name)


def identity_shape(bank: IdentityBank, ident: Identity) -> np.ndarray:
    """The individual's undeformed landmarks (478, 2) in their face frame."""
    fa, fb = face_by_name(bank, ident.base[0]), face_by_name(bank, ident.base[1])
    shape = (1.0 - ident.morph) * fa.shape + ident.morph * fb.shape
    coeffs = np.asarray(ident.shape_coefficients) * bank.space.sds
    shape = shape + np.tensordot(coeffs, bank.space.components, axes=1)
    return in_face_frame(shape)
