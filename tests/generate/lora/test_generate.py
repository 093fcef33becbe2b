"""``rdface generate --generator lora``: a synthetic set with provenance, resumable, screened."""

from __future__ import annotations

import json

import datasets
import numpy as np
import pytest

from rdface_hf._sheets import CELL, LABEL_WIDTH
from rdface_hf.cli import main
from rdface_hf.generate.lora import generate as lora_generate
from rdface_hf.generate.lora.sampling import screen


def _args(adapters, out, *extra):
    return [
        "generate", "--generator", "lora", "--adapters", str(adapters), "--output-dir", str(out),
        "--conditions", "AAS,BBS", "--per-condition", "2", "--steps", "2", "--batch-size", "3", "--seed", "5", *extra,
    ]  # fmt: skip


def _rows(folder):
    return datasets.load_dataset(str(folder), split="train")


@pytest.fixture(scope="module")
def generated(trained, tmp_path_factory):
    out = tmp_path_factory.mktemp("generated") / "synthetic"
    assert main(_args(trained, out)) == 0
    return out


def test_a_synthetic_set_with_provenance(generated, trained, assert_picture):
    rows = _rows(generated)
    index = json.loads((trained / "adapters.json").read_text())
    assert len(rows) == 4
    assert rows.features["condition"].names == index["class_names"]
    for row in rows:
        abbr = index["abbreviations"][row["condition"]]
        record = index["adapters"][abbr]
        params = json.loads(row["params"])
        assert row["generator"] == "lora" and row["source"] == f"{trained.resolve().name}/{abbr}@local"
        assert str(trained.resolve().parents[1]) not in row["source"] + row["params"], "no local path in a column"
        assert row["prompt"] == f"photo of a {abbr} child" and row["trained_on"] == "fold_0"
        assert row["parent_ids"] == record["image_ids"]
        assert params["steps"] == 2 and params["guidance"] == 7.5 and params["adapter"] == abbr
        assert params["adapter_sha256"] == record["sha256"] and params["base_model_revision"].startswith("sha256:")
        assert row["image"].size == (64, 64)
    assert len({r["seed"] for r in rows}) == 4 and len({r["image_id"] for r in rows}) == 4
    assert sorted({r["condition"] for r in rows}) == [0, 1]
    sheet = assert_picture(generated / "sample_sheet.png")
    assert sheet.shape[:2] == (2 * CELL, LABEL_WIDTH + 2 * CELL)  # a row per condition, its 2 images
    config = json.loads((generated / "generation_config.json").read_text())
    assert config["generator"] == "lora" and config["provenance"]["adapters"]["revision"] == "local"
    assert "publish it only as a private, gated repository" in (generated / "README.md").read_text()


def test_resume_makes_only_the_missing_images(generated, trained, tmp_path, monkeypatch, capsys):
    assert main([*_args(trained, generated)]) == 0
    assert "generated 0 images" in capsys.readouterr().out
    out = tmp_path / "interrupted"
    monkeypatch.setattr(lora_generate, "SHARD_ROWS", 2)
    real, calls = lora_generate.Sampler.run, []

    def stop_at_the_second_batch(self, batch, **kw):
        calls.append(len(batch))
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(self, batch, **kw)

    monkeypatch.setattr(lora_generate.Sampler, "run", stop_at_the_second_batch)
    assert main(_args(trained, out)) == 130
    assert len(list((out / "data").glob("*.parquet"))) == 1  # AAS's two images were written
    assert len(_rows(out)) == 2
    monkeypatch.setattr(lora_generate.Sampler, "run", real)
    assert main(_args(trained, out)) == 0
    assert "generated 2 images" in capsys.readouterr().out
    assert sorted(_rows(out)["image_id"]) == sorted(_rows(generated)["image_id"]), "no stale cached rows"


def test_mixed_batches_match_hot_swapping(generated, trained, tmp_path):
    out = tmp_path / "mixed"
    assert main([*_args(trained, out), "--lora-batching", "mixed"]) == 0
    mine = {(r["condition"], r["seed"]): np.asarray(r["image"], dtype=np.int16) for r in _rows(out)}
    theirs = {(r["condition"], r["seed"]): np.asarray(r["image"], dtype=np.int16) for r in _rows(generated)}
    assert mine.keys() == theirs.keys()
    assert max(int(np.abs(mine[k] - theirs[k]).max()) for k in mine) <= 1


def test_nsfw_flagged_outputs_are_dropped_and_counted(trained, tmp_path, capsys):
    from tests.generate.lora.tiny_pipelines import tiny_safety_checker

    checker, extractor = tiny_safety_checker()
    checker.concept_embeds_weights.data.fill_(-10.0)  # every image is flagged
    checker.save_pretrained(tmp_path / "checker")
    extractor.save_pretrained(tmp_path / "checker")
    out = tmp_path / "flagged"
    assert main([*_args(trained, out, "--safety-checker", str(tmp_path / "checker")), "--conditions", "AAS"]) == 0
    said = capsys.readouterr().out
    assert "generated 0 images" in said and "4 nsfw" in said, said  # 2 wanted, 2 replacements tried
    dropped = json.loads((out / "dropped.json").read_text())["dropped"]
    assert len(dropped) == 4 and {d[2] for d in dropped} == {"nsfw"}
    assert main([*_args(trained, out, "--safety-checker", str(tmp_path / "checker")), "--conditions", "AAS"]) == 0
    assert "generated 0 images" in capsys.readouterr().out, "dropped seeds are not tried again"


def test_screen_black_blank_and_flagged():
    rng = np.random.default_rng(0)
    fine = rng.uniform(0, 1, (8, 8, 3))
    images = np.stack([fine, np.zeros((8, 8, 3)), np.full((8, 8, 3), 0.6), fine, np.full((8, 8, 3), np.nan)])
    assert screen(images, [False, False, False, True, False]) == [None, "black", "blank", "nsfw", "black"]
    assert screen(images[:1], None) == [None]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--conditions", "NOPE"], "has no adapter for ['NOPE']"),
        (["--lora-batching", "bogus"], "--lora-batching must be 'hotswap' or 'mixed'"),
        (["--steps", "0"], "--steps must be at least 1"),
    ],
)
def test_bad_input_is_one_line(trained, tmp_path, capsys, extra, message):
    assert main([*_args(trained, tmp_path / "out"), *extra]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err


def test_adapters_that_are_neither_folder_nor_repo(tmp_path, capsys):
    assert main(_args(tmp_path / "nowhere", tmp_path / "out")) == 2
    assert "no such folder, and not a Hub repo id" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(_args(tmp_path / "empty", tmp_path / "out")) == 2
    assert "not an adapter folder" in capsys.readouterr().err


def test_a_hostile_index_cannot_point_outside_the_adapter_folder(trained, tmp_path, capsys):
    hostile = tmp_path / "hostile"
    hostile.mkdir()
    index = json.loads((trained / "adapters.json").read_text())
    index["adapters"] = {"../../etc": index["adapters"]["AAS"]}
    (hostile / "adapters.json").write_text(json.dumps(index))
    assert main([*_args(hostile, tmp_path / "out"), "--conditions", "all"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot name an adapter folder" in err[0]


@pytest.mark.parametrize("base", ["empty-folder", "not/a-real-repo", "/no/such/model"])
def test_a_bad_base_model_leaves_no_output_behind(trained, base, tmp_path, capsys):
    if base == "empty-folder":
        base = str(tmp_path / base)
        (tmp_path / "empty-folder").mkdir()
    assert main([*_args(trained, tmp_path / "out"), "--base-model", base]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and ("base model" in err[0] or "base pipeline" in err[0]), err
    assert not (tmp_path / "out").exists() and not list(tmp_path.glob(".out.*"))
