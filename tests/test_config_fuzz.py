"""Wrong-typed values for every field of every command's config, through --config:
exit 2 with one line on stderr, never a traceback (a seeded table, plus hostile YAML)."""

from __future__ import annotations

import dataclasses
import json
import random
import typing

import pytest

from rdface_hf import cli
from rdface_hf._config import RUN_TIME_SWITCHES
from rdface_hf._values import field_types

# Wrong values per field type, written as YAML (JSON is YAML too).
WRONG = {
    bool: ["1", "'yes'", "[true]", "{a: 1}", "1.5", "2024-01-01", "!!binary aGVsbG8="],
    int: ["1.5", "'3'", "true", "[1]", "18446744073709551616", "-9223372036854775809", "!!set {a}", "2024-01-01"],
    float: ["'x'", "true", "[0.1]", "{a: 1}", "!!binary aGVsbG8=", "2024-01-01 10:00:00"],
    str: ["[a]", "{a: b}", "true", "1.5", "!!set {a, b}", "!!binary aGVsbG8=", "2024-01-01", "[[[[[[x]]]]]]"],
}
HOSTILE = [
    "[" * 5000 + "]" * 5000,
    "&a [x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\nc: [*b, *b, *b, *b, *b, *b, *b, *b, *b]",
    "? [1, 2]\n: 3",
    "x" * (2 << 20),
    "{1: 2}",
    "!!python/object:os.system {}",
]


def _plain(annotation):
    if typing.get_origin(annotation) in (typing.Union, __import__("types").UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return args[0]
    return annotation


def _valid(field, annotation) -> str:
    plain = _plain(annotation)
    if typing.get_origin(plain) is typing.Literal:
        return json.dumps(typing.get_args(plain)[0])
    if "repo" in field.name or "hub" in field.name:
        return '"org/name"'
    return {bool: "false", int: "1", float: "0.5"}.get(plain, '"x"')


def _required(config) -> dict[str, str]:
    hints = field_types(config)
    return {
        f.name: _valid(f, hints[f.name])
        for f in dataclasses.fields(config)
        if f.init and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    }


def _run(name, text, tmp_path, capsys):
    path = tmp_path / "c.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        code = cli.main([name, "--config", str(path)])
    except SystemExit as exc:
        code = exc.code
    err = capsys.readouterr().err.strip().splitlines()
    return code, err


@pytest.fixture
def nothing_runs(monkeypatch):
    for name in cli.COMMANDS:
        monkeypatch.setattr(cli.command(name), "run", lambda config: pytest.fail(f"ran with {config}"))


@pytest.mark.parametrize("name", sorted(cli.COMMANDS))
def test_wrong_typed_config_values_are_one_line(name, tmp_path, capsys, nothing_runs):
    config = cli.command(name).CONFIG
    hints = field_types(config)
    base = _required(config)
    rng = random.Random(f"{name}-18")
    failures = []
    # run-time switches (--overwrite) are never read from a config file: dropped with a note, not checked
    for field in (f for f in dataclasses.fields(config) if f.init and f.name not in RUN_TIME_SWITCHES):
        plain = _plain(hints[field.name])
        table = WRONG.get(plain) or ["'not-a-choice'", "[1]", "{a: 1}", "3.5"]  # Literal
        values = rng.sample(table, k=min(5, len(table)))
        for value in values:
            text = "\n".join(f"{k}: {v}" for k, v in {**base, field.name: value}.items())
            code, err = _run(name, text, tmp_path, capsys)
            if code != 2 or len(err) != 1 or not err[0].startswith(f"rdface {name}: error:"):
                failures.append((field.name, value, code, err[-3:]))
    assert not failures, failures[:5]


@pytest.mark.parametrize("text", HOSTILE, ids=["deep", "aliases", "complex-key", "huge", "int-key", "python-tag"])
def test_hostile_yaml_is_refused_in_one_line(text, tmp_path, capsys, nothing_runs):
    code, err = _run("train-classifier", text, tmp_path, capsys)
    assert code == 2 and len(err) == 1 and err[0].startswith("rdface train-classifier: error:"), err[-3:]


def test_a_right_typed_config_still_builds(tmp_path, capsys, monkeypatch):
    seen = []
    monkeypatch.setattr(cli.command("generate"), "run", lambda config: seen.append(config) or 0)
    path = tmp_path / "c.yaml"
    path.write_text("generator: morph\ndataset: d\noutput_dir: o\nfold: 0\nseed: 3\n", encoding="utf-8")
    assert cli.main(["generate", "--config", str(path)]) == 0
    assert seen[0].fold == "0" and seen[0].seed == 3


REFUSED_FOLDS = ["٠", " 0", "0 ", "TEST", "ALL", "00", "01", "-1", "20", "1e0", "", "+1", "٣"]


@pytest.mark.parametrize(
    ("name", "word", "other"),
    [
        ("train-classifier", "all", "test"),
        ("probe", "all", "test"),
        ("train-lora", "test", "all"),
        ("train-fastgan", "test", "all"),
        ("filter", "test", "all"),
        ("merge", "test", "all"),
        ("report", "test", "all"),
    ],
)
def test_fold_values_are_checked_strictly_in_one_place(name, word, other, monkeypatch, capsys):
    """`all` (every fold in turn) and `test` (every non-test image) each where it fits; fold numbers in
    ASCII digits, no spaces, no leading zeros, within range."""
    seen = []
    monkeypatch.setattr(cli.command(name), "run", lambda config: seen.append(config.fold) or 0)
    base = {"report": ["--output-dir", "o", "--dataset", "d"]}.get(name, ["--dataset", "d", "--output-dir", "o"])
    if name in ("filter", "merge"):
        base += ["--synthetic", "s"]
    for good in (word, "0", "7", "19"):
        assert cli.main([name, *base, "--fold", good]) == 0, (good, capsys.readouterr().err)
    assert seen == [word, "0", "7", "19"]
    for bad in [*REFUSED_FOLDS, other]:
        assert cli.main([name, *base, "--fold", bad]) == 2, bad
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith(f"rdface {name}: error: --fold must be"), (bad, err)
