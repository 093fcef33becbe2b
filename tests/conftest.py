"""Shared fixtures: offline Hub, the face landmarker, real files in tmp folders."""

from __future__ import annotations

import csv
import os
import struct
import tempfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

# Tests never touch the network: the Hub is offline, and the caches are a fresh folder per
# test process, set here, before `datasets` or `huggingface_hub` is imported (they read
# these variables once, at import time).
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
_CACHES = Path(tempfile.mkdtemp(prefix="rdface-test-caches-"))
os.environ["HF_HOME"] = str(_CACHES / "hf_home")
os.environ["HF_DATASETS_CACHE"] = str(_CACHES / "hf_home" / "datasets")
os.environ["HF_HUB_CACHE"] = str(_CACHES / "hf_home" / "hub")
os.environ["RDFACE_CACHE"] = str(_CACHES / "rdface_cache")

REPO = Path(__file__).resolve().parents[1]
HEADER = ["image_name", "disease_name", "disease_abbr", "sub_category", "gene_name", "orphanet_code"]


def pytest_collection_modifyitems(config, items):
    """``gpu`` tests skip without CUDA; tests that use the landmarker are marked ``needs_landmarker``."""
    try:
        import torch

        has_cuda = torch.cuda.is_available()
    except ImportError:
        has_cuda = False
    for item in items:
        if "landmarker_model" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.needs_landmarker)
        if item.get_closest_marker("gpu") and not has_cuda:
            item.add_marker(pytest.mark.skip(reason="needs a CUDA device"))


def pytest_sessionfinish(session, exitstatus):
    import shutil

    shutil.rmtree(_CACHES, ignore_errors=True)


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

    from rdface_hf.dataset.landmarks import FaceLandmarker

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


# --- factories (fixtures that return functions; never import from conftest) -----------


def _noise_image(seed: int, size: int = 96) -> np.ndarray:
    """A distinct, face-free image (random smooth blobs)."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, size=(8, 8, 3), dtype=np.uint8)
    return np.asarray(Image.fromarray(small).resize((size, size), Image.BICUBIC))


def _write_release(
    root: Path,
    rows: list[dict],
    images: dict[tuple[str, str], np.ndarray | bytes],
    extra_columns: tuple[str, ...] = (),
    encoding: str = "utf-8",
) -> Path:
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


def _condition_row(abbr: str, name: str, index: int, **extra) -> dict:
    return {
        "image_name": name,
        "disease_name": f"Condition {abbr}",
        "disease_abbr": abbr,
        "sub_category": "test",
        "gene_name": f"GENE{index}",
        "orphanet_code": str(1000 + index),
        **extra,
    }


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims ``width`` x ``height`` pixels in a few bytes (a decompression bomb)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 10)) + chunk(b"IEND", b"")


def _build_release(raw, out, **kw):
    """``build_dataset`` with test defaults: no progress bars, one worker."""
    from rdface_hf.dataset.builder import BuildConfig, build_dataset

    kw.setdefault("progress", False)
    kw.setdefault("workers", 1)
    return build_dataset(BuildConfig(raw=str(raw), out=str(out), **kw))


def _write_built_dataset(root: Path, *, train, test, validation=None) -> Path:
    """A folder in the built-dataset layout from in-memory splits (``datasets.Dataset``):
    ``train`` becomes the always-train shard, ``validation`` fold 0's part, ``test`` the test
    shard; the card declares ``default`` and ``fold_0``. For stages that need a build of
    exactly known content (the real builder is tested on real releases)."""
    import hashlib

    import pyarrow.parquet as pq
    from huggingface_hub import DatasetCard, DatasetCardData

    from rdface_hf.dataset.card import dataset_configs

    (root / "data").mkdir(parents=True, exist_ok=True)
    files = {}
    for name, split in (("train-always", train), ("cv-0", validation), ("test", test)):
        if split is None or len(split) == 0:
            continue
        tmp = root / "data" / f"{name}.tmp"
        pq.write_table(split.with_format("arrow")[:], str(tmp))  # no progress bar on a test's stderr
        digest = hashlib.sha256(tmp.read_bytes()).hexdigest()[:8]
        files[name] = f"data/{name}-{digest}.parquet"
        tmp.rename(root / files[name])
    card = DatasetCard.from_template(
        DatasetCardData(configs=dataset_configs(1, files)), template_str="---\n{{ card_data }}\n---\n"
    )
    (root / "README.md").write_text(str(card), encoding="utf-8")
    (root / "validation_report.csv").write_text("image_name,disease_abbr,status,reason,row,image_id\n")
    return root


@pytest.fixture
def write_built_dataset():
    return _write_built_dataset


@pytest.fixture
def release_header() -> list[str]:
    return list(HEADER)


@pytest.fixture
def noise_image():
    return _noise_image


@pytest.fixture
def write_release():
    return _write_release


@pytest.fixture
def condition_row():
    return _condition_row


@pytest.fixture
def png_header_only():
    return _png_header_only


@pytest.fixture
def build_release():
    return _build_release


@pytest.fixture(scope="session")
def sim_release(tmp_path_factory, landmarker_model) -> Path:
    """A small simulated raw release (10 conditions, about 3.5 images each, 128 px, seed 11).
    Shared by many tests: treat it as read-only."""
    from rdface_hf.sim import SimConfig, simulate

    out = tmp_path_factory.mktemp("shared_sim") / "raw"
    simulate(SimConfig(out=str(out), conditions=10, per_condition_mean=3.5, image_size=128, seed=11, workers=1),
             progress=False)  # fmt: skip
    return out


@pytest.fixture(scope="session")
def sim_build(tmp_path_factory, sim_release) -> Path:
    """``sim_release`` built with the real builder (5 folds, seed 42): a folder for
    ``RDFaceDataset``. Shared by many tests: treat it as read-only."""
    out = tmp_path_factory.mktemp("shared_build") / "rdface"
    _build_release(sim_release, out)
    return out


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
            rows.append(_condition_row(abbr, name, c, age=str(2 + i)))
            k += 1
    return _write_release(tmp_path / "raw", rows, images, extra_columns=("age",))


class RecordingHub:
    """A stand-in for ``huggingface_hub.HfApi`` (no network): records ``create_repo``,
    ``update_repo_settings`` and ``upload_folder`` calls, and ``upload_folder`` copies the files
    that ``allow_patterns`` allow into ``root / <repo name>`` (after deleting what
    ``delete_patterns`` match there, as the Hub does in the same commit). Subclass it to make a
    call fail."""

    def __init__(self, root: Path):
        self.root, self.calls = Path(root), []

    def repo(self, repo_id: str) -> Path:
        """The local folder standing for ``repo_id``'s files."""
        return self.root / repo_id.split("/")[-1]

    def create_repo(self, repo_id, **kw):
        self.calls.append(("create_repo", repo_id, kw))
        prefix = "datasets/" if kw.get("repo_type") == "dataset" else ""
        return f"https://huggingface.co/{prefix}{repo_id}"

    def update_repo_settings(self, repo_id, **kw):
        self.calls.append(("update_repo_settings", repo_id, kw))

    def upload_folder(self, *, folder_path, repo_id, allow_patterns=None, **kw):
        import fnmatch
        import shutil

        self.calls.append(("upload_folder", repo_id, kw))
        dest = self.repo(repo_id)
        for pattern in kw.get("delete_patterns") or []:
            for old in dest.glob(pattern):
                if old.is_file():
                    old.unlink()
        for path in Path(folder_path).rglob("*"):
            rel = path.relative_to(folder_path).as_posix()
            if path.is_file() and (allow_patterns is None or any(fnmatch.fnmatch(rel, p) for p in allow_patterns)):
                (dest / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(path, dest / rel)
        return dest


@pytest.fixture
def fake_hub() -> type[RecordingHub]:
    """The :class:`RecordingHub` class: ``fake_hub(root)`` makes one; subclass it to fail a call."""
    return RecordingHub


# --- the output-folder promises, checked end to end by each command's own tests ------------------


def _tree(root: Path) -> dict[str, bytes | str]:
    return {
        p.relative_to(root).as_posix(): ("dir" if p.is_dir() else p.read_bytes())
        for p in sorted(Path(root).rglob("*"))
        if not p.is_symlink()
    }


def _one_error_line(capsys) -> list[str]:
    """stderr's error lines (progress bars and notes aside): what a person reads when a run stops."""
    lines = capsys.readouterr().err.replace("\r", "\n").splitlines()
    return [line for line in lines if "error" in line.lower() or "Traceback" in line or "Exception" in line]


def _user_file_survives(argv: list[str], out: Path, capsys) -> None:
    """A finished output of ``argv`` plus a file the user saved there: ``argv --overwrite`` is
    refused with one line naming the file, and nothing in the folder changes."""
    from rdface_hf.cli import main

    notebook = Path(out) / "analysis.ipynb"
    notebook.write_text('{"cells": []}')
    before = _tree(out)
    capsys.readouterr()
    code = main([*argv, "--overwrite"])
    err = _one_error_line(capsys)
    assert code == 2 and len(err) == 1 and "analysis.ipynb" in err[0] and "Traceback" not in err[0], err
    assert _tree(out) == before, "nothing replaced, nothing deleted"
    notebook.unlink()
    changed = Path(out) / sorted(p for p in _tree(out) if _tree(out)[p] != "dir" and not p.startswith("."))[0]
    original = changed.read_bytes()
    changed.write_bytes(original + b"\n(edited by hand)")  # one of ours, changed since: also kept
    code = main([*argv, "--overwrite"])
    err = _one_error_line(capsys)
    assert code == 2 and len(err) == 1 and changed.name in err[0], err
    changed.write_bytes(original)


def _input_change_refused(argv: list[str], capsys, what: str = "dataset") -> None:
    """Resuming ``argv`` after an input changed: one line that names it and --overwrite."""
    from rdface_hf.cli import main

    capsys.readouterr()
    code = main(argv)
    err = _one_error_line(capsys)
    assert code == 2 and len(err) == 1, err
    assert f"another {what}" in err[0] and "--overwrite" in err[0], err


@pytest.fixture
def user_file_survives():
    return _user_file_survives


@pytest.fixture
def input_change_refused():
    return _input_change_refused


def _assert_picture(path) -> np.ndarray:
    """A PNG that decodes and is not blank: most of it is not background, and it is not one flat
    colour there (a 4-step test GAN's faces are close to grey, but not flat)."""
    path = Path(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", path
    with Image.open(path) as im:
        arr = np.asarray(im.convert("RGB"), dtype=np.float64)
    painted = (arr < 250).any(axis=-1)
    assert painted.mean() > 0.2, f"{path.name} is mostly background"
    assert arr[painted].std() > 1, f"{path.name} is blank"
    return arr


@pytest.fixture
def assert_picture():
    """``assert_picture(path)``: the PNG decodes and is not blank; returns its pixels (H, W, 3)."""
    return _assert_picture


@pytest.fixture
def tensorboard_run():
    """``tensorboard_run(O)`` -> (scalars, image tags, hparams text) of the one TensorBoard run
    that ``--report-to tensorboard`` wrote under ``O/logs/`` (read with EventAccumulator, offline)."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    def read(out: Path):
        files = sorted(Path(out, "logs").rglob("events.out.tfevents.*"))
        assert files, f"no TensorBoard event file under {out}/logs"
        scalars, images, tags = {}, set(), set()
        for folder in sorted({f.parent for f in files}):
            acc = EventAccumulator(str(folder), size_guidance={"scalars": 0, "images": 0})
            acc.Reload()
            for tag in acc.Tags()["scalars"]:
                scalars[tag] = [(e.step, e.value) for e in acc.Scalars(tag)]
            images |= set(acc.Tags()["images"])
            tags |= set(acc.Tags().get("tensors", []))
        return scalars, images, tags

    return read
