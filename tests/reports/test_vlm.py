"""VLM reports through the real processor, chat template and ``generate`` path (a tiny model)."""

from __future__ import annotations

import json
import re

import datasets
import pytest

from rdface_hf._errors import InputError
from rdface_hf.cli import main
from rdface_hf.metrics.report_similarity.sections import REGIONS
from rdface_hf.reports.config import ReportConfig
from rdface_hf.reports.prompt import check_prompt, messages, prompt_text
from rdface_hf.reports.run import make_reports


def test_tiny_vlm_writes_reports_end_to_end(tmp_path, tiny_vlm, landmark_build):
    build = landmark_build()
    out = tmp_path / "rep"
    result = make_reports(ReportConfig(output_dir=str(out), dataset=str(build), split="test", model=str(tiny_vlm),
                                       batch_size=3, max_new_tokens=6, progress=False))  # fmt: skip
    assert result.reports == result.new_reports == 8
    ds = datasets.load_dataset(str(out), split="train")
    assert len(ds) == 8 and set(ds["model"]) == {str(tiny_vlm)}
    for row in ds:
        assert row["raw_text"].strip()  # random weights still write a few tokens
        assert set(row["regions"]) == set(REGIONS)
        assert row["prompt"] == prompt_text()
        assert json.loads(row["generation"]) == {"max_new_tokens": 6, "do_sample": False, "seed": 0}
    # random text has no section: every report is kept raw and counted
    assert result.unparsed == 8 and all(u == t for u, t in zip(ds["unparsed"], ds["raw_text"]))
    assert json.loads((out / "summary.json").read_text())["unparsed"] == 8
    # greedy and seeded: a second run writes the same texts
    again = make_reports(ReportConfig(output_dir=str(tmp_path / "rep2"), dataset=str(build), split="test",
                                      model=str(tiny_vlm), batch_size=8, max_new_tokens=6, progress=False))  # fmt: skip
    assert again.reports == 8
    texts = datasets.load_dataset(str(tmp_path / "rep2"), split="train")["raw_text"]
    assert sorted(texts) == sorted(ds["raw_text"])


def test_prompt_never_names_a_label(landmark_build):
    from rdface_hf.dataset.facade import RDFaceDataset

    rd = RDFaceDataset(landmark_build())
    check_prompt([*rd.class_names, *rd.abbreviations])
    text = json.dumps(messages())
    for label in [*rd.class_names, *rd.abbreviations, "syndrome 0", "HYP"]:
        assert re.search(rf"\b{re.escape(label)}\b", text, re.IGNORECASE) is None
    with pytest.raises(InputError, match="names label"):
        check_prompt(["Dysmorphology"])  # a label the prompt does contain is refused


def test_bad_model_id_is_one_line(tmp_path, landmark_build, capsys):
    build = landmark_build()
    capsys.readouterr()
    code = main(["report", "--dataset", str(build), "--model", "no-such-org/no-such-model",
                 "--output-dir", str(tmp_path / "rep"), "--no-progress"])  # fmt: skip
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "cannot load model 'no-such-org/no-such-model'" in err and "Traceback" not in err
    assert not (tmp_path / "rep").exists()  # nothing written


def test_cli_flags_and_errors(tmp_path, capsys):
    assert main(["report", "--output-dir", str(tmp_path / "o")]) == 2
    assert "--dataset or --synthetic S is required" in capsys.readouterr().err
    assert main(["report", "--dataset", "d", "--output-dir", str(tmp_path / "o"), "--batch-size", "0"]) == 2
    assert "--batch-size must be at least 1" in capsys.readouterr().err
    assert main(["report", "--dataset", "d", "--split", "validation", "--output-dir", str(tmp_path / "o")]) == 2
    assert "--fold K" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["report", "--help"])
    help_text = capsys.readouterr().out
    for flag in ("--dataset", "--synthetic", "--split", "--model", "--batch-size", "--max-new-tokens", "--output-dir"):
        assert flag in help_text
