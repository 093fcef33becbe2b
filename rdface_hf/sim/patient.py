"""One simulated patient image: identity, scene, features, photo style, JPEG, truth.

Every image is a function of ``(seed, image index, attempt)`` only (:func:`image_rng`),
so a release is byte-identical whatever the number of workers. Used by the ``simulate``
stage, its preview, :mod:`.draw` (fresh patients of a release) and :mod:`.effects`.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from ..dataset.images import load_clean, perceptual_hash
from ..dataset.landmarks import worker_landmarker
from .bank import IdentityBank
from .conditions import (
    Condition,
    identity_spread,
    image_severities,
    nuisance_level,
    smiling_probability,
)
from .features import AXES, FEATURES
from .identities import sample_identity
from .render import render
from .scene import sample_scene
from .style import apply_style, encode_jpeg, mix_style, sample_style

MAX_ATTEMPTS = 50  # draws of one image before the release gives up


@dataclass(frozen=True)
class Spec:
    """The settings every image needs (picklable, sent to the workers)."""

    seed: int
    difficulty: float
    source_style: float
    size: int
    landmarker: str | None = None  # face_landmarker.task: redraw images in which no face is found


def image_rng(seed: int, index: int, attempt: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(1, index, attempt)))


def _hash_of(data: bytes) -> int:
    with Image.open(io.BytesIO(data)) as im:
        return perceptual_hash(np.asarray(im.convert("RGB")))


def applied_severities(severities: dict[str, float], warp_scale: float) -> dict[str, float]:
    """The severities drawn: shape features as far as the warp applied them (1 unless folding)."""
    kind = {name: AXES[f.axis].kind for name, f in FEATURES.items()}
    return {k: round(v * (warp_scale if kind[k] == "shape" else 1.0), 6) for k, v in severities.items()}


def draw_image(
    bank: IdentityBank,
    spec: Spec,
    condition: Condition,
    source: dict | None,
    index: int,
    attempt: int,
    *,
    affected: bool = True,
    severities: dict[str, float] | None = None,
) -> dict[str, Any]:
    """One simulated patient: JPEG bytes, perceptual hash and ground truth. With
    ``affected=False``, the same patient in the same photo without the features (a twin);
    ``severities`` replaces the drawn ones (the same patient and photo otherwise)."""
    rng = image_rng(spec.seed, index, attempt)
    d = spec.difficulty
    ident = sample_identity(rng, bank, identity_spread(d), smiling_probability(d))
    scene = sample_scene(rng, nuisance_level(d))
    sev = image_severities(condition, rng, d)
    if severities is not None:
        sev = dict(severities)
    if not affected:
        sev = dict.fromkeys(sev, 0.0)
    style = mix_style(sample_style(rng, nuisance_level(d), spec.size), source, spec.source_style, rng)
    out = render(bank, ident, scene, sev, spec.size, int(rng.integers(2**31)))
    pixels, landmarks = apply_style(out.pixels, out.landmarks, style)
    data = encode_jpeg(pixels, style.quality)
    face = True if spec.landmarker is None else _face_found(spec.landmarker, data)
    truth = {
        "age": round(ident.age, 2),
        "identity": ident.to_dict(),
        "scene": scene.to_dict(),
        "style": style.to_dict(),
        "features": applied_severities(sev, out.warp_scale),
        "warp_scale": out.warp_scale,
        "attempt": attempt,
    }
    return {"index": index, "bytes": data, "hash": _hash_of(data), "truth": truth, "face": face, "landmarks": landmarks}


def _face_found(model: str, data: bytes) -> bool:
    """Does MediaPipe find a face in the image, decoded as the builder decodes it?"""
    return worker_landmarker(model).detect(load_clean(data).pixels) is not None
