"""The whole path on the simulator with MediaPipe: fresh patients scored against a real build."""

from __future__ import annotations

import json

import numpy as np
from datasets import load_dataset

from rdface_hf.dataset import RDFaceDataset
from rdface_hf.dataset.synthetic import SyntheticImage, SyntheticSetWriter, synthetic_card
from rdface_hf.filter.config import FilterConfig, MergeConfig
from rdface_hf.filter.merge import merge
from rdface_hf.filter.run import filter_synthetic


def test_simulated_patients_rank_their_condition_first(sim_release, sim_build, tmp_path):
    from rdface_hf.sim.draw import draw_patients

    rd = RDFaceDataset(sim_build)
    index = {abbr: i for i, abbr in enumerate(rd.abbreviations)}
    patients = draw_patients(sim_release, per_condition=3, seed=123, workers=1)
    controls = draw_patients(sim_release, per_condition=1, seed=321, affected=False, workers=1)
    writer = SyntheticSetWriter(tmp_path / "sim", rd.class_names)
    rows = []  # (truth, label)
    for k, p in enumerate(patients):
        true = index[p.disease_abbr]
        for label, truth in ((true, "right"), ((true + 1 + k % 3) % rd.num_classes, "wrong")):
            writer.add(SyntheticImage(image=p.pixels, condition=label, generator="simulate", source="sim", seed=k,
                                      trained_on="none"))  # fmt: skip
            rows.append(truth)
    for k, p in enumerate(controls):
        writer.add(SyntheticImage(image=p.pixels, condition=k % rd.num_classes, generator="simulate", source="sim",
                                  seed=1000 + k, trained_on="none"))  # fmt: skip
        rows.append("unaffected")
    writer.finish(synthetic_card(title="t", description="t", generator="simulate", source_dataset="sim",
                                 gated=False))  # fmt: skip
    config = FilterConfig(dataset=str(sim_build), synthetic=str(tmp_path / "sim"), output_dir=str(tmp_path / "out"),
                          fold="test", mode="global-top-n", top_n=len(patients), workers=1, progress=False,
                          landmark_cache=str(tmp_path / "cache"))  # fmt: skip
    result = filter_synthetic(config)
    assert result.no_face == 0 and result.images == len(rows)
    assert result.cached_landmarks == 0
    ds = load_dataset(str(tmp_path / "out"), split="train")
    scores = np.array(ds["score"], dtype=float)
    truth = np.array(rows)
    right, other = scores[truth == "right"], scores[truth != "right"]
    pairs = (right[:, None] > other[None, :]).mean()  # AUROC
    assert pairs > 0.65, pairs  # chance: 0.5 (0.72 on this seed; tiny data: about 3.5 training faces per condition)
    kept_truth = truth[np.array(ds["kept"])]
    assert (kept_truth == "right").mean() > 0.5  # chance: 0.4
    assert "Made without gated images" in (tmp_path / "out" / "README.md").read_text()
    merged = merge(MergeConfig(dataset=str(sim_build), synthetic=str(tmp_path / "out"), fold="test",
                               output_dir=str(tmp_path / "merged")))  # fmt: skip
    assert merged.synthetic == len(patients) and merged.real == len(rd.default()["train"])
    assert json.loads((tmp_path / "merged" / "merge_config.json").read_text())["fold"] == "test"
