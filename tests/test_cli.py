"""The command line: every command has --help; errors are one line, exit 2."""

from __future__ import annotations

import subprocess
import sys

import pytest

from rdface_hf.cli import COMMANDS, main


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as exc:
        main([command, "--help"])
    assert exc.value.code == 0
    assert f"rdface {command}" in capsys.readouterr().out


def test_unknown_command_one_line(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["fly"])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "invalid choice" in err[0]


def test_python_dash_m_entry_point(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "rdface_hf.cli", "build", str(tmp_path / "missing"), str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [f"rdface build: error: no such folder: {tmp_path / 'missing'}"]


def test_repo_id_that_is_neither_folder_nor_repo(capsys):
    from rdface_hf._errors import InputError
    from rdface_hf.dataset import load_rdface

    with pytest.raises(InputError, match="not a Hub repo id"):
        load_rdface("no_such_folder_anywhere")


@pytest.mark.parametrize(
    "argv",
    [
        ["train-classifier", "--dataset", "D", "--output-dir", "O", "--push-to-hub", "org/bad name!"],
        ["train-lora", "--dataset", "D", "--output-dir", "O", "--push-to-hub", "org/na--me"],
        ["train-fastgan", "--dataset", "D", "--output-dir", "O", "--push-to-hub", "org/bad name!"],
        ["publish", "D", "--repo-id", "org/bad name!"],
    ],
)
def test_a_repo_id_the_hub_refuses_is_refused_before_any_work(argv, tmp_path, capsys):
    """Checked with the Hub's own rules up front, not after hours of training when the push fails."""
    out = tmp_path / "out"
    argv = [str(tmp_path / "missing") if a == "D" else str(out) if a == "O" else a for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "ORG/NAME, got" in err[0] and "--" in err[0], err
    assert not out.exists()
