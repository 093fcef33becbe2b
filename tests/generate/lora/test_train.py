"""``rdface train-lora``: several conditions in one process, resume, leak-free, stock loading."""

from __future__ import annotations

import json

import pytest
import torch
from PIL import Image
from safetensors import safe_open
from safetensors.torch import load_file

from rdface_hf._sheets import CELL, LABEL_WIDTH
from rdface_hf.cli import main
from rdface_hf.generate.lora import loop
from rdface_hf.generate.lora.config import SAMPLES_FILE, VALIDATION_FILE, WEIGHT_NAME

CONDITIONS = ("AAS", "BBS", "CCS")  # the conditions of the lora_build fixture


def _weights(folder, abbr):
    return load_file(str(folder / abbr / WEIGHT_NAME))


def _relative_difference(a: dict, b: dict) -> float:
    """||a - b|| / ||b|| over every tensor (float rounding differs with the batch size; Adam
    magnifies it a little, so adapters are compared as a whole, not element by element)."""
    assert a.keys() == b.keys()
    diff = sum(float((a[k] - b[k]).pow(2).sum()) for k in b) ** 0.5
    return diff / sum(float(b[k].pow(2).sum()) for k in b) ** 0.5


def test_three_conditions_in_one_process(trained, lora_build):
    index = json.loads((trained / "adapters.json").read_text())
    assert sorted(index["adapters"]) == ["AAS", "BBS", "CCS"]
    assert index["class_names"] == ["Condition AAS", "Condition BBS", "Condition CCS"]
    for abbr, record in index["adapters"].items():
        # fold 0's training split: the always-train images only (not fold 0's validation, never test)
        assert record["image_ids"] == [f"rdf-{abbr}-train-always-{i}" for i in range(3)]
        assert record["steps"] == 4 and record["seed"] == 3 and record["trained_on"] == "fold_0"
        assert record["base_model_revision"].startswith("sha256:") and record["prompt"] == f"photo of a {abbr} child"
        assert record["images_without_face_box"] == 1
        with safe_open(str(trained / abbr / WEIGHT_NAME), "pt") as fh:
            keys = list(fh.keys())
            assert json.loads(fh.metadata()["lora_adapter_metadata"])["unet.r"] == 4
        assert keys and all(k.startswith("unet.") and ".lora_" in k for k in keys)
    assert not (trained / ".checkpoints").exists()
    card = (trained / "README.md").read_text()
    assert "extra_gated_fields" in card and "can reproduce those faces" in card and "base_model" not in card[:40]
    assert json.loads((trained / "train_lora_config.json").read_text())["provenance"]["dataset_digest"]


def test_adapters_load_into_a_fresh_stock_pipeline(trained, tiny_sd):
    from diffusers import StableDiffusionPipeline

    def image(abbr=None):
        pipe = StableDiffusionPipeline.from_pretrained(tiny_sd)
        pipe.set_progress_bar_config(disable=True)
        if abbr:
            pipe.load_lora_weights(str(trained), subfolder=abbr, weight_name=WEIGHT_NAME)
        gen = torch.Generator().manual_seed(0)
        return pipe("photo of a child", num_inference_steps=2, generator=gen, output_type="np").images[0]

    base, a, b = image(), image("AAS"), image("BBS")
    assert abs(base - a).max() > 1e-3 and abs(base - b).max() > 1e-3, "each adapter changes the output"
    assert abs(a - b).max() > 1e-3, "two conditions give different outputs"


def test_conditions_trained_together_equal_conditions_trained_alone(trained, train_args, tmp_path):
    out = tmp_path / "alone"
    assert main(train_args(output_dir=out, conditions="AAS,CCS", conditions_per_batch=1)) == 0
    for abbr in ("AAS", "CCS"):
        assert _relative_difference(_weights(out, abbr), _weights(trained, abbr)) < 1e-3
    assert _relative_difference(_weights(out, "AAS"), _weights(trained, "CCS")) > 0.1


def test_leak_free_test_images_never_reach_an_adapter(trained, train_args, make_lora_build, tmp_path):
    """Undecodable test images (a build that differs only there) give byte-identical adapters."""
    poisoned = make_lora_build(tmp_path / "poisoned", poison_test=True)
    out = tmp_path / "adapters"
    assert main([*train_args(output_dir=out), "--dataset", str(poisoned)]) == 0
    for abbr in ("AAS", "BBS", "CCS"):
        assert (out / abbr / WEIGHT_NAME).read_bytes() == (trained / abbr / WEIGHT_NAME).read_bytes()


def test_resume_skips_finished_conditions_and_continues_mid_condition(
    trained, train_args, tmp_path, monkeypatch, capsys
):
    out = tmp_path / "resumed"
    args = train_args(output_dir=out, conditions_per_batch=2)  # groups [AAS, BBS], [CCS]
    real, calls = loop.train_step, []

    def stop_in_the_second_group(trainer, batch):
        calls.append(len(batch["route"]))
        if len(calls) == 7:  # steps 0-3 of [AAS, BBS], steps 0-1 of [CCS], then interrupted
            raise KeyboardInterrupt
        return real(trainer, batch)

    monkeypatch.setattr(loop, "train_step", stop_in_the_second_group)
    assert main(args) == 130
    assert (out / "AAS" / WEIGHT_NAME).is_file() and not (out / "CCS").exists()
    assert list((out / ".checkpoints").glob("group-*.safetensors")), "a LoRA-only checkpoint after step 2"
    calls.clear()
    monkeypatch.setattr(loop, "train_step", lambda t, b: calls.append(len(b["route"])) or real(t, b))
    assert main(args) == 0
    assert calls == [1, 1], "only CCS's steps 2 and 3 run again"
    for abbr in CONDITIONS:
        assert _relative_difference(_weights(out, abbr), _weights(trained, abbr)) < 1e-3
    assert sorted(json.loads((out / "adapters.json").read_text())["adapters"]) == list(CONDITIONS)
    assert not (out / ".checkpoints").exists()
    calls.clear()
    capsys.readouterr()
    assert main(args) == 0 and calls == [], "a finished run trains nothing"
    printed = capsys.readouterr().out
    assert printed.startswith("already done: 3 adapters") and "trained" not in printed, printed


def test_text_encoder_lora_prior_preservation_and_bf16(train_args, tiny_sd, tmp_path):
    from diffusers import StableDiffusionPipeline

    out = tmp_path / "te"
    extra = [
        "--train-text-encoder",
        "--with-prior-preservation",
        "--num-class-images",
        "2",
        "--mixed-precision",
        "bf16",
    ]
    assert main([*train_args(output_dir=out, conditions="BBS", max_train_steps=2), *extra]) == 0
    keys = _weights(out, "BBS").keys()
    assert any(k.startswith("text_encoder.") for k in keys) and any(k.startswith("unet.") for k in keys)
    assert len(list((out / "class_images").glob("class-*.png"))) == 2
    pipe = StableDiffusionPipeline.from_pretrained(tiny_sd)
    ids = pipe.tokenizer(["photo of a BBS child"], padding="max_length", return_tensors="pt").input_ids
    with torch.no_grad():
        before = pipe.text_encoder(ids)[0]
        pipe.load_lora_weights(str(out), subfolder="BBS", weight_name=WEIGHT_NAME)
        after = pipe.text_encoder(ids)[0]
    assert (before - after).abs().max() > 1e-4, "the text-encoder LoRA is loaded by load_lora_weights"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--conditions", "AAS,NOPE"], "unknown condition"),
        (["--base-model", "/no/such/model"], "base model '/no/such/model': no such folder"),
        (["--fold", "7"], "has no fold 7"),
        (["--fold", "x"], "--fold must be a fold number 0..19 or 'test'"),
        (["--rank", "0"], "--rank must be between 1 and 1024"),
        (["--push-to-hub", "not a repo"], "--push-to-hub must look like ORG/NAME"),
        (["--instance-prompt", "photo"], "--instance-prompt must contain {abbr}"),
        (["--validation-images", "65"], "--validation-images must be between 0 and 64"),
        (["--validation-steps", "-1"], "--validation-steps must be non-negative"),
    ],
)
def test_bad_input_is_one_line(extra, message, train_args, tmp_path, capsys):
    assert main([*train_args(output_dir=tmp_path / "out"), *extra]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err


def test_other_settings_or_a_foreign_folder_are_refused(trained, train_args, tmp_path, capsys):
    assert main(train_args(output_dir=trained, rank=8)) == 2
    assert "--rank" in capsys.readouterr().err
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    assert main(train_args(output_dir=foreign)) == 2
    assert "not written by this command" in capsys.readouterr().err
    assert (foreign / "notes.txt").read_text() == "mine"


@pytest.mark.parametrize("base", ["empty-folder", "not/a-real-repo", "/no/such/model"])
@pytest.mark.parametrize("out_exists", [False, True])
def test_a_bad_base_model_leaves_no_output_behind(base, out_exists, train_args, tmp_path, capsys):
    """The run folder is opened before the base model loads: a failed load removes what it made
    (a folder the user made beforehand stays, empty)."""
    if base == "empty-folder":
        base = str(tmp_path / base)
        (tmp_path / "empty-folder").mkdir()
    out = tmp_path / "out"
    if out_exists:
        out.mkdir()
    assert main([*train_args(output_dir=out), "--base-model", base]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "base model" in err[0], err
    assert (out.is_dir() and not any(out.iterdir())) if out_exists else not out.exists()
    assert not list(tmp_path.glob(".out.*"))


def test_validation_pictures_and_the_card(trained, assert_picture):
    """Default: 4 images per condition at the end, a grid per condition and the overview."""
    for abbr in CONDITIONS:
        grid = assert_picture(trained / abbr / VALIDATION_FILE)
        assert grid.shape[:2] == (CELL, LABEL_WIDTH + 4 * CELL)  # one row ("final"), 4 images
    overview = assert_picture(trained / SAMPLES_FILE)
    assert overview.shape[:2] == (len(CONDITIONS) * CELL, LABEL_WIDTH + 4 * CELL)
    last = assert_picture(trained / CONDITIONS[-1] / VALIDATION_FILE)[:, LABEL_WIDTH:]
    assert (overview[-CELL:, LABEL_WIDTH:] == last).all()  # its row is the condition's final images
    assert "![One row per condition" in (trained / "README.md").read_text()


def test_validation_steps_draw_grids_and_leave_the_adapters_alone(trained, train_args, tmp_path):
    out = tmp_path / "v"
    assert main([*train_args(output_dir=out, validation_images=2, validation_steps=1)]) == 0
    with Image.open(out / "AAS" / VALIDATION_FILE) as im:
        assert im.size == (LABEL_WIDTH + 2 * CELL, 4 * CELL)  # steps 1, 2, 3 and final
    for abbr in CONDITIONS:  # drawing forks the random state: the same adapters as without
        a, b = _weights(out, abbr), _weights(trained, abbr)
        assert all(torch.equal(a[k], b[k]) for k in b)
    none = tmp_path / "none"
    assert main([*train_args(output_dir=none, validation_images=0)]) == 0
    assert not (none / SAMPLES_FILE).exists() and not (none / "AAS" / VALIDATION_FILE).exists()
    assert "![One row per condition" not in (none / "README.md").read_text()


def test_vae_auto_pairs_the_papers_vae_with_the_papers_base_model_only(
    lora_build, tiny_sd, train_args, tmp_path, capsys
):
    """--vae auto (the default): the paper's VAE with the paper's base model, the base model's own
    VAE otherwise (a local base model trains without reaching the Hub); a VAE that cannot be had
    is one line that suggests --vae base."""
    from rdface_hf.generate.lora.config import DEFAULT_BASE_MODEL, DEFAULT_VAE, TrainLoraConfig

    paper = TrainLoraConfig(dataset=str(lora_build), output_dir=str(tmp_path / "x"))
    assert paper.vae == "auto" and paper.vae_spec == DEFAULT_VAE and paper.base_model == DEFAULT_BASE_MODEL
    local = TrainLoraConfig(dataset=str(lora_build), output_dir=str(tmp_path / "x"), base_model=str(tiny_sd))
    assert local.vae_spec == "base" and local.own_vae
    chosen = TrainLoraConfig(
        dataset=str(lora_build), output_dir=str(tmp_path / "x"), base_model=str(tiny_sd), vae="a/b"
    )
    assert chosen.vae_spec == "a/b" and not chosen.own_vae

    out = tmp_path / "auto"
    args = [a for a in train_args(output_dir=out, max_train_steps=1, conditions="AAS") if a not in ("--vae", "base")]
    assert main(args) == 0, capsys.readouterr().err
    assert json.loads((out / "adapters.json").read_text())["vae"] == "base"

    assert main([*train_args(output_dir=tmp_path / "bad", vae=str(tmp_path / "no-vae"))]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if "error" in line]
    assert len(err) == 1 and "VAE" in err[0] and "--vae base" in err[0], err
    empty = tmp_path / "empty-vae"
    empty.mkdir()
    assert main([*train_args(output_dir=tmp_path / "bad2", vae=str(empty))]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if "error" in line]
    assert len(err) == 1 and "cannot load the VAE" in err[0] and "--vae base" in err[0], err


def test_overwrite_keeps_a_users_file_and_a_rebuilt_dataset_is_not_resumed(
    make_lora_build, train_args, tmp_path, capsys, user_file_survives, input_change_refused
):
    import shutil

    build = make_lora_build(tmp_path / "d" / "rdface")
    argv = [*train_args(output_dir=tmp_path / "o", conditions="BBS", max_train_steps=2), "--dataset", str(build)]
    assert main(argv) == 0
    user_file_survives(argv, tmp_path / "o", capsys)
    shutil.rmtree(build)
    make_lora_build(build, poison_test=True)
    input_change_refused(argv, capsys, "dataset")


def test_report_to_tensorboard_logs_each_conditions_loss(train_args, tmp_path, tensorboard_run, capsys):
    """--report-to tensorboard, offline: every condition's loss, the mean loss, the learning rate and
    throughput, over the steps of every group; the config as hyperparameters."""
    out = tmp_path / "tracked"
    argv = [*train_args(output_dir=out, conditions="AAS,BBS", conditions_per_batch=1, max_train_steps=2)]
    assert main([*argv, "--report-to", "tensorboard", "--run-name", "first"]) == 0, capsys.readouterr().err
    assert (out / "logs" / "first").is_dir()
    scalars, _, _ = tensorboard_run(out)
    assert [s for s, _ in scalars["train/loss/AAS"]] == [2] and [s for s, _ in scalars["train/loss/BBS"]] == [4]
    assert [s for s, _ in scalars["train/loss"]] == [2, 4]
    assert all(v > 0 for _, v in scalars["train/loss"]) and scalars["train/samples_per_second"][0][1] > 0
    assert scalars["train/learning_rate"][0][1] == pytest.approx(0.01)
    hparams = next((out / "logs").rglob("hparams.yml")).read_text()
    assert "rank: 4" in hparams and str(tmp_path) not in hparams
