"""rdface probe: frozen embeddings and landmark geometry under the same folds and summary."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rdface_hf.cli import main


def _probe(dataset, out, *extra):
    return main(["probe", "--dataset", str(dataset), "--output-dir", str(out), "--no-progress", *extra])


def test_landmark_probe_learns_shape_and_writes_the_summary(colour_dataset, tmp_path, capsys):
    out = tmp_path / "lm"
    assert _probe(colour_dataset, out, "--model", "landmarks") == 0
    assert "landmarks + logistic regression" in capsys.readouterr().out
    summary = json.loads((out / "summary.json").read_text())
    assert summary["folds"] == [0, 1] and summary["stage"] == "probe"
    names = [row["name"] for row in summary["rows"]]
    assert names == ["landmarks + centroid (cosine)", "landmarks + logistic regression"]
    for row in summary["rows"]:
        assert row["test"]["top_1"]["mean"] > 0.75, "the shape phenotype is in the landmarks"
        assert len(row["test"]["top_1"]["values"]) == 2
    results = json.loads((out / "fold_0" / "results.json").read_text())
    logistic = results["methods"]["logistic"]
    assert logistic["C"] in (0.01, 0.1, 1.0, 10.0) and len(logistic["C_trials"]) == 4
    assert set(logistic["test"]["per_condition"]) == {
        "Alpha syndrome",
        "Beta syndrome",
        "Gamma syndrome",
        "Delta syndrome",
    }
    assert results["without_features"] == {"train": 0, "validation": 0, "test": 0}
    table = (out / "summary.md").read_text()
    assert "| Model | Top-1 | Top-5 | Top-10 | Top-30 | Macro-F1 | Balanced acc. | Folds |" in table


def test_embedding_probe_with_a_frozen_backbone(colour_dataset, tiny_vit, tmp_path):
    out = tmp_path / "emb"
    assert _probe(colour_dataset, out, "--model", str(tiny_vit), "--fold", "1", "--c-values", "1") == 0
    summary = json.loads((out / "summary.json").read_text())
    assert [row["method"] for row in summary["rows"]] == ["centroid", "logistic"]
    results = json.loads((out / "fold_1" / "results.json").read_text())
    assert results["methods"]["logistic"]["C"] == 1.0 and results["test_images"] == 8
    assert results["methods"]["logistic"]["test"]["top_1"] >= 0.5, "colour survives a random ViT"
    assert (out / "probe_config.json").is_file()


def test_probe_selection_never_sees_the_test_split(make_colour_dataset, tmp_path):
    """Other test landmarks and pixels: the same C and the same validation scores."""
    runs = []
    for variant in (0, 1):
        data = make_colour_dataset(tmp_path / f"d{variant}", test_variant=variant)
        assert _probe(data, tmp_path / f"p{variant}", "--fold", "0") == 0
        runs.append(json.loads((tmp_path / f"p{variant}" / "fold_0" / "results.json").read_text()))
    for method in ("centroid", "logistic"):
        assert runs[0]["methods"][method]["validation"] == runs[1]["methods"][method]["validation"]
    assert runs[0]["methods"]["logistic"]["C_trials"] == runs[1]["methods"]["logistic"]["C_trials"]
    from rdface_hf.dataset import RDFaceDataset

    test_points = [RDFaceDataset(tmp_path / f"d{v}").landmarks(RDFaceDataset(tmp_path / f"d{v}").test) for v in (0, 1)]
    assert not np.allclose(test_points[0], test_points[1]), "the control: the test landmarks did differ"


def test_centroid_scores_rank_the_nearest_mean_first():
    from rdface_hf.classify.probe import centroid_scores

    rng = np.random.default_rng(0)
    centres = rng.normal(size=(3, 8))
    train_y = np.repeat(np.arange(3), 4)
    train_x = centres[train_y] + rng.normal(scale=0.05, size=(12, 8))
    scores = centroid_scores(train_x, train_y, centres + rng.normal(scale=0.05, size=(3, 8)), num_classes=4)
    assert list(scores.argmax(1)) == [0, 1, 2]
    assert np.all(scores[:, 3] == -2.0), "a condition without training images ranks last"
    assert np.all(np.abs(scores[:, :3]) <= 1 + 1e-9)


@pytest.mark.parametrize(
    "extra, message",
    [(["--methods", "knn"], "--methods must be"), (["--c-values", "0"], "--c-values must be positive")],
)
def test_probe_bad_flags(colour_dataset, tmp_path, capsys, extra, message):
    assert _probe(colour_dataset, tmp_path / "o", *extra) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]


def test_landmark_probe_on_a_build_without_landmarks_is_one_line(colour_dataset, tmp_path, capsys):
    import shutil

    from datasets import Dataset

    build = tmp_path / "no-landmarks"
    shutil.copytree(colour_dataset, build)
    for shard in (build / "data").glob("*.parquet"):
        rows = Dataset.from_parquet(str(shard)).remove_columns("landmarks")
        shard.unlink()
        rows.to_parquet(str(shard))
    capsys.readouterr()
    assert _probe(build, tmp_path / "out", "--model", "landmarks") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "has no landmarks" in err[0], err
    assert not (tmp_path / "out").exists()


def test_overwrite_keeps_a_users_file(colour_dataset, tmp_path, capsys, user_file_survives):
    argv = ["probe", "--dataset", str(colour_dataset), "--output-dir", str(tmp_path / "p"), "--no-progress",
            "--model", "landmarks"]  # fmt: skip
    assert main(argv) == 0
    user_file_survives(argv, tmp_path / "p", capsys)
