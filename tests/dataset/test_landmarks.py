"""Face landmarks: model resolution, detection, the batch API, the protocol."""

from __future__ import annotations

import hashlib
import shutil

import numpy as np
import pytest

from rdface_hf.dataset import landmarks
from rdface_hf.dataset.landmarks import (
    FaceLandmarker,
    Landmarker,
    LandmarkerModelError,
    detect_landmarks,
    landmark_groups,
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
    good = landmarks.download_landmarker(
        tmp_path / "out.task", url=src.as_uri(), sha256=hashlib.sha256(payload).hexdigest()
    )
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


def test_face_landmarker_satisfies_the_protocol(landmarker_model):
    with FaceLandmarker(landmarker_model) as lm:
        assert isinstance(lm, Landmarker)


def test_several_faces_largest_first_and_detect_still_gives_one(distinct_faces, landmarker_model):
    from PIL import Image

    small = np.asarray(Image.fromarray(distinct_faces[1]).resize((96, 96)))
    pair = np.full((128, 256, 3), 200, np.uint8)
    pair[:, 128:] = distinct_faces[0]  # the larger face on the right
    pair[16:112, 16:112] = small
    with FaceLandmarker(landmarker_model) as one, FaceLandmarker(landmarker_model, num_faces=4) as many:
        faces = many.detect_all(pair)
        single = one.detect(pair)
        largest = many.detect(pair)
        assert len(one.detect_all(pair)) == 1, "num_faces=1 (the default) looks for one face"
    assert len(faces) == 2
    areas = [(f.box[2] - f.box[0]) * (f.box[3] - f.box[1]) for f in faces]
    assert areas[0] > areas[1] and faces[0].box[0] > 0.45, "the larger (right) face first"
    assert isinstance(single, landmarks.FaceLandmarks) and single.points.shape == (478, 3)
    np.testing.assert_allclose(largest.points, faces[0].points)


def test_a_script_that_never_closes_its_landmarker_exits_quietly(landmarker_model, tmp_path):
    """MediaPipe's own __del__ fails at interpreter teardown ("Exception ignored in __del__"):
    a landmarker left open is closed at exit, while MediaPipe's threads still run."""
    import subprocess
    import sys

    script = tmp_path / "script.py"
    script.write_text(
        "import numpy as np\n"
        "from rdface_hf.dataset.landmarks import FaceLandmarker\n"
        f"lm = FaceLandmarker({landmarker_model!r})\n"
        "print(lm.detect(np.zeros((64, 64, 3), np.uint8)))\n"
    )
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "None", done.stderr
    assert "Exception ignored" not in done.stderr and "Traceback" not in done.stderr, done.stderr
