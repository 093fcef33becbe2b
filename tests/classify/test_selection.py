"""Model selection as published: the saved weights are the selected epoch's, the summary SD is
the sample SD. Each test fails when the protocol is broken on purpose (benchmarks/mutation_check.py)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rdface_hf.cli import main


def test_saved_weights_are_the_selected_epochs_not_the_last(colour_dataset, tmp_path, train_args, monkeypatch):
    """Only the first epoch is "best" on validation: the saved model must be that epoch's weights,
    which later epochs have moved away from."""
    from transformers import AutoModelForImageClassification

    import rdface_hf.classify.classifier as classifier
    import rdface_hf.classify.state as state
    import rdface_hf.classify.train as train

    copies, final = [], {}
    original_copy, original_run = train.cpu_copy, classifier.run_epochs

    def recording_copy(weights):
        copies.append(original_copy(weights))
        return copies[-1]

    def recording_run(*args, **kwargs):
        model, progress, best = original_run(*args, **kwargs)
        final.update(original_copy(model.state_dict()))
        return model, progress, best

    monkeypatch.setattr(state.Progress, "improves", lambda self, top_1, loss: self.best_epoch < 0)
    monkeypatch.setattr(train, "cpu_copy", recording_copy)
    monkeypatch.setattr(classifier, "run_epochs", recording_run)
    out = tmp_path / "run"
    assert main(train_args(colour_dataset, out, "--fold", "0")) == 0
    fold = out / "fold_0"
    assert json.loads((fold / "results.json").read_text())["best_epoch"] == 1  # epochs count from 1
    best = copies[-1]  # the copy taken when the first epoch was selected (nothing after it improved)
    saved = AutoModelForImageClassification.from_pretrained(fold).state_dict()
    shared = [k for k in saved if k in best]
    assert len(shared) >= len(saved) - 1, "the reloaded model has the trained model's state-dict names"
    assert any(not np.array_equal(final[k].float().numpy(), best[k].float().numpy()) for k in shared), (
        "the control: the last epoch's weights differ from the selected epoch's"
    )
    for k in shared:
        assert np.array_equal(saved[k].float().numpy(), best[k].float().numpy()), k


def test_summary_sd_is_the_sample_sd():
    from rdface_hf.classify.scoring import aggregate, summary_row

    values = [0.1, 0.4, 0.7]
    assert aggregate(values)["sd"] == pytest.approx(np.std(values, ddof=1))
    assert aggregate(values)["sd"] == pytest.approx(0.3)  # by hand: sqrt((0.09 + 0 + 0.09) / 2)
    assert aggregate([0.5])["sd"] == 0.0
    folds = {k: {"validation": {"top_1": v}, "test": {"top_1": v}} for k, v in enumerate((0.2, 0.4))}
    row = summary_row("m", folds)
    assert row["test"]["top_1"]["sd"] == pytest.approx(np.sqrt(0.02)), "two folds: |a - b| / sqrt(2)"
