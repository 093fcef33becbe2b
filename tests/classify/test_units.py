"""Pieces of the training loop: the saved state, augmentation, the schedule, the image bank."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest
import torch


def _model_and_optimizer():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-4)
    for _ in range(3):
        loss = model(torch.randn(5, 4)).sum()
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    return model, optimizer


def test_training_state_round_trip_is_safetensors_and_json(tmp_path):
    from rdface_hf.classify.state import Progress, load_state, remove_state, save_state
    from rdface_hf.classify.train import cosine_with_warmup

    model, optimizer = _model_and_optimizer()
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, cosine_with_warmup(10, 0, 0.01))
    optimizer.step()
    scheduler.step()
    progress = Progress(epoch=2, best_epoch=1, best_top_1=0.5, best_loss=1.25, log=[{"epoch": 0}])
    best = {k: v * 2 for k, v in model.state_dict().items()}
    save_state(
        tmp_path,
        model_state=model.state_dict(),
        best_state=best,
        optimizer=optimizer,
        scheduler=scheduler,
        progress=progress,
    )
    folder = tmp_path / "checkpoint"
    assert sorted(p.name for p in folder.iterdir()) == ["training_state.json", "training_state.safetensors"]
    saved = load_state(tmp_path)
    assert saved.progress == progress
    for key, value in model.state_dict().items():
        assert torch.equal(saved.model_state[key], value) and torch.equal(saved.best_state[key], best[key])
    _, fresh_optimizer = _model_and_optimizer()
    fresh_optimizer.load_state_dict(saved.optimizer)
    for a, b in zip(fresh_optimizer.state_dict()["state"].values(), optimizer.state_dict()["state"].values()):
        assert all(torch.equal(torch.as_tensor(a[k]), torch.as_tensor(b[k])) for k in b)
    assert saved.scheduler["last_epoch"] == scheduler.state_dict()["last_epoch"]
    info = json.loads((folder / "training_state.json").read_text())
    info["token"] = "another"
    (folder / "training_state.json").write_text(json.dumps(info))
    assert load_state(tmp_path) is None, "tensors and JSON of two different saves are refused"
    remove_state(tmp_path)
    assert not folder.exists() and load_state(tmp_path) is None


def test_progress_prefers_top_1_then_lower_loss():
    from rdface_hf.classify.state import Progress

    progress = Progress()
    assert progress.improves(0.0, 9.0), "the first epoch always"
    progress.best_epoch, progress.best_top_1, progress.best_loss = 0, 0.5, 1.0
    assert progress.improves(0.6, 5.0) and progress.improves(0.5, 0.9)
    assert not progress.improves(0.5, 1.0) and not progress.improves(0.4, 0.1)


def test_cosine_schedule_runs_from_one_to_the_floor():
    from rdface_hf.classify.train import cosine_with_warmup

    factor = cosine_with_warmup(100, 10, 0.01)
    assert factor(0) == pytest.approx(0.1) and factor(9) == pytest.approx(1.0)
    assert factor(10) == pytest.approx(1.0) and factor(100) == pytest.approx(0.01)
    assert factor(55) == pytest.approx(0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * 0.5)))
    values = [factor(s) for s in range(10, 101)]
    assert all(a >= b for a, b in itertools.pairwise(values))


def test_augmentation_keeps_shape_and_range_and_follows_the_seed():
    from rdface_hf.classify.augment import augment_batch

    pixels = torch.randint(0, 256, (6, 3, 16, 16), dtype=torch.uint8)
    torch.manual_seed(3)
    a = augment_batch(pixels)
    torch.manual_seed(3)
    b = augment_batch(pixels)
    assert a.shape == (6, 3, 16, 16) and a.dtype == torch.float32
    assert torch.equal(a, b) and float(a.min()) >= 0 and float(a.max()) <= 1
    assert not torch.allclose(a, pixels.float() / 255), "it does change the images"


def test_image_bank_decodes_each_id_once(colour_dataset, monkeypatch):
    import rdface_hf.classify.images as images
    from rdface_hf.dataset import RDFaceDataset

    calls = []
    original = images.decode_images

    def counting(ds, processor, **kw):
        calls.append(len(ds))
        return original(ds, processor, **kw)

    monkeypatch.setattr(images, "decode_images", counting)
    bank = images.ImageBank(images.make_processor(16, (0.5,) * 3, (0.5,) * 3), progress=False)
    data = RDFaceDataset(colour_dataset)
    bank.add(data.fold(0)["train"], desc="train")
    bank.add(data.fold(1)["train"], desc="train")  # shares the always-train images
    bank.add(data.test, desc="test")
    ids = data.image_ids(data.test)
    assert sum(calls) == 24 + 8 and bank.take(ids).shape == (8, 3, 16, 16)
    assert bank.take(ids).dtype == torch.uint8
    processor = images.make_processor(16, (0.5,) * 3, (0.5,) * 3)
    reference = processor(data.test[0]["image"].convert("RGB"), return_tensors="pt")["pixel_values"][0]
    mean, std = images.channel_stats(processor, "cpu")
    ours = images.normalise(bank.take(ids[:1]), mean, std)[0]
    assert np.allclose(ours.numpy(), reference.numpy(), atol=1e-5), "what the saved processor gives pipeline()"


def test_gpu_benchmark_script_smoke(capsys):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "benchmarks" / "gpu_classifier.py"
    spec = importlib.util.spec_from_file_location("gpu_classifier", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--smoke"]) == 0
    figures = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert figures["smoke"] is True and figures["folds"] == 2 and figures["anchor_images_per_s"] == 2509
    assert figures["train_images_per_s"] > 0 and figures["five_fold_seconds"] > 0


def test_one_fold_prints_no_spread():
    from rdface_hf.classify.scoring import aggregate, percent, summary_markdown, summary_row

    assert percent(aggregate([0.5])) == "50.00"
    assert percent(aggregate([0.5, 0.7])) == "60.00 ± 14.14"
    one = summary_row("m", {0: {"test": {"top_1": 0.25}}})
    table = summary_markdown([one], title="t", caption="c")
    assert "| m | 25.00 |" in table and "25.00 ±" not in table


def test_a_png_bomb_in_a_training_set_is_one_line_not_gigabytes(png_header_only):
    """The classifier and the probe decode under the builder's limits (50 megapixels)."""
    import datasets

    from rdface_hf._errors import InputError
    from rdface_hf.classify.images import decode_images, make_processor

    ds = datasets.Dataset.from_dict(
        {"image": [{"bytes": png_header_only(20_000, 20_000), "path": None}]},
        features=datasets.Features({"image": datasets.Image()}),
    )
    with pytest.raises(InputError, match="row 0"):
        decode_images(ds, make_processor(32, (0.5, 0.5, 0.5), (0.5, 0.5, 0.5)), progress=False)
