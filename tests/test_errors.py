"""One error line stays short, whatever the message quotes (issue 17 §5)."""

from __future__ import annotations

from rdface_hf._errors import MAX_ERROR_CHARS, one_line
from rdface_hf.cli import main


def test_one_line_collapses_and_caps():
    assert one_line("a\nb\t c") == "a b c"
    long = "start " + "x" * 10_000_000 + "\n" * 5 + " end"
    out = one_line(long)
    assert len(out) <= MAX_ERROR_CHARS and out.startswith("start ") and out.endswith(" end") and "\n" not in out
    assert "characters in all" in out


def test_the_cli_prints_one_short_line(tmp_path, capsys):
    huge = str(tmp_path / ("n" * 200)) + "/" + "y" * 200 + "\nsecond line"
    assert main(["filter", "--dataset", huge, "--synthetic", huge, "--output-dir", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and len(err) <= MAX_ERROR_CHARS + 1, err


def test_seeds_beyond_int64_are_one_line(tmp_path, capsys):
    for seed in (str(2**63), str(10**40), "-1"):
        code = main(["simulate", str(tmp_path / "o"), "--seed", seed])
        err = capsys.readouterr().err.strip().splitlines()
        assert code == 2 and len(err) == 1 and "seed" in err[0], err
        assert "9223372036854775807" in err[0] or "2**63-1" in err[0], err  # the bound is named
        assert not (tmp_path / "o").exists()
