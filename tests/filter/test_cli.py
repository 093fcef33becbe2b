"""``rdface filter`` and ``rdface merge`` on the command line: bad input is one line and exit 2."""

from __future__ import annotations

import json

import numpy as np
import pytest
from datasets import load_dataset

from rdface_hf.cli import main


def one_line_error(capsys, argv) -> str:
    capsys.readouterr()  # what came before (fixtures' progress bars)
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err


def test_help_lists_the_interface(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["filter", "--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    for flag in ("--dataset", "--fold", "--synthetic", "--score", "--mode", "--threshold", "--top-n", "--output-dir"):
        assert flag in text
    for choice in ("landmarks", "paper5pt", "embedding", "threshold", "top-n-per-condition", "global-top-n"):
        assert choice in text


def test_bad_input_is_one_line(capsys, filter_inputs, tmp_path, toy):
    from rdface_hf.dataset.synthetic import SyntheticSetWriter, synthetic_features

    dataset, synthetic, _ = filter_inputs
    base = ["filter", "--dataset", str(dataset), "--output-dir", str(tmp_path / "out")]
    # an empty synthetic set: no shard, and a shard with no rows
    empty = tmp_path / "empty"
    SyntheticSetWriter(empty, toy.CLASSES).finish("---\n---\n")
    assert "no synthetic images" in one_line_error(capsys, [*base, "--synthetic", str(empty)])
    zero = tmp_path / "zero"
    (zero / "data").mkdir(parents=True)
    import datasets

    datasets.Dataset.from_dict({k: [] for k in synthetic_features(toy.CLASSES)},
                               features=synthetic_features(toy.CLASSES)).to_parquet(
        str(zero / "data" / "train-00000-00000000.parquet"))  # fmt: skip
    assert "empty synthetic set" in one_line_error(capsys, [*base, "--synthetic", str(zero)])
    # condition names that are not the dataset's
    other = tmp_path / "other"
    writer = SyntheticSetWriter(other, ["Alpha syndrome", "Omega syndrome", "Gamma syndrome"])
    writer.add({"image": {"bytes": toy.png(toy.picture(0, 1)), "path": "a.png"}, "image_id": "x", "condition": 0,
                "generator": "morph", "source": "s", "prompt": "", "seed": 0, "params": "{}", "parent_ids": [],
                "trained_on": "fold_0"})  # fmt: skip
    writer.finish("---\n---\n")
    assert "Omega syndrome" in one_line_error(capsys, [*base, "--synthetic", str(other)])
    # a row without a valid condition
    unlabelled = tmp_path / "unlabelled"
    writer = SyntheticSetWriter(unlabelled, toy.CLASSES)
    writer.add({"image": {"bytes": toy.png(toy.picture(0, 1)), "path": "a.png"}, "image_id": "x", "condition": -1,
                "generator": "morph", "source": "s", "prompt": "", "seed": 0, "params": "{}", "parent_ids": [],
                "trained_on": "fold_0"})  # fmt: skip
    writer.finish("---\n---\n")
    assert "no valid condition" in one_line_error(capsys, [*base, "--synthetic", str(unlabelled)])
    # a fold that does not exist; a fold that is not a fold
    assert "no fold 7" in one_line_error(capsys, [*base, "--synthetic", str(synthetic), "--fold", "7"])
    assert "--fold" in one_line_error(capsys, [*base, "--synthetic", str(synthetic), "--fold", "validation"])
    # flags that do not go together
    assert "--threshold is required" in one_line_error(
        capsys, [*base, "--synthetic", str(synthetic), "--mode", "threshold"]
    )
    assert "--top-n is required" in one_line_error(
        capsys, [*base, "--synthetic", str(synthetic), "--mode", "global-top-n"]
    )
    assert "--top-n must be at least 1" in one_line_error(
        capsys, [*base, "--synthetic", str(synthetic), "--top-n", "0"]
    )
    # no such dataset / set; a vision backbone that cannot be loaded
    assert "no such folder" in one_line_error(capsys, ["filter", "--dataset", str(tmp_path / "nope"), "--synthetic",
                                                str(synthetic), "--output-dir", str(tmp_path / "o")])  # fmt: skip
    assert "no such synthetic set" in one_line_error(capsys, [*base, "--synthetic", str(tmp_path / "nope")])
    assert not (tmp_path / "out").exists()
    err = one_line_error(capsys, ["merge", "--dataset", str(dataset), "--synthetic", str(synthetic), "--fold", "3",
                                  "--output-dir", str(tmp_path / "m")])  # fmt: skip
    assert "no fold 3" in err


def test_cli_with_mediapipe_rejects_faceless_images_and_caches_them(capsys, filter_inputs, tmp_path):
    """The real landmarker finds no face in the toy pictures: all rejected, counted, cached."""
    dataset, synthetic, _ = filter_inputs
    cache = tmp_path / "cache"
    argv = [
        "filter",
        "--dataset",
        str(dataset),
        "--synthetic",
        str(synthetic),
        "--landmark-cache",
        str(cache),
        "--workers",
        "1",
        "--no-progress",
        "--no-reject-near-copies",
    ]  # fmt: skip (toy pictures: no faces)
    capsys.readouterr()
    assert main([*argv, "--output-dir", str(tmp_path / "a")]) == 0
    out = capsys.readouterr().out
    assert "kept 0, rejected 20 (20 without a face)" in out and "0 landmark cache hits" in out
    entries = sorted(p.stem for p in cache.rglob("*.npy"))
    ds = load_dataset(str(tmp_path / "a"), split="train")
    assert entries == sorted(ds["image_id"])  # keyed by the content hash (the set's image_id)
    assert ds["kept"] == [False] * 20 and ds["landmarks"] == [None] * 20
    summary = json.loads((tmp_path / "a" / "filter_summary.json").read_text())
    assert summary["no_face"] == 20 and summary["rejected"] == 20
    # second run: every landmark from the cache, same bytes out; --config reruns the saved settings
    assert main(["filter", "--config", str(tmp_path / "a" / "filter_config.json"), "--landmark-cache", str(cache),
                 "--output-dir", str(tmp_path / "b"), "--no-progress"]) == 0  # fmt: skip
    assert "20 landmark cache hits" in capsys.readouterr().out
    for name in ("filter_config.json", "filter_summary.json", "README.md", "score_histogram.png"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    # a corrupt cache entry is detected again, not trusted
    victim = next(cache.rglob("*.npy"))
    victim.write_bytes(b"garbage")
    assert main([*argv, "--output-dir", str(tmp_path / "c")]) == 0
    assert "19 landmark cache hits" in capsys.readouterr().out
    assert np.load(victim).shape == (479, 3)
