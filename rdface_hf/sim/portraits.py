"""Source portraits: a photo resampled onto a canvas in its face frame, with its masks.

Every portrait (the two built-in public-domain photos, or the photos of
``--identities DIR``) is prepared once per process:

- resampled so that its face frame is the canvas frame (eyes level, a fixed
  number of pixels per inter-ocular distance), with room for hair and shoulders;
- a **person matte** (OpenCV's GrabCut seeded from the landmarks, refined with
  a guided filter), so a background can be replaced without cutting the face out;
- a **skin** likelihood (colour model fitted on the cheeks), a **hair** mask and
  the **face** region where this portrait may contribute to a composite (not
  hair, not an occluder such as glasses);
- adult skin smoothed towards a child's: wrinkles and pores attenuated inside the skin.

Nothing here keeps the photo's file name: portraits are numbered.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..dataset.geometry import (
    FACE_OVAL,
    INNER_LIPS,
    LEFT_BROW,
    LEFT_EYE_CONTOUR,
    MOUTH,
    OUTER_LIPS,
    RIGHT_BROW,
    RIGHT_EYE_CONTOUR,
    FaceFrame,
    face_frame,
)

PPU = 80  # canvas pixels per inter-ocular distance (level 0)
CANVAS = (-2.6, 2.6, -2.4, 3.0)  # x0, x1, y0, y1 in face-frame units
LEVELS = 3  # pyramid levels: PPU, PPU/2, PPU/4
MASKS = ("person", "skin", "hair", "face")


@dataclass(frozen=True)
class PortraitLevel:
    """One resolution of a prepared portrait."""

    ppu: float
    texture: np.ndarray  # (H, W, 3) uint8, skin smoothed
    masks: np.ndarray  # (H, W, 4) uint8: person, skin, hair, face (0..255)


@dataclass(frozen=True)
class Portrait:
    """A prepared source portrait (anonymous: ``index`` only)."""

    index: int
    shape: np.ndarray  # (478, 3) face-frame landmarks (x, y, depth), in IOD units
    levels: tuple[PortraitLevel, ...]
    skin_rgb: np.ndarray  # (3,) mean skin colour, 0..255
    hair_luma: float  # mean luminance of the hair, 0..255
    hair_donor: bool  # its hair may dress a patient
    mouth_open: bool

    def level_for(self, iod_pixels: float) -> PortraitLevel:
        """The coarsest level that still has at least ``iod_pixels`` per IOD (anti-aliasing)."""
        for level in reversed(self.levels):
            if level.ppu >= iod_pixels:
                return level
        return self.levels[0]


def canvas_frame(ppu: float) -> FaceFrame:
    x0, _, y0, _ = CANVAS
    return FaceFrame(centre=np.array([-x0 * ppu, -y0 * ppu]), iod=float(ppu), angle=0.0)


def canvas_size(ppu: float) -> tuple[int, int]:
    x0, x1, y0, y1 = CANVAS
    return round((y1 - y0) * ppu), round((x1 - x0) * ppu)


def _frame_grid(ppu: float) -> np.ndarray:
    """(H, W, 2) face-frame coordinates of every canvas pixel."""
    h, w = canvas_size(ppu)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    return canvas_frame(ppu).to_frame(np.stack([xx, yy], axis=-1))


def resample(image: np.ndarray, landmarks: np.ndarray, ppu: float) -> tuple[np.ndarray, np.ndarray]:
    """The photo on the canvas (uint8) and a mask of canvas pixels inside the photo."""
    src = face_frame(landmarks)
    ratio = src.iod / ppu
    img = image
    if ratio > 1.25:  # anti-alias before shrinking
        img = cv2.GaussianBlur(image, (0, 0), 0.45 * ratio)
    xy = src.to_pixels(_frame_grid(ppu)).astype(np.float32)
    tex = cv2.remap(img, xy[..., 0], xy[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    h, w = image.shape[:2]
    inside = (xy[..., 0] >= 0) & (xy[..., 0] <= w - 1) & (xy[..., 1] >= 0) & (xy[..., 1] <= h - 1)
    return tex, inside


def polygon_mask(points: np.ndarray, shape: tuple[int, int], blur: float = 0.0) -> np.ndarray:
    """Float mask (0..1) of a polygon given in pixels, optionally feathered."""
    mask = np.zeros(shape, np.uint8)
    cv2.fillPoly(mask, [np.round(points * 4).astype(np.int32)], 255, lineType=cv2.LINE_AA, shift=2)
    out = mask.astype(np.float32) / 255.0
    return cv2.GaussianBlur(out, (0, 0), blur) if blur > 0 else out


def _person_matte(tex: np.ndarray, lm: np.ndarray, inside: np.ndarray, ppu: float) -> np.ndarray:
    """Soft person matte: GrabCut at low resolution seeded from the face, refined by a guided filter."""
    small_ppu = 24.0
    k = small_ppu / ppu
    small = cv2.resize(tex, None, fx=k, fy=k, interpolation=cv2.INTER_AREA)
    h, w = small.shape[:2]
    f = canvas_frame(small_ppu)
    seed = np.full((h, w), cv2.GC_PR_BGD, np.uint8)
    head = f.to_pixels(np.array([0.0, -0.35]))
    cv2.ellipse(seed, tuple(int(v) for v in head), (int(1.6 * small_ppu), int(2.1 * small_ppu)), 0, 0, 360,
                int(cv2.GC_PR_FGD), -1)  # fmt: skip
    oval = lm[list(FACE_OVAL), :2] * k
    cv2.fillPoly(seed, [np.round(oval).astype(np.int32)], int(cv2.GC_FGD))
    neck = f.to_pixels(np.array([[-0.4, 1.9], [0.4, 2.6]]))
    cv2.rectangle(seed, tuple(int(v) for v in neck[0]), tuple(int(v) for v in neck[1]), int(cv2.GC_FGD), -1)
    top = int(f.to_pixels(np.array([0.0, 1.2]))[1])
    seed[:2, :] = cv2.GC_BGD
    seed[:top, :2] = cv2.GC_BGD
    seed[:top, -2:] = cv2.GC_BGD
    small_inside = cv2.resize(inside.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST)
    seed[(small_inside == 0) & (seed != cv2.GC_FGD)] = cv2.GC_BGD
    cv2.setRNGSeed(0)  # GrabCut's k-means initialisation: same matte in every process
    bgd, fgd = np.zeros((1, 65)), np.zeros((1, 65))
    cv2.grabCut(np.ascontiguousarray(small[..., ::-1]), seed, None, bgd, fgd, 5, cv2.GC_INIT_WITH_MASK)
    hard = ((seed == cv2.GC_FGD) | (seed == cv2.GC_PR_FGD)).astype(np.float32)
    big = cv2.resize(hard, (tex.shape[1], tex.shape[0]), interpolation=cv2.INTER_LINEAR)
    guide = tex.astype(np.float32) / 255.0
    soft = cv2.ximgproc.guidedFilter(guide, big, radius=max(2, int(0.06 * ppu)), eps=1e-3)
    return np.clip(soft, 0.0, 1.0) * inside


def _skin_likelihood(tex: np.ndarray, grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Soft skin map from a colour model (YCrCb) of the cheeks and nose; and the mean skin RGB."""
    patches = [((-0.55, 0.5), 0.16), ((0.55, 0.5), 0.16), ((0.0, 0.45), 0.08), ((0.0, -0.5), 0.12)]
    sel = np.zeros(grid.shape[:2], bool)
    for (cx, cy), r in patches:
        sel |= ((grid[..., 0] - cx) ** 2 + (grid[..., 1] - cy) ** 2) < r * r
    ycc = cv2.cvtColor(tex, cv2.COLOR_RGB2YCrCb).astype(np.float32)
    samples = ycc[sel]
    lo, hi = np.percentile(samples, [10, 90], axis=0)
    core = samples[((samples >= lo) & (samples <= hi)).all(axis=1)]
    mean = core.mean(axis=0)
    cov = np.cov(core.T) + np.diag([16.0, 4.0, 4.0])
    cov[0, :] *= 2.0
    cov[:, 0] *= 2.0  # shading varies the luminance more than the chroma
    d = ycc - mean
    maha = np.einsum("...i,ij,...j->...", d, np.linalg.inv(cov), d)
    skin = np.exp(-0.5 * maha / 4.0)
    rgb = tex[sel].astype(np.float64)
    rgb = rgb[((rgb >= np.percentile(rgb, 10, axis=0)) & (rgb <= np.percentile(rgb, 90, axis=0))).all(axis=1)]
    return skin.astype(np.float32), rgb.mean(axis=0)


def _smooth_skin(tex: np.ndarray, weight: np.ndarray, ppu: float) -> np.ndarray:
    """Attenuate wrinkles and pores (a child's smoother skin) where ``weight`` is 1."""
    img = tex.astype(np.float32)
    fine = cv2.GaussianBlur(img, (0, 0), 0.025 * ppu)
    coarse = cv2.GaussianBlur(img, (0, 0), 0.14 * ppu)
    smooth = coarse + 0.3 * (fine - coarse) + 0.2 * (img - fine)
    w = weight[..., None]
    return np.clip(np.rint(w * smooth + (1.0 - w) * img), 0, 255).astype(np.uint8)


def _feature_mask(lm: np.ndarray, shape: tuple[int, int], ppu: float) -> np.ndarray:
    """Eyes, brows, lips and nostrils (dilated, feathered): kept sharp when the skin is smoothed."""
    mask = np.zeros(shape, np.float32)
    for contour in (RIGHT_EYE_CONTOUR, LEFT_EYE_CONTOUR, RIGHT_BROW, LEFT_BROW, OUTER_LIPS):
        pts = lm[list(contour), :2]
        c = pts.mean(axis=0)
        mask = np.maximum(mask, polygon_mask(c + 1.12 * (pts - c), shape))
    nose = lm[[1, 2, 98, 327, 64, 294], :2]
    c = nose.mean(axis=0)
    mask = np.maximum(mask, polygon_mask(c + 1.3 * (nose[[2, 4, 0, 5, 3, 1]] - c), shape))
    return cv2.GaussianBlur(mask, (0, 0), 0.04 * ppu)


def _regions(lm: np.ndarray, grid: np.ndarray, ppu: float, occluders: tuple) -> dict[str, np.ndarray]:
    """Face region (oval), the part of it below the brows, head zone and occluders."""
    shape = grid.shape[:2]
    face = polygon_mask(lm[list(FACE_OVAL), :2], shape, 0.04 * ppu)
    below_brows = 1.0 / (1.0 + np.exp(-(grid[..., 1] + 0.3) / 0.05))
    head = 1.0 / (1.0 + np.exp((grid[..., 1] - 1.1) / 0.1))
    occ = np.zeros(shape, np.float32)
    for x0, x1, y0, y1 in occluders:
        inside = (grid[..., 0] > x0) & (grid[..., 0] < x1) & (grid[..., 1] > y0) & (grid[..., 1] < y1)
        occ = np.maximum(occ, inside.astype(np.float32))
    occ = cv2.GaussianBlur(occ, (0, 0), 0.05 * ppu)
    c = lm[list(FACE_OVAL), :2].mean(axis=0)
    wide = polygon_mask(c + 1.04 * (lm[list(FACE_OVAL), :2] - c), shape, 0.03 * ppu)
    return {"face": face, "wide_face": wide, "features": face * below_brows, "head": head.astype(np.float32),
            "occluder": occ}  # fmt: skip


def _hair_mask(skin: np.ndarray, regions: dict, ppu: float) -> np.ndarray:
    """Hair: what is not skin around the face, and a fringe of it over the forehead
    (smoothed there, so that blotchy forehead skin is not taken for hair)."""
    outside = 1.0 - regions["wide_face"]
    nonskin = 1.0 - skin
    fringe = np.clip((cv2.GaussianBlur(nonskin, (0, 0), 0.06 * ppu) - 0.45) / 0.3, 0.0, 1.0)
    return outside * nonskin + (1.0 - outside) * (1.0 - regions["features"]) * fringe


def _mouth_open(shape: np.ndarray) -> bool:
    inner = shape[list(INNER_LIPS), 1]
    width = abs(shape[MOUTH[1], 0] - shape[MOUTH[0], 0])
    return bool((inner.max() - inner.min()) / width > 0.12)


def prepare(index: int, image: np.ndarray, landmarks: np.ndarray, *, hair_donor=True, occluders=()) -> Portrait:
    """Prepare one photo with its MediaPipe landmarks ((478, 3), pixels; z in the scale of x)."""
    ppu = float(PPU)
    src = face_frame(landmarks[:, :2])
    shape = np.concatenate([src.to_frame(landmarks[:, :2]), landmarks[:, 2:3] / src.iod], axis=1)
    tex, inside = resample(image, landmarks[:, :2], ppu)
    lm = canvas_frame(ppu).to_pixels(shape)
    grid = _frame_grid(ppu)
    regions = _regions(lm, grid, ppu, occluders)
    person = _person_matte(tex, lm, inside, ppu)
    skin, skin_rgb = _skin_likelihood(tex, grid)
    skin = cv2.GaussianBlur(skin, (0, 0), 0.02 * ppu) * person
    hair = person * regions["head"] * _hair_mask(skin, regions, ppu)
    face = regions["face"] * (1.0 - hair) * (1.0 - regions["occluder"]) * inside
    smooth = regions["face"] * (1.0 - _feature_mask(lm, grid.shape[:2], ppu)) * (1.0 - hair)
    tex = _smooth_skin(tex, smooth, ppu)
    masks = np.stack([person, skin, hair, face], axis=-1)
    masks = np.clip(np.rint(masks * 255), 0, 255).astype(np.uint8)
    levels = [PortraitLevel(ppu, tex, masks)]
    for _ in range(LEVELS - 1):
        prev = levels[-1]
        h, w = canvas_size(prev.ppu / 2)
        down = [cv2.resize(a, (w, h), interpolation=cv2.INTER_AREA) for a in (prev.texture, prev.masks)]
        levels.append(PortraitLevel(prev.ppu / 2, down[0], down[1]))
    luma = tex.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    hair_luma = float((luma * hair).sum() / max(hair.sum(), 1.0)) if hair.sum() > 1 else 60.0
    return Portrait(index, shape, tuple(levels), skin_rgb, hair_luma, bool(hair_donor), _mouth_open(shape))
