"""rdface probe --model face-identity: frozen dlib embeddings under the probe's folds, leak-free."""

from __future__ import annotations

import json

from rdface_hf.cli import main


def _probe(build, out):
    args = ["probe", "--dataset", str(build), "--output-dir", str(out), "--model", "face-identity", "--fold", "0"]
    return main([*args, "--no-progress"])


def test_face_identity_probe_writes_the_summary(sim_build, tmp_path):
    assert _probe(sim_build, tmp_path / "p") == 0
    summary = json.loads((tmp_path / "p" / "summary.json").read_text())
    assert [r["name"] for r in summary["rows"]] == ["face-identity + centroid (cosine)",
                                                    "face-identity + logistic regression"]  # fmt: skip
    results = json.loads((tmp_path / "p" / "fold_0" / "results.json").read_text())
    assert results["without_features"] == {"train": 0, "validation": 0, "test": 0}
    assert results["model"] == "face-identity"


def test_a_poisoned_test_split_changes_no_selection(sim_build, poisoned_build, tmp_path):
    runs = []
    for k, build in enumerate((sim_build, poisoned_build)):
        assert _probe(build, tmp_path / f"p{k}") == 0
        runs.append(json.loads((tmp_path / f"p{k}" / "fold_0" / "results.json").read_text()))
    for method in ("centroid", "logistic"):
        assert runs[0]["methods"][method]["validation"] == runs[1]["methods"][method]["validation"]
    assert runs[0]["methods"]["logistic"]["C_trials"] == runs[1]["methods"]["logistic"]["C_trials"]
    assert runs[0]["methods"]["logistic"]["test"] != runs[1]["methods"]["logistic"]["test"], "the poison reached test"
