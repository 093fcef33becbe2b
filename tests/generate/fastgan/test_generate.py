"""``rdface generate --generator fastgan``: synthetic sets with provenance, from a folder or the Hub cache."""

from __future__ import annotations

import json

import numpy as np
import pytest
from datasets import load_dataset

from rdface_hf._errors import InputError
from rdface_hf._sheets import CELL, LABEL_WIDTH
from rdface_hf.cli import main
from rdface_hf.dataset import RDFaceDataset
from rdface_hf.dataset.landmarks import FaceLandmarks
from rdface_hf.dataset.synthetic import COLUMNS, SyntheticSet
from rdface_hf.generate.config import GenerateConfig
from rdface_hf.generate.fastgan.generate import generate_fastgan
from rdface_hf.generate.fastgan.models import FastGANGenerator
from rdface_hf.generate.fastgan.prototypes import nearest_prototype


def _config(model, out, **kw) -> GenerateConfig:
    return GenerateConfig(generator="fastgan", model=str(model), output_dir=str(out), **kw)


def _load(folder):
    """``load_dataset(G)``, with a cache of its own: ``datasets`` keys a folder's cache on its name and
    its YAML data-file patterns, not on the files (see the report), so a fresh cache avoids stale rows."""
    return load_dataset(str(folder), split="train", cache_dir=str(folder.parent / f".hf-cache-{folder.name}"))


def test_conditional_set_with_provenance(conditional_gan, sim_build, tmp_path, assert_picture):
    rd = RDFaceDataset(sim_build)
    wanted = rd.abbreviations[:2]
    result = generate_fastgan(_config(conditional_gan, tmp_path / "g", conditions=",".join(wanted),
                                      per_condition=3, seed=10, batch_size=2), progress=False)  # fmt: skip
    assert (result.images, result.new_images, result.dropped) == (6, 6, {})
    ds = _load(tmp_path / "g")
    assert list(ds.features)[: len(COLUMNS)] == list(COLUMNS)
    assert ds.features["condition"].names == rd.class_names
    assert set(ds["generator"]) == {"fastgan"} and set(ds["trained_on"]) == {"fold_0"}
    assert sorted(zip(ds["condition"], ds["seed"])) == [(c, s) for c in (0, 1) for s in (10, 11, 12)]
    assert set(ds["source"]) == {"conditional"}
    sheet = assert_picture(tmp_path / "g" / "sample_sheet.png")
    assert sheet.shape[:2] == (2 * CELL, LABEL_WIDTH + 3 * CELL)  # a row per condition, its 3 images
    train = rd.training_split(0)
    for row in ds:
        assert sorted(row["parent_ids"]) == sorted(i for i, y in zip(train["image_id"], train["condition"])
                                                   if y == row["condition"])  # fmt: skip
        assert json.loads(row["params"])["mode"] == "conditional"
    g = FastGANGenerator.from_pretrained(conditional_gan)
    first = next(r for r in ds if r["condition"] == 1 and r["seed"] == 11)
    remade = g.sample([11], [1])[0].astype(int)  # the seed remakes the image (up to float rounding across batches)
    assert np.abs(np.asarray(first["image"]).astype(int) - remade).max() <= 1
    assert "Privacy" in (tmp_path / "g" / "README.md").read_text()
    assert len(SyntheticSet(tmp_path / "g")) == 6
    again = generate_fastgan(_config(conditional_gan, tmp_path / "g", conditions=",".join(wanted),
                                     per_condition=3, seed=10, batch_size=2), progress=False)  # fmt: skip
    assert (again.images, again.new_images) == (6, 0)  # resumed: nothing left to make


class OneFace:
    """A stand-in landmarker: every image 'has' the face of one training image."""

    def __init__(self, points, size):
        self.points, self.size, self.calls = points, size, 0

    def detect(self, image):
        self.calls += 1
        if self.calls % 3 == 0:
            return None  # every third sample has no face
        box = np.array([0.2, 0.2, 0.8, 0.8], dtype=np.float32)
        return FaceLandmarks(points=self.points, box=box, width=self.size, height=self.size)


def test_pooled_samples_are_labelled_by_the_nearest_prototype(pooled_gan, sim_build, tmp_path):
    rd = RDFaceDataset(sim_build)
    train = rd.training_split(0)
    landmarks, labels = rd.landmarks(train), rd.labels(train)
    k = next(i for i in range(len(labels)) if not np.isnan(landmarks[i]).any())
    g = FastGANGenerator.from_pretrained(pooled_gan)
    target, _ = nearest_prototype(landmarks[k][:, :2] * 64, g.template.double().numpy(),
                                  g.prototypes.double().numpy(), g.trained_conditions)  # fmt: skip
    landmarker = OneFace(landmarks[k], 64)
    others = next(a for c, a in enumerate(rd.abbreviations) if c != target)
    conditions = f"{rd.abbreviations[target]},{others}"
    config = _config(pooled_gan, tmp_path / "p", conditions=conditions, per_condition=2, pooled_budget=3, batch_size=4)
    result = generate_fastgan(config, progress=False, landmarker=landmarker)
    ds = _load(tmp_path / "p")
    assert set(ds["condition"]) == {target} and len(ds) == 2 == result.new_images
    assert result.dropped["no face"] >= 1 and result.dropped["condition full"] >= 1
    assert result.dropped["budget spent"] == 2  # the other condition never came up
    assert landmarker.calls == 2 * 2 * 3  # per_condition x conditions x budget samples drawn
    params = json.loads(ds[0]["params"])
    assert params["mode"] == "pooled" and params["label"] == "nearest landmark prototype"
    assert len(set(ds["seed"])) == 2


def test_from_a_hub_repo_id_offline(conditional_gan, hub_cache, tmp_path):
    revision = hub_cache(conditional_gan, "org/rdface-fastgan")
    code = main(["generate", "--generator", "fastgan", "--model", "org/rdface-fastgan", "--per-condition", "1",
                 "--conditions", "all", "--output-dir", str(tmp_path / "h")])  # fmt: skip
    assert code == 0
    ds = _load(tmp_path / "h")
    assert set(ds["source"]) == {f"org/rdface-fastgan@{revision}"}
    assert len(ds) == len(FastGANGenerator.from_pretrained(conditional_gan).trained_conditions)


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--model", "missing_folder_or_id"], "not a Hub repo id"),
        (["--model", "{gan}", "--conditions", "NOPE"], "unknown condition"),
        (["--model", "{gan}", "--mix-min", "0.1"], "--mix-min belongs to --generator morph"),
        (["--model", "{gan}", "--pooled-budget", "0"], "--pooled-budget must be at least 1"),
    ],
)
def test_bad_input_is_one_line(conditional_gan, tmp_path, flags, message, capsys):
    flags = [f.replace("{gan}", str(conditional_gan)) for f in flags]
    code = main(["generate", "--generator", "fastgan", *flags, "--output-dir", str(tmp_path / "o")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and message in err[0], err
    assert not (tmp_path / "o").exists()


def test_untrained_condition(conditional_gan, sim_build, tmp_path):
    g = FastGANGenerator.from_pretrained(conditional_gan)
    g.trained_conditions = g.trained_conditions[:1]
    g._hub_mixin_config["trained_conditions"] = g.trained_conditions
    g.save_pretrained(tmp_path / "one")
    absent = g.abbreviations[1]
    with pytest.raises(InputError, match=f"not trained on {absent}"):
        generate_fastgan(_config(tmp_path / "one", tmp_path / "o", conditions=absent), progress=False)
    result = generate_fastgan(_config(tmp_path / "one", tmp_path / "o2", per_condition=1), progress=False)
    assert result.images == 1  # 'all' means every trained condition
