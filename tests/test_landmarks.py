"""Face landmarks: model resolution, detection, batch API, Procrustes."""

from __future__ import annotations

import hashlib
import shutil

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rdface_hf import landmarks
from rdface_hf.landmarks import (
    FaceLandmarker,
    LandmarkerModelError,
    detect_landmarks,
    generalized_procrustes,
    landmark_groups,
    procrustes_align,
    resolve_landmarker_model,
)


def test_model_resolution_order(tmp_path, monkeypatch, landmarker_model):
    arg = tmp_path / "arg.task"
    env = tmp_path / "env.task"
    arg.write_bytes(b"a")
    env.write_bytes(b"e")
    monkeypatch.setenv("RDFACE_FACE_LANDMARKER", str(env))
    assert resolve_landmarker_model(arg) == arg
    assert resolve_landmarker_model() == env
    monkeypatch.delenv("RDFACE_FACE_LANDMARKER")
    # the cache is used only when its checksum matches
    cache = tmp_path / "cache"
    monkeypatch.setenv("RDFACE_CACHE", str(cache))
    cache.mkdir()
    shutil.copy(landmarker_model, cache / "face_landmarker.task")
    assert resolve_landmarker_model() == cache / "face_landmarker.task"


def test_offline_without_model_is_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.delenv("RDFACE_FACE_LANDMARKER", raising=False)
    monkeypatch.setenv("RDFACE_CACHE", str(tmp_path))
    (tmp_path / "face_landmarker.task").write_bytes(b"corrupt")  # wrong checksum: removed, not used
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(LandmarkerModelError, match="RDFACE_FACE_LANDMARKER"):
        resolve_landmarker_model()
    assert not (tmp_path / "face_landmarker.task").exists()


def test_missing_explicit_model_errors(tmp_path):
    with pytest.raises(LandmarkerModelError, match="not found"):
        resolve_landmarker_model(tmp_path / "nope.task")


def test_download_checks_sha256(tmp_path, monkeypatch):
    payload = b"not the model"
    src = tmp_path / "served.task"
    src.write_bytes(payload)
    with pytest.raises(LandmarkerModelError, match="sha256"):
        landmarks.download_landmarker(tmp_path / "out.task", url=src.as_uri())
    assert not (tmp_path / "out.task").exists()
    good = landmarks.download_landmarker(tmp_path / "out.task", url=src.as_uri(), sha256=hashlib.sha256(payload).hexdigest())
    assert good.read_bytes() == payload


def test_pinned_checksum_matches_shared_model(landmarker_model):
    assert landmarks.file_sha256(landmarker_model) == landmarks.LANDMARKER_SHA256


def test_detect_face_and_no_face(astronaut, landmarker_model):
    with FaceLandmarker(landmarker_model, blendshapes=True) as lm:
        face = lm.detect(astronaut)
        blank = lm.detect(np.full((128, 128, 3), 127, np.uint8))
    assert blank is None
    assert face.points.shape == (478, 3) and face.points.dtype == np.float32
    x0, y0, x1, y1 = face.box
    assert 0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1
    # the astronaut's face is in the upper middle of the photo
    cx, cy = face.pixels().mean(axis=0)
    assert 150 < cx < 300 and 50 < cy < 250
    assert face.blendshapes and "eyeBlinkLeft" in face.blendshapes
    groups = landmark_groups()
    # the subject's left eye is on the image's right
    assert face.pixels()[groups["left_eye"], 0].mean() > face.pixels()[groups["right_eye"], 0].mean()


def test_batch_api_parallel_matches_serial(astronaut, grace_hopper, tmp_path, landmarker_model):
    from PIL import Image

    path = tmp_path / "gh.jpg"
    Image.fromarray(grace_hopper).save(path)
    items = [astronaut, np.zeros((64, 64, 3), np.uint8), path, Image.fromarray(astronaut)]
    serial = detect_landmarks(items, model_path=landmarker_model, workers=1, progress=False)
    parallel = detect_landmarks(items, model_path=landmarker_model, workers=2, progress=False, chunksize=1)
    assert [r is None for r in serial] == [False, True, False, False]
    for a, b in zip(serial, parallel):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(a.points, b.points, atol=1e-6)


def random_rotation(rng, d):
    q, r = np.linalg.qr(rng.normal(size=(d, d)))
    q *= np.sign(np.diag(r))
    if np.linalg.det(q) < 0:
        q[:, 0] *= -1
    return q


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 10_000), d=st.sampled_from([2, 3]), scale=st.floats(0.1, 10.0))
def test_procrustes_recovers_similarity_transform(seed, d, scale):
    rng = np.random.default_rng(seed)
    ref = rng.normal(size=(30, d))
    moved = scale * ref @ random_rotation(rng, d) + rng.normal(size=d) * 5
    np.testing.assert_allclose(procrustes_align(moved, ref), ref, atol=1e-8)
    unscaled = procrustes_align(moved, ref, scaling=False)
    assert np.isclose(np.linalg.norm(unscaled - unscaled.mean(0)), scale * np.linalg.norm(ref - ref.mean(0)))


def test_procrustes_does_not_reflect():
    rng = np.random.default_rng(0)
    ref = rng.normal(size=(20, 2))
    mirrored = ref * np.array([-1.0, 1.0])
    assert np.abs(procrustes_align(mirrored, ref) - ref).max() > 0.1


def test_generalized_procrustes_removes_pose():
    rng = np.random.default_rng(0)
    base = rng.normal(size=(40, 3))
    shapes = np.stack([rng.uniform(0.5, 2) * base @ random_rotation(rng, 3) + rng.normal(size=3) for _ in range(6)])
    aligned, mean = generalized_procrustes(shapes)
    assert aligned.shape == shapes.shape
    assert np.abs(aligned - aligned[0]).max() < 1e-6
    assert np.isclose(np.linalg.norm(mean), 1.0)
    with pytest.raises(ValueError):
        procrustes_align(np.zeros((5, 2)), base[:5, :2])
