"""What the filter prototypes are made of: one fold's training split only (never its validation or
the test split), shrunk towards the average face by n / (n + 1). Each test fails when the protocol
is broken on purpose (benchmarks/mutation_check.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rdface_hf.filter.config import FilterConfig
from rdface_hf.filter.run import filter_synthetic


def run(dataset, synthetic, out, landmarker, **kw):
    """``filter_synthetic`` on the stand-in faces (no real face to calibrate a near-copy threshold on)."""
    kw.setdefault("reject_near_copies", False)
    config = FilterConfig(dataset=str(dataset), synthetic=str(synthetic), output_dir=str(out), progress=False, **kw)
    return filter_synthetic(config, landmarker=landmarker)


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_prototypes_use_the_folds_training_split_only(filter_inputs):
    from rdface_hf.dataset import RDFaceDataset
    from rdface_hf.filter.inputs import training_split

    dataset = RDFaceDataset(filter_inputs[0])
    train = training_split(dataset, "0")
    ids = set(train.rows["image_id"])
    assert ids == set(dataset.split("train", 0)["image_id"]) and len(ids) == len(train.labels) == 15
    assert not ids & set(dataset.split("validation", 0)["image_id"]), "validation images reached the prototypes"
    assert not ids & set(dataset.test["image_id"]), "test images reached the prototypes"
    assert len(train.points) == len(train.sizes) == 15


def test_changing_validation_images_changes_no_output_byte(filter_inputs, tmp_path, write_built_dataset, toy):
    """The fold's validation split is held out of the prototypes: other validation faces and
    labels, byte-identical filter output."""
    dataset, synthetic, landmarker = filter_inputs
    run(dataset, synthetic, tmp_path / "a", landmarker, mode="global-top-n", top_n=6)
    before = sorted(p.name for p in (dataset / "data").iterdir())
    toy.write_dataset(dataset, write_built_dataset, validation_variant=1)  # same folder, new validation split
    after = sorted(p.name for p in (dataset / "data").iterdir())
    changed = [n for n in before if n not in after]
    assert changed and all(n.startswith("cv-0") for n in changed), "the control: only the validation split changed"
    run(dataset, synthetic, tmp_path / "b", landmarker, mode="global-top-n", top_n=6)
    a, b = tree(tmp_path / "a"), tree(tmp_path / "b")
    assert a.keys() == b.keys() and all(a[k] == b[k] for k in a)


@pytest.mark.parametrize("counts", [(1, 2, 4), (3, 1, 1)])
def test_prototypes_are_shrunk_by_n_over_n_plus_one(counts):
    """Prototype c = whitened (mean of c - average face) x n_c / (n_c + 1): a single-image
    condition sits half-way to the average face."""
    from rdface_hf.filter.scores import _Whitened

    rng = np.random.default_rng(3)
    labels = np.repeat(np.arange(len(counts)), counts)
    x = rng.normal(size=(len(labels), 6)) + 3.0 * np.eye(len(counts), 6)[labels]
    fitted = _Whitened.fit(x, labels, len(counts))
    for c, n in enumerate(counts):
        mean = x[labels == c].mean(axis=0, keepdims=True)
        unshrunk = fitted.project(mean)[0][0]
        assert np.linalg.norm(unshrunk) > 0.1
        np.testing.assert_allclose(fitted.prototypes[c], unshrunk * n / (n + 1), rtol=1e-9, atol=1e-12)
