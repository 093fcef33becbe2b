"""The geometry baseline: learns shape, and the test split never reaches fitting."""

from __future__ import annotations

import numpy as np
from datasets import Array2D, ClassLabel, Dataset, Features, Value

from rdface_hf.classify.geometry import fit_geometry_baseline, geometry_baseline
from rdface_hf.dataset import RDFaceDataset


def synthetic_split(rng, n_per_class, classes=4, poison=False):
    """Landmark sets whose class shifts one block of points; random pose per row."""
    base = np.random.default_rng(99).normal(size=(478, 3)).astype(np.float32)  # one mean face for every split
    rows, labels = [], []
    for c in range(classes):
        for _ in range(n_per_class):
            pts = base + rng.normal(scale=0.02, size=base.shape).astype(np.float32)
            pts[c * 50 : c * 50 + 50, 0] += 0.5  # the "phenotype"
            theta = rng.uniform(-0.3, 0.3)
            rot = np.array(
                [[np.cos(theta), -np.sin(theta), 0], [np.sin(theta), np.cos(theta), 0], [0, 0, 1]], np.float32
            )
            pts = pts @ rot * rng.uniform(0.5, 2.0) + rng.normal(size=3).astype(np.float32)
            if poison:
                pts = pts * 1000.0 + 77.0
            rows.append(pts)
            labels.append(c)
    features = Features(
        {
            "landmarks": Array2D((478, 3), "float32"),
            "condition": ClassLabel(num_classes=classes),
            "image_id": Value("string"),
        }
    )
    return Dataset.from_dict(
        {"landmarks": rows, "condition": labels, "image_id": [str(i) for i in range(len(rows))]}, features=features
    )


def test_baseline_recovers_shape_classes(write_built_dataset, tmp_path):
    rng = np.random.default_rng(0)
    root = write_built_dataset(tmp_path / "ds", train=synthetic_split(rng, 8), test=synthetic_split(rng, 3))
    score = geometry_baseline(RDFaceDataset(root), fold=None)
    assert score.top1 > 0.9 and score.top5 == 1.0 and score.chance_top1 == 0.25
    assert score.test_images == 12 and score.no_face == 0


def test_missing_landmarks_count_as_misses(write_built_dataset, tmp_path):
    rng = np.random.default_rng(1)
    train = synthetic_split(rng, 6)
    test = synthetic_split(rng, 2).map(lambda r, i: {"landmarks": None if i < 4 else r["landmarks"]}, with_indices=True)
    score = geometry_baseline(RDFaceDataset(write_built_dataset(tmp_path / "ds", train=train, test=test)), fold=None)
    assert score.no_face == 4 and score.top1 <= 0.5


def test_test_split_never_reaches_fitting(monkeypatch, write_built_dataset, tmp_path):
    """Poisoning the test split changes nothing that was fitted."""
    import rdface_hf.classify.geometry as baselines

    fitted = []
    original = baselines.fit_geometry_baseline

    def spy(landmarks, labels, **kw):
        result = original(landmarks, labels, **kw)
        fitted.append(result)
        return result

    monkeypatch.setattr(baselines, "fit_geometry_baseline", spy)
    rng = np.random.default_rng(2)
    train, validation = synthetic_split(rng, 5), synthetic_split(rng, 2)
    clean_test = synthetic_split(np.random.default_rng(3), 2)
    poisoned_test = synthetic_split(np.random.default_rng(3), 2, poison=True)
    for name, test in (("clean", clean_test), ("poisoned", poisoned_test)):
        root = write_built_dataset(tmp_path / name, train=train, validation=validation, test=test)
        geometry_baseline(RDFaceDataset(root), fold=0)
    (t1, m1), (t2, m2) = fitted
    np.testing.assert_array_equal(t1, t2)
    np.testing.assert_array_equal(m1[-1].coef_, m2[-1].coef_)
    # and the fit saw exactly train + validation
    _, model = fit_geometry_baseline(
        list(train["landmarks"]) + list(validation["landmarks"]),
        list(train["condition"]) + list(validation["condition"]),
    )
    np.testing.assert_allclose(model[-1].coef_, m1[-1].coef_)
