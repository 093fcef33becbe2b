"""Configs make the CLI: one source of defaults and help, --config FILE, flags named in errors,
and a saved config that reruns the same work."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os

import pytest

from rdface_hf import cli
from rdface_hf._config import ConfigError
from rdface_hf._errors import InputError
from rdface_hf.dataset.builder import BuildConfig
from rdface_hf.sim import SimConfig


def tree_digest(root) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


@pytest.fixture
def captured(monkeypatch):
    """Replace every command's run with one that records the config it was given."""
    seen = []
    for name in cli.COMMANDS:
        monkeypatch.setattr(cli.command(name), "run", lambda config, seen=seen: seen.append(config) or 0)
    return seen


@pytest.mark.parametrize("name", sorted(cli.COMMANDS))
def test_flag_defaults_are_the_config_defaults(name):
    """No hand-copied defaults: every optional flag's default is the dataclass field's."""
    _, subparsers = cli.build_parser([name])
    parser, config = subparsers[name], cli.command(name).CONFIG
    shown = "".join(parser.format_help().split())
    for field in dataclasses.fields(config):
        assert "".join(field.metadata["help"].split()) in shown, (
            name,
            field.name,
            "help text shown once, from the config",
        )
        if field.default is not dataclasses.MISSING and not field.metadata.get("positional"):
            assert parser.get_default(field.name) == field.default, (name, field.name)


def test_flags_and_positionals_build_the_config(captured, tmp_path):
    assert cli.main(["build", "raw", "out", "--test-fraction", "0.3", "--no-face-check", "--overwrite"]) == 0
    (config,) = captured
    assert isinstance(config, BuildConfig)
    assert (config.raw, config.out, config.test_fraction, config.face_check, config.overwrite) == (
        "raw", "out", 0.3, False, True
    )  # fmt: skip
    assert config.folds == 5 and config.seed == 42, "untouched fields keep the dataclass defaults"


@pytest.mark.parametrize(
    "argv, field",
    [
        (["build", "raw", "out", "--landmarker", "m.task"], "landmarker_model"),
        (["filter", "--dataset", "d", "--synthetic", "s", "--output-dir", "o", "--landmarker", "m.task"],
         "face_landmarker"),
        (["report", "--dataset", "d", "--output-dir", "o", "--landmarker", "m.task"], "landmarker"),
    ],
)  # fmt: skip
def test_every_landmark_command_takes_landmarker(captured, argv, field, tmp_path):
    """One name for the MediaPipe model across commands (a command may also keep its own)."""
    model = tmp_path / "m.task"
    model.write_bytes(b"model")
    assert cli.main([str(model) if a == "m.task" else a for a in argv]) == 0
    (config,) = captured
    assert getattr(config, field) == str(model)


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_config_file_with_flags_overriding_it(captured, tmp_path, suffix):
    path = tmp_path / f"settings{suffix}"
    values = {"test_fraction": 0.2, "folds": 3, "seed": 7}
    path.write_text(json.dumps(values) if suffix == ".json" else "test_fraction: 0.2\nfolds: 3\nseed: 7\n")
    assert cli.main(["build", "raw", "out", "--config", str(path), "--folds", "4"]) == 0
    (config,) = captured
    assert (config.test_fraction, config.folds, config.seed) == (0.2, 4, 7)


def test_config_file_may_supply_positionals(captured, tmp_path):
    path = tmp_path / "sim.yaml"
    path.write_text("out: somewhere\nconditions: 5\n")
    assert cli.main(["simulate", "--config", str(path)]) == 0
    assert (captured[0].out, captured[0].conditions) == ("somewhere", 5)


@pytest.mark.parametrize(
    "text, message",
    [
        ("nonsense_field: 1\n", "unknown field(s) ['nonsense_field']"),
        ("folds: [unclosed\n", "is not valid YAML"),
        ("- a list\n", "must hold a mapping"),
        ('{"stage": "simulate", "seed": 1}', "was saved by 'simulate', not by 'build'"),
    ],
)
def test_bad_config_files_are_one_line(tmp_path, capsys, text, message):
    path = tmp_path / ("bad.json" if text.startswith("{") else "bad.yaml")
    path.write_text(text)
    assert cli.main(["build", "raw", str(tmp_path / "out"), "--config", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err
    assert not (tmp_path / "out").exists()


def test_missing_config_file_is_one_line(tmp_path, capsys):
    assert cli.main(["build", "raw", "out", "--config", str(tmp_path / "nope.yaml")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot read config" in err[0]


def test_validation_names_the_field_and_the_cli_names_the_flag(tmp_path, capsys):
    with pytest.raises(ConfigError, match=r"^test_fraction must be in \(0, 0.5\]") as exc:
        BuildConfig(raw="r", out="o", test_fraction=0.9)
    assert exc.value.field == "test_fraction"
    assert cli.main(["build", "r", str(tmp_path / "o"), "--test-fraction", "0.9"]) == 2
    assert capsys.readouterr().err.strip() == "rdface build: error: --test-fraction must be in (0, 0.5], got 0.9"
    assert cli.main(["simulate", str(tmp_path / "o"), "--per-condition-mean", "9"]) == 2
    assert "--per-condition-mean must be between 1 and 7" in capsys.readouterr().err


def test_bad_flag_values_are_one_line(capsys):
    for argv in (["build", "r", "o", "--folds", "many"], ["build", "r"], ["generate", "--generator", "dalle"]):
        assert_exit_2(argv, capsys)


def assert_exit_2(argv, capsys):
    try:
        code = cli.main(argv)
    except SystemExit as exc:
        code = exc.code
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "error:" in err[0], err


def test_saved_configs_record_version_and_inputs(sim_build, sim_release):
    from rdface_hf import __version__

    built = json.loads((sim_build / "build_config.json").read_text())
    assert built["stage"] == "build" and built["provenance"]["rdface_hf_version"] == __version__
    assert len(built["provenance"]["inputs_sha256"]) == 64
    assert not {"raw", "out", "workers", "landmarker_model"} & set(built), "no local paths in a published file"
    simulated = json.loads((sim_release / "simulate_config.json").read_text())
    assert simulated["stage"] == "simulate" and simulated["provenance"]["rdface_hf_version"] == __version__
    with pytest.raises(InputError, match="was saved by 'build'"):
        SimConfig.load(sim_build / "build_config.json")


def test_a_saved_config_reruns_the_same_work(sim_release, sim_build, tmp_path, capsys):
    """`--config OUT/<stage>_config.json` reproduces the output byte for byte."""
    again = tmp_path / "raw2"
    assert cli.main(["simulate", "--config", str(sim_release / "simulate_config.json"), str(again)]) == 0
    assert tree_digest(again) == tree_digest(sim_release)
    rebuilt = tmp_path / "built2"
    argv = ["build", "--config", str(sim_build / "build_config.json"), str(sim_release), str(rebuilt)]
    assert cli.main([*argv, "--workers", "1", "--no-progress"]) == 0
    assert tree_digest(rebuilt) == tree_digest(sim_build)


@pytest.mark.parametrize(
    ("text", "ok"),
    [("org/name", True), ("org/my-model.v2", True), ("org/bad name!", False), ("org/na--me", False),
     ("name", False), ("a/b/c", False), ("org/", False), ("org/../x", False), ("", False), (None, False)],
)  # fmt: skip
def test_is_hub_repo_id_follows_the_hubs_rules(text, ok):
    from rdface_hf._config import is_hub_repo_id

    assert is_hub_repo_id(text) is ok


def _failing_run(config, out, write=()):
    from rdface_hf._config import open_run_dir

    with pytest.raises(InputError, match="no such model"), open_run_dir(config, out) as (folder, resumed):
        assert not resumed
        for name in write:
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_text("work")
        (folder / "data").mkdir(exist_ok=True)
        raise InputError("no such model")


def test_a_run_that_fails_before_any_output_leaves_no_folder(tmp_path):
    """open_run_dir: an error before anything but the owner marker was written removes the new
    folder, empties a folder the user made beforehand, and keeps a run's work to resume."""
    config = SimConfig(out=str(tmp_path / "unused"), conditions=2)
    _failing_run(config, tmp_path / "new")
    assert sorted(p.name for p in tmp_path.iterdir()) == []
    (tmp_path / "mine").mkdir()
    _failing_run(config, tmp_path / "mine")
    assert (tmp_path / "mine").is_dir() and not any((tmp_path / "mine").iterdir())
    _failing_run(config, tmp_path / "work", write=["data/part-0.parquet"])
    assert (tmp_path / "work" / "data" / "part-0.parquet").read_text() == "work"
    assert (tmp_path / "work" / config.config_file()).is_file()


def test_a_run_from_an_older_version_without_a_setting_is_not_resumed(tmp_path):
    """A saved config that lacks a setting this version has (added since) is refused, not resumed
    with the new setting's default, which may make rows another way than the saved ones."""
    import json

    from rdface_hf._config import open_run_dir

    config = SimConfig(out=str(tmp_path / "unused"), conditions=2)
    with open_run_dir(config, tmp_path / "run") as (folder, resumed):
        assert not resumed
        (folder / "part-0.txt").write_text("work")
    with open_run_dir(config, tmp_path / "run") as (folder, resumed):  # same settings: resumed
        assert resumed
    path = tmp_path / "run" / config.config_file()
    saved = json.loads(path.read_text())
    settings = saved.get("config", saved)
    settings.pop("difficulty")  # as an older version, before --difficulty existed, would have written it
    path.write_text(json.dumps(saved))
    with pytest.raises(InputError, match=r"other settings \(--difficulty\)"), open_run_dir(config, tmp_path / "run"):
        pass
    assert (tmp_path / "run" / "part-0.txt").read_text() == "work"


@pytest.mark.parametrize("kind", ["fifo", "folder", "huge"])
def test_a_config_that_is_not_a_small_regular_file_is_refused_unopened(tmp_path, capsys, kind):
    """A FIFO as --config would block the reader forever: refused before it is opened."""
    import threading

    from rdface_hf.cli import main

    path = tmp_path / "settings.yaml"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "folder":
        path.mkdir()
    else:
        path.write_text("seed: 1\n" + "# padding\n" * 200_000)
    result = []
    worker = threading.Thread(target=lambda: result.append(main(["simulate", str(tmp_path / "o"), "--config",
                                                                  str(path)])), daemon=True)  # fmt: skip
    worker.start()
    worker.join(timeout=30)
    assert result == [2], "refused at once, never blocked on the FIFO"
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and "settings.yaml" in err[0], err
    assert not (tmp_path / "o").exists()
