"""How visible each feature is: Cohen's d on a landmark measure and on an appearance measure.

``n`` release-like patients (new identities, photo nuisance at the difficulty)
are drawn twice: unaffected, and with one feature (at the severities a
condition of that difficulty draws); the twins share everything else. On every
image MediaPipe's re-detected landmarks give the landmark measures
(:mod:`.measures`), and an **appearance measure** is taken from the pixels: the
face aligned on its detected eyes (96x96 grey, 32 px between the eyes, standardised), projected on the
mean twin difference, with two-fold cross-fitting (the direction is estimated
on one half of the patients and scored on the other), so that the appearance d
is not inflated by fitting; a **texture measure** does the same with the
crop's pooled fine-detail energy (a texture changes the variance of the
pixels, which a linear look at them misses).

d is the mean twin difference over the SD of the unaffected patients (the
natural variation a classifier faces), > 0 when the measure grows with the
feature. The landmark columns give the feature's own measure (if MediaPipe has
landmarks for it) and the largest |d| on any other measure (cross-talk), on the
re-detected landmarks and on the landmarks as drawn (the simulator's own
cross-talk; the difference is MediaPipe's shape prior coupling its points).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import cv2
import numpy as np

from .._parallel import parallel_map
from ..dataset.geometry import face_frame
from .conditions import Condition
from .measures import MEASURES, measure_all
from .patient import draw_image
from .style import decode_rgb

CROP, CROP_IOD, CROP_EYES_Y = 96, 32.0, 36.0


def paired_d(with_feature, without) -> float:
    """Mean twin difference over the SD of the unaffected values."""
    a, b = np.asarray(with_feature, dtype=np.float64), np.asarray(without, dtype=np.float64)
    if len(a) < 3:
        return float("nan")
    sd = b.std(ddof=1)
    return float((a - b).mean() / sd) if sd > 0 else 0.0


def aligned_crop(pixels: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """96x96 grey face, eyes level at fixed places, standardised (mean 0, SD 1)."""
    f = face_frame(landmarks)
    scale = CROP_IOD / f.iod
    c, s = np.cos(-f.angle) * scale, np.sin(-f.angle) * scale
    m = np.array([[c, -s, 0.0], [s, c, 0.0]])
    m[:, 2] = np.array([CROP / 2, CROP_EYES_Y]) - m[:, :2] @ f.centre
    grey = cv2.cvtColor(np.ascontiguousarray(pixels), cv2.COLOR_RGB2GRAY).astype(np.float32)
    crop = cv2.warpAffine(grey, m, (CROP, CROP), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REPLICATE)
    return ((crop - crop.mean()) / (crop.std() + 1e-6)).ravel()


def detail_energy(crop: np.ndarray) -> np.ndarray:
    """Log energy of the crop's fine detail (difference of Gaussians), pooled over 8x8 blocks:
    what a linear look at the pixels misses (a texture changes the variance, not the mean)."""
    img = crop.reshape(CROP, CROP).astype(np.float32)
    band = cv2.GaussianBlur(img, (0, 0), 0.8) - cv2.GaussianBlur(img, (0, 0), 2.5)
    pooled = cv2.resize(band**2, (CROP // 8, CROP // 8), interpolation=cv2.INTER_AREA)
    return np.log1p(pooled).ravel()


@dataclass(frozen=True)
class Measured:
    """Measures of one group of images (NaN where no face was found)."""

    landmarks: dict[str, np.ndarray]  # measure name -> values (re-detected landmarks)
    drawn: dict[str, np.ndarray]  # measure name -> values (landmarks as drawn)
    crops: np.ndarray  # (n, CROP * CROP)
    energy: np.ndarray  # (n, 144) local fine-detail energy of the crop (texture)
    found: np.ndarray  # (n,) bool


def measure_images(images: list[tuple[np.ndarray, np.ndarray]], landmarker) -> Measured:
    """``images``: (pixels, drawn landmarks) per image."""
    values = {name: np.full(len(images), np.nan) for name in MEASURES}
    drawn = {name: np.array([measure_all(lm)[name] for _, lm in images]) for name in MEASURES}
    crops = np.zeros((len(images), CROP * CROP), np.float32)
    energy = np.zeros((len(images), (CROP // 8) ** 2), np.float32)
    found = np.zeros(len(images), bool)
    for i, (pixels, _) in enumerate(images):
        face = landmarker.detect(pixels)
        if face is None:
            continue
        pts = face.pixels()
        for name, v in measure_all(pts).items():
            values[name][i] = v
        crops[i], found[i] = aligned_crop(pixels, pts), True
        energy[i] = detail_energy(crops[i])
    return Measured(values, drawn, crops, energy, found)


def appearance_d(with_feature: np.ndarray, without: np.ndarray) -> float:
    """Cross-fitted paired d of the projection on the mean twin difference."""
    halves = (np.arange(0, len(without), 2), np.arange(1, len(without), 2))
    diff, base = [], []
    for fit, held in ((0, 1), (1, 0)):
        direction = (with_feature[halves[fit]] - without[halves[fit]]).mean(axis=0)
        direction /= np.linalg.norm(direction) + 1e-9
        diff.append((with_feature[halves[held]] - without[halves[held]]) @ direction)
        base.append(without[halves[held]] @ direction)
    sd = np.concatenate(base).std(ddof=1)
    return float(np.concatenate(diff).mean() / sd) if sd > 0 else 0.0


def _draw_pixels(bank, spec, job: tuple[int, dict]) -> np.ndarray:
    index, severities = job
    out = draw_image(bank, spec, Condition(number=1), None, index, 0, severities=severities)
    return decode_rgb(out["bytes"]), out["landmarks"]


def draw_twins(bank, spec, jobs: list[tuple[int, dict]], *, workers=None, progress=False) -> list[tuple]:
    """Release-like images (decoded RGB, drawn landmarks): patient ``index`` with the given severities, per job.
    The same index with other severities is the same patient in the same photo (a twin)."""
    draw = partial(_draw_pixels, bank, spec)
    return parallel_map(draw, jobs, workers=workers, chunksize=8, desc="twins", progress=progress)


def feature_effect(with_feature: Measured, without: Measured, own_measure: str | None) -> dict:
    """The table row of one feature (twins where both have a detected face)."""
    both = with_feature.found & without.found
    ds = {name: paired_d(with_feature.landmarks[name][both], without.landmarks[name][both]) for name in MEASURES}
    others = {k: v for k, v in ds.items() if k != own_measure and np.isfinite(v)}
    worst = max(others, key=lambda k: abs(others[k])) if others else None
    drawn = {name: paired_d(with_feature.drawn[name], without.drawn[name]) for name in MEASURES if name != own_measure}
    drawn_worst = max(drawn, key=lambda k: abs(drawn[k]))
    return {
        "landmark_measure": own_measure,
        "d_landmarks": ds.get(own_measure) if own_measure else None,
        "crosstalk_measure": worst,
        "d_crosstalk": others.get(worst) if worst else None,
        "drawn_crosstalk_measure": drawn_worst,
        "d_drawn_crosstalk": drawn[drawn_worst],
        "d_appearance": appearance_d(with_feature.crops[both], without.crops[both]),
        "d_texture": appearance_d(with_feature.energy[both], without.energy[both]),
        "twins": int(both.sum()),
    }
