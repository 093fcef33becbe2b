"""``rdface generate --generator morph`` on the simulator: faces kept, shapes moved as asked,
provenance, single-face conditions, resume, workers, leak-freedom and bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
from datasets import load_dataset

from rdface_hf._sheets import CELL, LABEL_WIDTH
from rdface_hf.cli import main
from rdface_hf.dataset import RDFaceDataset
from rdface_hf.dataset.landmarks import FaceLandmarker
from rdface_hf.dataset.synthetic import COLUMNS
from rdface_hf.generate.config import GenerateConfig
from rdface_hf.generate.morph.generate import TrainingFaces, generate_morph, job_input
from rdface_hf.generate.morph.morph import morph_target
from rdface_hf.generate.morph.plan import plan_morphs
from rdface_hf.generate.morph.shapes import shape_distance
from rdface_hf.generate.morph.warp import fit_similarity, to_index_coords


def _config(dataset, out, **kw) -> GenerateConfig:
    return GenerateConfig(generator="morph", dataset=str(dataset), output_dir=str(out), **kw)


def _load(folder):
    """``load_dataset(G)``, with a cache of its own: ``datasets`` keys a folder's cache on its name and
    its YAML data-file patterns, not on the files (see the report), so a fresh cache avoids stale rows."""
    return load_dataset(str(folder), split="train", cache_dir=str(folder.parent / f".hf-cache-{folder.name}"))


def _shards(folder):
    return {p.name: p.read_bytes() for p in sorted((folder / "data").glob("*.parquet"))}


@pytest.fixture(scope="module")
def caricatures(sim_build, tmp_path_factory, landmarker_model):
    """Morphs pulled to the condition mean and exaggerated (3 per condition, fold 0), with the
    landmarks MediaPipe finds on them and the shapes that were asked for."""
    settings = dict(per_condition=3, toward_mean=1.0, caricature=1.5, workers=1, seed=3)
    out = tmp_path_factory.mktemp("morph") / "set"
    config = _config(sim_build, out, **settings)
    generate_morph(config, progress=False)
    ds = _load(out)
    rd = RDFaceDataset(sim_build)
    faces = TrainingFaces(rd, "0", config.max_side)
    stats = faces.shape_stats()
    plan = plan_morphs(faces.labels, faces.has_face, list(range(rd.num_classes)), per_condition=3, seed=3,
                       mix_range=(config.mix_min, config.mix_max))  # fmt: skip
    jobs = {(j.condition, j.seed): job_input(j, faces, stats, config) for j in plan.jobs}
    rows = []
    with FaceLandmarker(landmarker_model) as lm:
        for row in ds:
            pixels = np.asarray(row["image"].convert("RGB"))
            face = lm.detect(pixels)
            found = None if face is None else to_index_coords(face.points, pixels.shape[1], pixels.shape[0])
            rows.append((row, found, jobs[(row["condition"], row["seed"])]))
    return rows


def test_morphs_keep_a_detectable_face(caricatures):
    found = sum(points is not None for _, points, _ in caricatures)
    assert len(caricatures) == 30 and found >= 0.95 * len(caricatures)


def test_landmarks_move_toward_the_requested_shape(caricatures):
    """The requested shape (condition mean, exaggerated) is nearer the morph's measured landmarks
    than either parent's: the distance to the target decreases."""
    closer, morph_d, parent_d = 0, [], []
    for _, points, job in caricatures:
        if points is None:
            continue
        target = morph_target(job)
        b_in_a = fit_similarity(job.points_b, job.points_a)(job.points_b)
        parents = min(shape_distance(job.points_a, target), shape_distance(b_in_a, target))
        morph_d.append(shape_distance(points, target))
        parent_d.append(parents)
        closer += morph_d[-1] < parents
    # MediaPipe's shape prior pulls measured landmarks toward an average face, so a morph does not
    # reach its target exactly (about 0.65-0.7 of the parents' distance on the simulator at seeds 3-5).
    assert closer >= 0.75 * len(morph_d)
    assert np.mean(morph_d) < 0.8 * np.mean(parent_d)


def test_provenance_and_single_face_conditions(caricatures, sim_build):
    rd = RDFaceDataset(sim_build)
    train = rd.training_split(0)
    label_of = dict(zip(train["image_id"], train["condition"]))
    counts = {c: int((np.asarray(train["condition"]) == c).sum()) for c in range(rd.num_classes)}
    singles = {c for c, n in counts.items() if n == 1}
    assert singles  # sim_build's fold 0 has conditions with one training image
    for row, _, _ in caricatures:
        params = json.loads(row["params"])
        assert row["generator"] == "morph" and row["trained_on"] == "fold_0" and row["prompt"] == ""
        assert all(p in label_of for p in row["parent_ids"]) and len(row["parent_ids"]) == 2
        a, b = (label_of[p] for p in row["parent_ids"])
        assert a == row["condition"]
        assert params["own_shape_only"] == (row["condition"] in singles)
        if params["own_shape_only"]:
            assert b != row["condition"] and params["partner_condition"] == rd.abbreviations[b]
            assert params["mix"] <= 0.5
        else:
            assert b == row["condition"] and params["partner_condition"] is None
        assert params["toward_mean"] == 1.0 and params["caricature"] == 1.5


def test_set_card_resume_and_workers(sim_build, tmp_path, capsys, assert_picture):
    config = _config(sim_build, tmp_path / "g", per_condition=2, workers=1, conditions="all")
    first = generate_morph(config, progress=False)
    err = capsys.readouterr().err
    ds = _load(tmp_path / "g")
    rd = RDFaceDataset(sim_build)
    assert first.images == first.new_images == len(ds) == 2 * rd.num_classes
    assert list(ds.features)[: len(COLUMNS)] == list(COLUMNS)
    assert ds.features["condition"].names == rd.class_names
    assert "morphed toward their own shape only" in err
    card = (tmp_path / "g" / "README.md").read_text()
    assert "own shape only" in card and "Privacy" in card and "never the test split" in card
    sheet = assert_picture(tmp_path / "g" / "sample_sheet.png")  # a row per condition, its first 2 images
    assert sheet.shape[:2] == (rd.num_classes * CELL, LABEL_WIDTH + 2 * CELL)
    again = generate_morph(config, progress=False)
    assert (again.images, again.new_images) == (first.images, 0)
    pooled = generate_morph(_config(sim_build, tmp_path / "w2", per_condition=2, workers=2), progress=False)
    assert pooled.images == first.images
    assert _shards(tmp_path / "w2") == _shards(tmp_path / "g")  # workers do not change a byte


def test_leak_free_the_test_split_never_reaches_a_morph(rebuilt, tmp_path):
    clean = rebuilt(tmp_path / "a" / "rdface")
    poisoned = rebuilt(tmp_path / "b" / "rdface", poison=True)
    assert RDFaceDataset(clean).digest != RDFaceDataset(poisoned).digest
    for build, out in ((clean, "ma"), (poisoned, "mb")):
        generate_morph(_config(build, tmp_path / out, fold="test", per_condition=1, workers=1, caricature=1.0),
                       progress=False)  # fmt: skip
    assert _shards(tmp_path / "ma") and _shards(tmp_path / "ma") == _shards(tmp_path / "mb")
    assert (tmp_path / "ma" / "README.md").read_text() == (tmp_path / "mb" / "README.md").read_text()


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--fold", "9"], "has no fold 9"),
        (["--conditions", "NOPE"], "unknown condition"),
        (["--caricature", "9"], "--caricature must be within"),
        (["--toward-mean", "1.5"], "--toward-mean must be within 0..1"),
        (["--mix-min", "0.8", "--mix-max", "0.2"], "--mix-min must be <= --mix-max"),
        (["--model", "x"], "--model belongs to --generator fastgan"),
    ],
)
def test_bad_input_is_one_line(sim_build, tmp_path, flags, message, capsys):
    code = main(["generate", "--generator", "morph", "--dataset", str(sim_build), *flags,
                 "--output-dir", str(tmp_path / "o")])  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and message in err[0], err
    assert not (tmp_path / "o").exists()


def test_missing_dataset(tmp_path, capsys):
    code = main(["generate", "--generator", "morph", "--output-dir", str(tmp_path / "o")])
    assert code == 2 and "--dataset is required" in capsys.readouterr().err


def test_an_undecodable_training_image_is_one_line(sim_build, tmp_path, capsys):
    import shutil

    import datasets

    build = tmp_path / "corrupt"
    shutil.copytree(sim_build, build)
    shard = next((build / "data").glob("train-always-*.parquet"))
    rows = datasets.Dataset.from_parquet(str(shard)).cast_column("image", datasets.Image(decode=False))
    rows = rows.map(lambda r, i: {"image": {"bytes": b"not an image" if i == 0 else r["image"]["bytes"],
                                            "path": None}}, with_indices=True)  # fmt: skip
    shard.unlink()
    rows.cast_column("image", datasets.Image()).to_parquet(str(shard))
    capsys.readouterr()
    code = main(["generate", "--generator", "morph", "--dataset", str(build), "--output-dir", str(tmp_path / "o")])
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("rdface")]  # not datasets' bars
    assert code == 2 and len(err) == 1 and "training image" in err[0] and "unreadable" in err[0], err
    assert not (tmp_path / "o").exists()


def test_overwrite_keeps_a_users_file_and_a_rebuilt_dataset_is_not_resumed(
    rebuilt, tmp_path, capsys, user_file_survives, input_change_refused
):
    import shutil

    build = rebuilt(tmp_path / "d" / "rdface")
    argv = ["generate", "--generator", "morph", "--dataset", str(build), "--fold", "test", "--per-condition", "1",
            "--workers", "1", "--output-dir", str(tmp_path / "g")]  # fmt: skip
    assert main(argv) == 0
    user_file_survives(argv, tmp_path / "g", capsys)
    shutil.move(tmp_path / "g", tmp_path / "moved")  # the folder's own path is not part of the run
    moved = [*argv[:-1], str(tmp_path / "moved")]
    assert main(moved) == 0 and "generated 0 images" in capsys.readouterr().out
    shutil.rmtree(build)
    rebuilt(build, poison=True)  # the same path, other data: resuming would mix rows of both builds
    before = sorted(p.name for p in (tmp_path / "moved" / "data").iterdir())
    input_change_refused(moved, capsys, "dataset")
    assert sorted(p.name for p in (tmp_path / "moved" / "data").iterdir()) == before
    assert main([*moved, "--overwrite"]) == 0
