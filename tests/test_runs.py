"""The run folder shared by the processes of one launch (rdface_hf._runs), used by every trainer."""

from __future__ import annotations

import contextlib

import pytest

from rdface_hf import _runs
from rdface_hf._errors import InputError
from rdface_hf.classify.config import TrainClassifierConfig
from rdface_hf.generate.fastgan.config import TrainFastGANConfig
from rdface_hf.generate.lora.config import TrainLoraConfig


class FakeAccelerator:
    def __init__(self, main: bool, events: list[str]):
        self.num_processes, self.is_main_process, self.events = 2, main, events

    def wait_for_everyone(self):
        self.events.append("barrier")


@pytest.mark.parametrize("config_class", [TrainClassifierConfig, TrainLoraConfig, TrainFastGANConfig])
def test_no_process_looks_at_the_folder_while_the_main_one_makes_it(monkeypatch, tmp_path, config_class):
    """The race that a two-process run once lost: a slower process checked O while the main one
    was creating it, read a half-made folder as foreign, and exited with code 2. Every process
    checks O, then all pass a barrier, and only then does the main process create it; every
    process then works in the folder the main process opened (under --overwrite a sibling)."""
    events: list[str] = []

    @contextlib.contextmanager
    def fake_open(*args, **kwargs):
        events.append("open")
        yield tmp_path / ".out.partial-x", False

    def fake_share(accelerator, value):
        events.append("share")
        return value if accelerator.is_main_process else {"folder": str(tmp_path / ".out.partial-x"), "resumed": False}

    monkeypatch.setattr(_runs, "check_output_dir", lambda *a, **k: events.append("check"))
    monkeypatch.setattr(_runs, "open_run_dir", fake_open)
    monkeypatch.setattr(_runs, "share_json", fake_share)
    config = config_class(dataset=str(tmp_path), output_dir=str(tmp_path / "out"))
    for main, expected in (
        (True, ["check", "barrier", "open", "share", "barrier"]),
        (False, ["check", "barrier", "share", "barrier"]),
    ):
        events.clear()
        with _runs.shared_run_dir(config, FakeAccelerator(main, events)) as (folder, resumed):
            assert folder == tmp_path / ".out.partial-x" and not resumed
        assert events == expected


def test_an_error_on_the_main_process_is_the_same_line_everywhere(monkeypatch, tmp_path):
    @contextlib.contextmanager
    def refusing(*args, **kwargs):
        raise InputError("output folder O is not empty")
        yield  # pragma: no cover

    monkeypatch.setattr(_runs, "check_output_dir", lambda *a, **k: None)
    monkeypatch.setattr(_runs, "open_run_dir", refusing)
    monkeypatch.setattr(_runs, "share_json", lambda acc, value: {"error": "output folder O is not empty"})
    config = TrainLoraConfig(dataset=str(tmp_path), output_dir=str(tmp_path / "out"))
    for main in (True, False):
        with pytest.raises(InputError, match="not empty"), _runs.shared_run_dir(config, FakeAccelerator(main, [])):
            pass
