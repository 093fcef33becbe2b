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


def test_importing_the_cli_imports_no_heavy_library():
    """`rdface --help` starts fast: no stage, model or dataset library is imported with the CLI."""
    heavy = ("torch", "transformers", "datasets", "diffusers", "mediapipe")
    code = f"import sys, rdface_hf.cli; print(','.join(m for m in {heavy!r} if m in sys.modules))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == ""


def test_top_level_help_imports_no_command_page():
    code = (
        "import sys\nfrom rdface_hf import cli\ntry:\n    cli.main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print('LOADED:' + ','.join(m for m in sys.modules\n"
        "    if m.startswith('rdface_hf.commands.') or m.endswith('.config')))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "simulate" in proc.stdout and proc.stdout.strip().splitlines()[-1] == "LOADED:"


def test_a_bad_flag_names_the_command(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["simulate", "out", "--bad-flag"])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("rdface simulate: error:") and "--bad-flag" in err[0]


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_switches_read_as_switches(command, capsys):
    """A bool flag takes no value in --help (no `--overwrite [OVERWRITE]`); `--no-progress` does not say
    it shows progress bars."""
    with pytest.raises(SystemExit):
        main([command, "--help"])
    out = capsys.readouterr().out
    assert "[OVERWRITE]" not in out and "[PROGRESS]" not in out and "{True,False}" not in out
    for line in out.splitlines():
        if "--no-progress" in line:
            assert "show progress" not in line


def test_many_flags_are_grouped_in_help(capsys):
    with pytest.raises(SystemExit):
        main(["train-classifier", "--help"])
    out = capsys.readouterr().out
    for group in ("inputs:", "outputs:", "training:", "Hub:", "performance:"):
        assert f"\n{group}\n" in out, group


@pytest.mark.parametrize(
    ("argv", "field", "value"),
    [
        (["simulate", "--output-dir", "o"], "out", "o"),
        (["simulate", "o"], "out", "o"),
        (["build", "raw", "--output-dir", "o"], "out", "o"),
        (["build", "raw", "o"], "out", "o"),
        (["build", "raw", "o", "--landmarker", "m.task"], "landmarker_model", "m.task"),
        (["build", "raw", "o", "--landmarker-model", "m.task"], "landmarker_model", "m.task"),
        (["build", "raw", "o", "--face-landmarker", "m.task"], "landmarker_model", "m.task"),
        (
            ["filter", "--dataset", "d", "--synthetic", "s", "--output-dir", "o", "--landmarker", "m"],
            "face_landmarker",
            "m",
        ),
        (
            ["filter", "--dataset", "d", "--synthetic", "s", "--output-dir", "o", "--face-landmarker", "m"],
            "face_landmarker",
            "m",
        ),
        (
            ["filter", "--dataset", "d", "--synthetic", "s", "--output-dir", "o", "--landmarker-model", "m"],
            "face_landmarker",
            "m",
        ),
        (["report", "--output-dir", "o", "--dataset", "d", "--landmarker", "m"], "landmarker", "m"),
        (["report", "--output-dir", "o", "--dataset", "d", "--face-landmarker", "m"], "landmarker", "m"),
        (["report", "--output-dir", "o", "--dataset", "d", "--landmarker-model", "m"], "landmarker", "m"),
        (["train-lora", "--dataset", "d", "--output-dir", "o", "--token", "t"], "hub_token", "t"),
        (["train-lora", "--dataset", "d", "--output-dir", "o", "--hub-token", "t"], "hub_token", "t"),
        (["train-lora", "--dataset", "d", "--output-dir", "o", "--hub_token", "t"], "hub_token", "t"),
        (["train-classifier", "--dataset", "d", "--output-dir", "o", "--token", "t"], "token", "t"),
        (["probe", "--dataset", "d", "--output-dir", "o", "--token", "t"], "token", "t"),
        (["publish", "b", "--repo-id", "org/name", "--token", "t"], "token", "t"),
        (["train-classifier", "--dataset", "d", "--output_dir", "o"], "output_dir", "o"),
    ],
)
def test_every_spelling_reaches_the_same_field(argv, field, value, monkeypatch, tmp_path):
    """One spelling per concept (--output-dir, --landmarker, --token); the old spellings stay aliases."""
    from rdface_hf import cli

    (tmp_path / "m").write_bytes(b"a file")  # a landmarker path some configs check exists
    argv = [str(tmp_path / "m") if a == "m" else a for a in argv]
    value = str(tmp_path / "m") if value == "m" else value
    seen = []
    monkeypatch.setattr(cli.command(argv[0]), "run", lambda config: seen.append(config) or 0)
    assert main(argv) == 0
    assert getattr(seen[0], field) == value


def test_output_folder_given_twice_differently_is_refused(capsys):
    assert main(["simulate", "a", "--output-dir", "b"]) == 2
    assert (
        capsys.readouterr().err.strip()
        == "rdface simulate: error: OUT and --output-dir name different folders: give one"
    )
    assert main(["simulate"]) == 2
    assert "OUT is required (as OUT or --output-dir)" in capsys.readouterr().err
