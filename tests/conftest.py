"""Shared fixtures: offline Hub, the face landmarker, real files in tmp folders."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

# Tests never touch the network: the Hub is offline, caches are per session.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO = Path(__file__).resolve().parents[1]
HEADER = ["image_name", "disease_name", "disease_abbr", "sub_category", "gene_name", "orphanet_code"]


@pytest.fixture(autouse=True)
def _isolated_caches(tmp_path_factory, monkeypatch):
    home = tmp_path_factory.getbasetemp() / "hf_home"
    monkeypatch.setenv("HF_HOME", str(home))
    monkeypatch.setenv("HF_DATASETS_CACHE", str(home / "datasets"))
    monkeypatch.setenv("RDFACE_CACHE", str(tmp_path_factory.getbasetemp() / "rdface_cache"))


@pytest.fixture(scope="session")
def landmarker_model() -> str:
    """The official face landmarker: RDFACE_FACE_LANDMARKER must point at it.

    A missing model fails the tests that need it (never a silent skip).
    """
    path = os.environ.get("RDFACE_FACE_LANDMARKER")
    assert path and Path(path).is_file(), (
        "set RDFACE_FACE_LANDMARKER to face_landmarker.task (e.g. ../shared/models/face_landmarker.task)"
    )
    return path


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    from skimage import data

    return data.astronaut()


@pytest.fixture(scope="session")
def grace_hopper() -> np.ndarray:
    import matplotlib.cbook as cbook

    with Image.open(cbook.get_sample_data("grace_hopper.jpg")) as im:
        return np.asarray(im.convert("RGB"))


@pytest.fixture(scope="session")
def distinct_faces(landmarker_model) -> list[np.ndarray]:
    """~80 distinct colour faces (LFW subset, tinted, 128 px) on which a face is found."""
    from skimage import data

    from rdface_hf.landmarks import FaceLandmarker

    rng = np.random.default_rng(0)
    faces = []
    with FaceLandmarker(landmarker_model) as lm:
        for grey in data.lfw_subset()[:100]:
            im = Image.fromarray((grey * 255).astype(np.uint8)).resize((128, 128), Image.BICUBIC)
            tint = rng.uniform(0.75, 1.0, size=3)
            rgb = np.clip(np.asarray(im.convert("RGB"), dtype=np.float64) * tint, 0, 255).astype(np.uint8)
            if lm.detect(rgb) is not None:
                faces.append(rgb)
    assert len(faces) >= 60
    return faces


def noise_image(seed: int, size: int = 96) -> np.ndarray:
    """A distinct, face-free image (random smooth blobs)."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, size=(8, 8, 3), dtype=np.uint8)
    return np.asarray(Image.fromarray(small).resize((size, size), Image.BICUBIC))


def write_release(root: Path, rows: list[dict], images: dict[tuple[str, str], np.ndarray | bytes],
                  extra_columns: tuple[str, ...] = (), encoding: str = "utf-8") -> Path:
    """Write a raw release: rows (dicts over HEADER + extras) and image files.

    ``images`` maps (abbr, image_name) to an RGB array (saved by extension) or raw bytes.
    """
    (root / "rd_images").mkdir(parents=True, exist_ok=True)
    for (abbr, name), content in images.items():
        path = root / "rd_images" / abbr / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, (bytes, bytearray)):
            path.write_bytes(content)
        else:
            Image.fromarray(content).save(path)
    with open(root / "disease_images.csv", "w", newline="", encoding=encoding) as fh:
        writer = csv.DictWriter(fh, fieldnames=HEADER + list(extra_columns))
        writer.writeheader()
        for row in rows:
            writer.writerow(row)
    return root


def condition_row(abbr: str, name: str, index: int, **extra) -> dict:
    return {
        "image_name": name, "disease_name": f"Condition {abbr}", "disease_abbr": abbr,
        "sub_category": "test", "gene_name": f"GENE{index}", "orphanet_code": str(1000 + index), **extra,
    }


@pytest.fixture
def face_release(tmp_path, distinct_faces):
    """A release of 8 conditions (sizes 1, 2, 3, 4, 5, 6, 7, 1), real faces, JPEG and PNG."""
    sizes = [1, 2, 3, 4, 5, 6, 7, 1]
    rows, images, k = [], {}, 0
    for c, n in enumerate(sizes):
        abbr = f"C{c}"
        for i in range(n):
            name = f"p{i}.jpg" if i % 2 else f"p{i}.png"
            images[(abbr, name)] = distinct_faces[k]
            rows.append(condition_row(abbr, name, c, age=str(2 + i)))
            k += 1
    return write_release(tmp_path / "raw", rows, images, extra_columns=("age",))
