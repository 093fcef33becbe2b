"""Face geometry on MediaPipe's 478 landmarks, shared by every stage that measures a face.

One place for three things the simulator, the filter and the reports all need:

- **the index table**: MediaPipe Face Mesh indices of the anatomical points and contours.
  "Right" and "left" are the *subject's* (the right eye is on the image's left);
- **pixel units**: the dataset stores ``x / width``, ``y / height`` and ``z`` in the scale of
  ``x``; :func:`in_pixels` (a stack) and :func:`face_in_pixels` (one face) undo that, so a
  non-square image keeps its aspect before any length or angle is taken;
- **the face frame**: origin midway between the two eye centres (each the mean of its two
  canthi), x along the eye line towards the subject's left eye (image right), y downwards, the
  inter-ocular distance (IOD) as the unit. Head roll and image size then change nothing.

Two **normalisations** of length are kept on purpose, each named here:

- :func:`face_size`, the RMS distance of the 478 points from their centroid. It does not move
  with any one feature (the inter-ocular distance would: hypertelorism changes it), so the
  simulator (which writes features as displacements) and the filter (which compares faces
  across conditions) divide by it;
- :func:`face_width`, the bizygomatic width (zygion to zygion, points 234-454), the clinical
  anthropometric unit. The measured phenotype reports divide by it because their terms follow
  clinical definitions, and their thresholds, pose slopes and benchmark figures were fitted in
  face widths.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NUM_LANDMARKS = 478

# Anatomical points (MediaPipe Face Mesh indices; checked on skimage's astronaut: 468 is the right pupil).
RIGHT_EYE = (33, 133)  # subject's right eye (image left): exocanthion (outer), endocanthion (inner)
LEFT_EYE = (263, 362)  # subject's left eye (image right): exocanthion (outer), endocanthion (inner)
R_OUTER, R_INNER = RIGHT_EYE
L_OUTER, L_INNER = LEFT_EYE
IRIS_CENTRES = (468, 473)  # pupils: subject's right, left
R_UPPER_LID, R_LOWER_LID, L_UPPER_LID, L_LOWER_LID = 159, 145, 386, 374
R_BROW_PEAK, L_BROW_PEAK, R_BROW_INNER, L_BROW_INNER = 105, 334, 107, 336
NOSE_TIP, SUBNASALE, NASION = 1, 2, 168  # pronasale, subnasale, nasion
UPPER_LIP_TOP, STOMION_UP, STOMION_LO, LOWER_LIP_BOTTOM = 0, 13, 14, 17  # labrale sup., stomia, labrale inf.
CHIN, FOREHEAD = 152, 10  # menton, top of the forehead
MOUTH = (61, 291)  # cheilia (mouth corners): subject's right, left
ZYGIA = (234, 454)  # face width at the cheekbones (bizygomatic)
CHEEKS_UPPER = ZYGIA
CHEEKS_LOWER = ((132, 361), (172, 397))  # lower cheek contour, jaw angles (gonia)
CHEEKS_MID = (93, 323)  # face width just below the cheekbones
JAW_LINE, JAW_ANGLES, CHIN_SIDES = (58, 288), (136, 365), (148, 377)  # lower face oval, ear to chin
BRIDGE = ((196, 419), (3, 248))  # nasal side walls, at and below the level of the canthi
BRIDGE_SIDES = (122, 351)  # sides of the nasal bridge, higher up
ALAE = (98, 327)  # outer edges of the nostrils
ALAR_BASE = (64, 294)
# The RetinaFace-style 5 points: iris centres (right, left), nose tip, mouth corners (right, left).
FIVE_POINTS = (*IRIS_CENTRES, NOSE_TIP, *MOUTH)

# Ordered contours (MediaPipe's connection order).
FACE_OVAL = (10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377, 152, 148, 176,
             149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109)  # fmt: skip
# The lower face oval, ear to ear under the cheeks (all in FACE_OVAL).
JAW = (132, 58, 172, 136, 150, 149, 176, 148, 152, 377, 400, 378, 379, 365, 397, 288, 361)
OUTER_LIPS = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39, 40, 185)
INNER_LIPS = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308, 415, 310, 311, 312, 13, 82, 81, 80, 191)
RIGHT_EYE_CONTOUR = (33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246)
LEFT_EYE_CONTOUR = (263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466)
RIGHT_BROW = (70, 63, 105, 66, 107, 55, 65, 52, 53, 46)  # upper edge outer->inner, lower edge inner->outer
LEFT_BROW = (300, 293, 334, 296, 336, 285, 295, 282, 283, 276)


# -- pixel units ---------------------------------------------------------------------------


def has_face(points: np.ndarray) -> np.ndarray:
    """(N,) bool: rows of an (N, 478, 3) stack that hold a face (no NaN)."""
    points = np.asarray(points)
    return ~np.isnan(points.reshape(len(points), -1)).any(axis=1)


def in_pixels(points: np.ndarray, sizes: np.ndarray | None = None) -> np.ndarray:
    """(N, 478, 3) stored landmarks -> pixel units (``x * W``, ``y * H``, ``z * W``).

    ``sizes`` is (N, 2) of (width, height); ``None`` treats every image as square. NaN rows stay NaN.
    """
    pts = np.asarray(points, dtype=np.float64).reshape(-1, NUM_LANDMARKS, 3)
    if sizes is None:
        return pts.copy()
    sizes = np.asarray(sizes, dtype=np.float64).reshape(-1, 2)
    scale = np.stack([sizes[:, 0], sizes[:, 1], sizes[:, 0]], axis=1)[:, None, :]
    return pts * scale


def face_in_pixels(landmarks, width: int, height: int) -> np.ndarray | None:
    """One face's stored landmarks in pixels: (478, 3) with z times the width, or (478, 2) when
    they have no depth; ``None`` without a face (``None``, empty or NaN)."""
    if landmarks is None:
        return None
    pts = np.asarray(landmarks, dtype=np.float64)
    if pts.size == 0 or pts.size % NUM_LANDMARKS:
        return None
    pts = pts.reshape(NUM_LANDMARKS, -1)
    if pts.shape[1] < 2 or not np.isfinite(pts[:, :2]).all():
        return None
    scale = np.array([float(width), float(height), float(width)])[: min(pts.shape[1], 3)]
    return pts[:, : len(scale)] * scale


# -- the face frame ------------------------------------------------------------------------


@dataclass(frozen=True)
class FaceFrame:
    """Similarity frame of a face: ``pixel = centre + iod * R(angle) @ p``."""

    centre: np.ndarray  # (2,) pixels
    iod: float  # pixels
    angle: float  # radians, roll of the eye line

    def rotation(self) -> np.ndarray:
        c, s = np.cos(self.angle), np.sin(self.angle)
        return np.array([[c, -s], [s, c]])

    def to_frame(self, xy: np.ndarray) -> np.ndarray:
        return (np.asarray(xy, dtype=np.float64)[..., :2] - self.centre) @ self.rotation() / self.iod

    def to_pixels(self, p: np.ndarray) -> np.ndarray:
        return self.centre + self.iod * (np.asarray(p, dtype=np.float64)[..., :2] @ self.rotation().T)


def face_frame(xy: np.ndarray) -> FaceFrame:
    """The face frame of (478, 2+) landmarks (pixels or any uniform scale)."""
    xy = np.asarray(xy, dtype=np.float64)[:, :2]
    right, left = xy[list(RIGHT_EYE)].mean(axis=0), xy[list(LEFT_EYE)].mean(axis=0)
    v = left - right
    iod = float(np.hypot(*v))
    if not np.isfinite(iod) or iod <= 0:
        raise ValueError("degenerate landmarks: the two eyes coincide")
    return FaceFrame(centre=(left + right) / 2.0, iod=iod, angle=float(np.arctan2(v[1], v[0])))


def in_face_frame(xy: np.ndarray) -> np.ndarray:
    """(478, 2) landmarks expressed in their own face frame (IOD units)."""
    return face_frame(xy).to_frame(xy)


def levelled(points: np.ndarray) -> np.ndarray:
    """(N, 478, 2) points of a stack of faces in their face frames, in the input's units (not
    divided by the IOD): the eye line levelled, the origin between the eyes."""
    p = np.asarray(points, dtype=np.float64)[:, :, :2]
    right, left = p[:, list(RIGHT_EYE)].mean(axis=1), p[:, list(LEFT_EYE)].mean(axis=1)
    eye_line = left - right
    angle = np.arctan2(eye_line[:, 1], eye_line[:, 0])
    c, s = np.cos(angle)[:, None], np.sin(angle)[:, None]
    centre = 0.5 * (right + left)
    x, y = p[..., 0] - centre[:, :1], p[..., 1] - centre[:, 1:]
    return np.stack([c * x + s * y, -s * x + c * y], axis=-1)  # rotate by -angle: the eye line is horizontal


# -- the two normalisations ----------------------------------------------------------------


def face_size(points: np.ndarray) -> np.ndarray | float:
    """RMS distance of the landmarks from their centroid: (478, 2) -> float, (N, 478, 2) -> (N,)."""
    p = np.asarray(points, dtype=np.float64)[..., :2]
    size = np.sqrt(((p - p.mean(axis=-2, keepdims=True)) ** 2).sum(axis=-1).mean(axis=-1))
    return float(size) if p.ndim == 2 else size


def face_width(points: np.ndarray) -> float:
    """Bizygomatic width of (478, 2+) landmarks (zygion to zygion, points 234-454)."""
    p = np.asarray(points, dtype=np.float64)
    return float(np.hypot(*(p[ZYGIA[0], :2] - p[ZYGIA[1], :2])))


def mirror_index(shape: np.ndarray) -> np.ndarray:
    """For each landmark, its left-right counterpart (nearest to the mirrored point)."""
    f = in_face_frame(shape)
    mirrored = f * np.array([-1.0, 1.0])
    return ((mirrored[:, None, :] - f[None, :, :]) ** 2).sum(-1).argmin(axis=1)


def symmetrise(shapes: np.ndarray, mirror: np.ndarray) -> np.ndarray:
    """Average face-frame shapes (N, 478, 2+) with their mirror images: removes yaw and roll."""
    flip = np.ones(shapes.shape[-1])
    flip[0] = -1.0
    return 0.5 * (shapes + shapes[:, mirror] * flip)
