"""The face-identity core (rdface_hf.dataset.identity) with the real dlib model, and its bad inputs."""

from __future__ import annotations

import io
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from rdface_hf.dataset.identity import (
    EMBEDDING_DIM,
    DlibEmbedder,
    EmbeddingCache,
    FaceEmbedder,
    FaceModelError,
    embed_faces,
    mirror_face,
)
from rdface_hf.dataset.landmarks import FaceLandmarker


@pytest.fixture(scope="module")
def embedder():
    return DlibEmbedder()


@pytest.fixture(scope="module")
def faces_of(landmarker_model):
    with FaceLandmarker(landmarker_model) as lm:
        yield lm.detect


def test_copies_are_near_and_other_people_far(embedder, faces_of, distinct_faces, astronaut):
    assert isinstance(embedder, FaceEmbedder)
    images = [astronaut, astronaut[20:-10, 15:-5].copy(), *distinct_faces[:8]]
    emb, status = embed_faces(images, [faces_of(im) for im in images], embedder)
    assert status == ["ok"] * len(images) and emb.shape == (len(images), EMBEDDING_DIM) and emb.dtype == np.float32
    assert np.linalg.norm(emb[0] - emb[1]) < 0.2  # a re-cropped copy
    d = np.linalg.norm(emb[:, None] - emb[None], axis=2)
    others = d[np.triu_indices(len(images), 1)][1:]  # every pair but (original, crop)
    assert np.median(others) > 0.5, np.median(others)


def test_a_mirror_image_embeds_like_a_flipped_copy(embedder, faces_of, astronaut):
    flipped = np.ascontiguousarray(astronaut[:, ::-1])
    original, _ = embed_faces([astronaut], [faces_of(astronaut)], embedder)
    mirrored, _ = embed_faces([astronaut], [faces_of(astronaut)], embedder, mirror=True)
    copy, _ = embed_faces([flipped], [faces_of(flipped)], embedder)
    assert np.linalg.norm(mirrored[0] - copy[0]) < 0.5 * np.linalg.norm(original[0] - copy[0])
    image, face = mirror_face(astronaut, faces_of(astronaut))
    assert np.array_equal(image, flipped) and face.points[263, 0] > face.points[33, 0]  # dlib's layout kept


def test_bad_inputs_are_row_statuses(embedder, faces_of, astronaut, noise_image):
    grey = np.asarray(Image.fromarray(astronaut).convert("L"))
    tiny = np.asarray(Image.fromarray(astronaut).resize((32, 32)))
    broken = {"bytes": b"not an image", "path": None}
    images = [noise_image(1, 128), grey, tiny, broken]
    faces = [faces_of(noise_image(1, 128)), faces_of(np.repeat(grey[:, :, None], 3, 2)), faces_of(tiny), None]
    emb, status = embed_faces(images, faces, embedder)
    assert status[0] == "no_face" and status[1] == "ok" and status[3] == "bad_image"
    assert status[2] in ("no_face", "face_too_small")
    assert np.isfinite(emb[1]).all() and np.isnan(emb[[0, 2, 3]]).all()


def test_embeddings_are_cached_by_content(embedder, faces_of, astronaut, tmp_path):
    calls = []

    class Counting:
        name = "counting"

        def embed(self, image, face):
            calls.append(1)
            return embedder.embed(image, face)

    cache = EmbeddingCache(tmp_path, "counting-model")
    first, _ = embed_faces([astronaut], [faces_of(astronaut)], Counting(), cache=cache)
    again, _ = embed_faces([astronaut], [faces_of(astronaut)], Counting(), cache=cache)
    assert len(calls) == 1 and np.array_equal(first, again)
    other, _ = embed_faces([astronaut[:, ::-1].copy()], [faces_of(astronaut[:, ::-1].copy())], Counting(), cache=cache)
    assert len(calls) == 2 and not np.array_equal(first, other)


def test_a_missing_model_is_one_line(tmp_path):
    with pytest.raises(FaceModelError, match="not found"):
        DlibEmbedder(tmp_path / "nope.dat")
    bad = tmp_path / "bad.dat"
    bad.write_bytes(b"garbage")
    with pytest.raises(FaceModelError, match="cannot load"):
        DlibEmbedder(bad)


def test_the_package_imports_and_explains_without_dlib(tmp_path):
    code = (
        "import sys; sys.modules['dlib'] = None\n"
        "import rdface_hf.cli, rdface_hf.dataset.identity, rdface_hf.filter.run, rdface_hf.audit.run\n"
        "from rdface_hf.dataset.identity import DlibEmbedder, FaceModelError\n"
        "try:\n    DlibEmbedder()\nexcept FaceModelError as e:\n    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "face identity needs dlib: pip install 'rdface_hf[face]'"


def test_png_bytes_and_arrays_embed_alike(embedder, faces_of, astronaut):
    buf = io.BytesIO()
    Image.fromarray(astronaut).save(buf, format="PNG")
    face = faces_of(astronaut)
    a, _ = embed_faces([astronaut, {"bytes": buf.getvalue(), "path": None}], [face, face], embedder)
    assert np.allclose(a[0], a[1], atol=1e-5)
