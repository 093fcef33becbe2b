"""The face frame and the MediaPipe landmark indices the simulator uses.

The **face frame**: origin midway between the two eye centres (each the mean
of its two canthi), x along the eye line towards the subject's left eye (image
right), y downwards, and the inter-ocular distance (IOD) as the unit. A
severity or an age therefore means the same on every face, whatever its size,
position or roll.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RIGHT_EYE = (33, 133)  # subject's right eye (image left): outer, inner canthus
LEFT_EYE = (263, 362)  # subject's left eye (image right): outer, inner canthus
NOSE_TIP, SUBNASALE, UPPER_LIP_TOP, STOMION_UP, STOMION_LO = 1, 2, 0, 13, 14
LOWER_LIP_BOTTOM, CHIN, FOREHEAD, NASION = 17, 152, 10, 168
MOUTH = (61, 291)
CHEEKS_UPPER = (234, 454)
CHEEKS_LOWER = ((132, 361), (172, 397))
BRIDGE = ((196, 419), (3, 248))  # nasal side walls, below the level of the canthi
IRIS_CENTRES = (468, 473)

# Ordered contours (MediaPipe's connection order).
FACE_OVAL = (10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377, 152, 148, 176,
             149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109)  # fmt: skip
OUTER_LIPS = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39, 40, 185)
INNER_LIPS = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308, 415, 310, 311, 312, 13, 82, 81, 80, 191)
RIGHT_EYE_CONTOUR = (33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246)
LEFT_EYE_CONTOUR = (263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466)
RIGHT_BROW = (70, 63, 105, 66, 107, 55, 65, 52, 53, 46)  # upper edge outer->inner, lower edge inner->outer
LEFT_BROW = (300, 293, 334, 296, 336, 285, 295, 282, 283, 276)


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
    if iod <= 0:
        raise ValueError("degenerate landmarks: the two eyes coincide")
    return FaceFrame(centre=(left + right) / 2.0, iod=iod, angle=float(np.arctan2(v[1], v[0])))


def in_face_frame(xy: np.ndarray) -> np.ndarray:
    """(478, 2) landmarks expressed in their own face frame."""
    return face_frame(xy).to_frame(xy)


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
