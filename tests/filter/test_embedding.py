"""The ``embedding`` score with a tiny seeded ViT (a local folder and the offline Hub cache layout)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from datasets import load_dataset

from rdface_hf._errors import InputError
from rdface_hf.dataset.synthetic import SyntheticImage, SyntheticSetWriter, synthetic_card
from rdface_hf.filter.config import FilterConfig
from rdface_hf.filter.embedding import EmbeddingScorer, load_backbone
from rdface_hf.filter.run import filter_synthetic


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """Two xdist workers on two shared cores: more threads only spin."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def copies_of_training_images(root: Path, toy, landmarker) -> Path:
    """Each condition's first training picture, labelled with every condition."""
    rng = np.random.default_rng(3)
    writer = SyntheticSetWriter(root, toy.CLASSES)
    for c in range(3):
        pixels = toy.picture(c, 100 * c)  # the training split's picture (label c, index 0)
        landmarker.register(pixels, toy.face(c, rng))
        for label in range(3):
            writer.add(SyntheticImage(image=pixels, condition=label, generator="morph", source="t", seed=10 * c + label,
                                      trained_on="fold_0"))  # fmt: skip
    writer.finish(synthetic_card(title="t", description="t", generator="morph", source_dataset="toy"))
    return root


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_embedding_score_and_leak_freedom(filter_inputs, tmp_path, tiny_vit, toy, write_built_dataset):
    dataset, _, landmarker = filter_inputs
    synthetic = copies_of_training_images(tmp_path / "copies", toy, landmarker)

    def run(out):
        config = FilterConfig(
            dataset=str(dataset), synthetic=str(synthetic), output_dir=str(out), score="embedding",
            embedding_model=str(tiny_vit), mode="threshold", threshold=-1.0, progress=False,
        )  # fmt: skip
        return filter_synthetic(config, landmarker=landmarker)

    assert run(tmp_path / "a").kept == 9
    ds = load_dataset(str(tmp_path / "a"), split="train")
    scores = np.array(ds["score"]).reshape(3, 3)  # rows: picture of condition c; columns: label
    assert np.all(np.abs(scores) <= 1.0 + 1e-6)
    assert (np.diag(scores) > scores.max(axis=1, where=~np.eye(3, dtype=bool), initial=-2)).all()
    toy.write_dataset(dataset, write_built_dataset, test_variant=1)  # only the test split changes
    run(tmp_path / "b")
    assert tree(tmp_path / "a") == tree(tmp_path / "b")


def test_backbone_from_the_offline_hub_cache(tmp_path, tiny_vit, monkeypatch):
    cache = tmp_path / "hub"
    snapshot = cache / "models--org--tiny-vit" / "snapshots" / ("a" * 40)
    shutil.copytree(tiny_vit, snapshot)
    (cache / "models--org--tiny-vit" / "refs").mkdir()
    (cache / "models--org--tiny-vit" / "refs" / "main").write_text("a" * 40)
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(cache))
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", True)
    backbone = load_backbone("org/tiny-vit")
    assert backbone.how == "first_token"  # the checkpoint has no trained pooler: its CLS token
    emb = backbone.embed([np.zeros((40, 40, 3), np.uint8)], batch_size=1)
    assert emb.shape == (1, 32)
    with pytest.raises(InputError, match="cannot load vision backbone 'org/missing'"):
        load_backbone("org/missing")


def test_embeddings_are_unit_vectors_and_centroids_cosines(tiny_vit, toy):
    from PIL import Image

    backbone = load_backbone(str(tiny_vit))
    images = [Image.fromarray(toy.picture(c, i)) for c in range(3) for i in range(2)]
    emb = backbone.embed(images, batch_size=4)
    assert emb.shape == (6, 32) and np.allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)
    scorer = EmbeddingScorer.fit(emb, np.repeat([0, 1, 2], 2), num_classes=4)
    assert np.isnan(scorer.centroids[3]).all()  # a condition without training images
    s = scorer.score(emb, np.repeat([0, 1, 2], 2))["score"]
    assert np.all(s > 0.5) and np.isnan(scorer.score(emb[:1], np.array([3]))["score"][0])
